"""Repairing staged records DuckDB cannot read as they are, before a commit.

DuckDB compares names case-insensitively and reads JSON only so deep, so some records an
API sends cannot be read as one table without losing data:

- keys of one object that differ only in case (``Name`` and ``name``), in one record or on
  different pages: DuckDB keeps one of them per STRUCT (a nested ``{"K": 1, "k": 2}`` fails
  the read, a top-level pair became an all-NULL ``name_1``);
- an empty key ``""`` (DuckDB refuses the whole file);
- records that are not objects (an API answering ``[1, 2, 3]`` or a string);
- objects nested more than ~125 levels deep (DuckDB's limit is 128, counting the file's
  own levels).

:func:`repair` rewrites the staged files in Python (a slow path, taken only when DuckDB
could not read them or their names look renamed by DuckDB), keeping every value:

- of keys that differ only in case at one place of the records, the one spelled as the
  naming convention's column (``name``; under ``direct`` the first in code-point order)
  keeps its key; the others become ``<key>_2``, ``<key>_3``... (the next suffix no other
  key there has). The rule depends on the keys alone, not on which record came first;
- an empty or blank key becomes ``_empty`` (dlt's name for it), suffixed the same way if
  taken;
- a record that is not an object becomes ``{"value": record}``, as dlt and rest-assets' Python
  resources wrap scalars;
- the values found deeper than :data:`DEPTH_LIMIT` levels are stored as JSON text at the
  level where the limit is reached, in every record: that field becomes a JSON column.

Each change is reported as a note the load logs.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rest_assets.load.naming import EMPTY_KEY, Naming, normalize_key

# Levels of objects and lists below a record that stay objects: deeper values are stored as
# JSON text (DuckDB reads at most 128 levels, and needs some for its own structures).
DEPTH_LIMIT = 100

KeyPath = tuple[str, ...]
_SUFFIXED = re.compile(r"^(.+)_\d+$")


def looks_renamed(columns: Iterable[tuple[str, str]]) -> bool:
    """Whether DuckDB may have renamed a top-level key that differs from another one only in
    case (it names the second ``name_1``): then the files are checked in Python."""
    names = [n for n, _ in columns]
    lowered = {n.lower() for n in names}
    for name in names:
        match = _SUFFIXED.match(name)
        if match and match.group(1).lower() in lowered:
            return True
    return False


def is_repairable(reason: str | None) -> bool:
    """Whether DuckDB's reason for not reading the files is one :func:`repair` removes."""
    if reason is None:
        return True
    text = reason.lower()
    return any(
        marker in text
        for marker in ("duplicate name", "expected records", "recursion depth", "non-record")
    )


@dataclass
class Repaired:
    """Staged files rewritten by :func:`repair` (in a directory of their own)."""

    directory: Path
    files: list[Path]
    file_rows: list[tuple[Path, int]]
    json_paths: set[KeyPath] = field(default_factory=set)  # fields now holding JSON text
    notes: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class _Scan:
    """What the first pass found: the keys at each place of the records."""

    keys: dict[KeyPath, set[str]] = field(default_factory=dict)
    deep: set[KeyPath] = field(default_factory=set)
    scalars: int = 0


def repair(
    files: Sequence[Path],
    *,
    naming: Naming,
    exact: Iterable[Path] = (),
    table: str = "",
) -> Repaired | None:
    """Rewrite staged JSON-array files so DuckDB reads every value (see the module); None
    when nothing needed a change. ``exact`` files hold integers beyond 64 bits and are
    parsed (and written) with the standard library, which keeps them exact."""
    exact_files = {Path(p) for p in exact}
    scan = _Scan()
    for path in files:
        for record in _read(path, path in exact_files):
            if isinstance(record, dict):
                _scan(record, (), 0, scan)
            else:
                scan.scalars += 1
    renames, notes = _renames(scan.keys, naming, table)
    if not renames and not scan.deep and not scan.scalars:
        return None
    if scan.scalars:
        notes.append(
            f"{table}: {scan.scalars:,} record(s) that are not objects were stored as "
            '{"value": record}'
        )
    if scan.deep:
        shown = ", ".join(sorted(_short(p) for p in scan.deep)[:3])
        notes.append(
            f"{table}: values nested deeper than {DEPTH_LIMIT} levels are stored as JSON text "
            f"at: {shown}"
        )
    directory = Path(tempfile.mkdtemp(prefix="rest_assets_repair_"))
    out = Repaired(directory, [], [], set(scan.deep), notes)
    for n, path in enumerate(files):
        records = [
            _rewrite(r, (), 0, renames, scan.deep) if isinstance(r, dict) else {"value": r}
            for r in _read(path, path in exact_files)
        ]
        target = directory / f"repaired-{n:06d}.json"
        target.write_bytes(_dump(records, path in exact_files))
        out.files.append(target)
        out.file_rows.append((target, len(records)))
    return out


def _short(path: KeyPath) -> str:
    shown = ".".join(path[:3])
    return f"{shown}... ({len(path)} keys deep)" if len(path) > 3 else shown


def _read(path: Path, exact: bool) -> list[Any]:
    data = path.read_bytes()
    loaded = json.loads(data) if exact else orjson.loads(data)
    return loaded if isinstance(loaded, list) else [loaded]


def _dump(records: list[Any], exact: bool) -> bytes:
    if not exact:
        try:
            return orjson.dumps(records)
        except TypeError:
            pass
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()


def _scan(value: Any, path: KeyPath, depth: int, scan: _Scan) -> None:
    if isinstance(value, dict):
        if depth >= DEPTH_LIMIT:
            scan.deep.add(path)
            return
        scan.keys.setdefault(path, set()).update(value)
        for key, item in value.items():
            _scan(item, (*path, key), depth + 1, scan)
    elif isinstance(value, list):
        if depth >= DEPTH_LIMIT:
            scan.deep.add(path)
            return
        for item in value:
            _scan(item, path, depth + 1, scan)  # list items are rows of a child table


def _renames(
    keys: dict[KeyPath, set[str]], naming: Naming, table: str
) -> tuple[dict[KeyPath, dict[str, str]], list[str]]:
    """For each place of the records, the keys to rename there and to what."""
    renames: dict[KeyPath, dict[str, str]] = {}
    notes: list[str] = []
    for path, found in keys.items():
        groups: dict[str, list[str]] = {}
        for key in found:
            spelled = key if key.strip() else EMPTY_KEY
            groups.setdefault(spelled.lower(), []).append(key)
        taken = set(groups)
        moved: dict[str, str] = {}
        for members in groups.values():
            blank = [k for k in members if not k.strip()]
            if len(members) == 1 and not blank:
                continue
            ordered = _keeper_first(members, naming)
            if ordered[0].strip():
                rest = ordered[1:]
            else:  # "" itself: it takes the name _empty when free
                moved[ordered[0]] = EMPTY_KEY
                rest = ordered[1:]
            base = ordered[0] if ordered[0].strip() else EMPTY_KEY
            for key in rest:
                n = 2
                while f"{base}_{n}".lower() in taken:
                    n += 1
                moved[key] = f"{base}_{n}"
                taken.add(moved[key].lower())
        if moved:
            renames[path] = moved
            where = ".".join(path) or "the records"
            shown = ", ".join(f"{k!r} -> {v!r}" for k, v in sorted(moved.items()))
            notes.append(
                f"{table}: keys that differ only in case (or are blank) in {where}: {shown}"
            )
    return renames, notes


def _keeper_first(keys: list[str], naming: Naming) -> list[str]:
    """The key that keeps its spelling first: the one already in the convention's form,
    else the first in code-point order; then the others in code-point order."""
    ordered = sorted(keys, key=lambda k: (not k.strip(), k))
    if naming == "snake_case":
        ordered.sort(key=lambda k: normalize_key(k, naming) != k)
    return ordered


def _rewrite(
    value: Any,
    path: KeyPath,
    depth: int,
    renames: dict[KeyPath, dict[str, str]],
    deep: set[KeyPath],
) -> Any:
    if isinstance(value, dict | list) and depth >= DEPTH_LIMIT and path in deep:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dict):
        moved = renames.get(path, {})
        return {
            moved.get(k, k): _rewrite(v, (*path, k), depth + 1, renames, deep)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, path, depth + 1, renames, deep) for v in value]
    return value
