"""Stage record batches on local disk, one JSON file per batch, for one DuckDB commit later.

Format choice, measured on this machine (200k records of 12 fields incl. a nested object, a
nested list and a nullable field; 4 batches of 50k; DuckDB 2.0.1, orjson, 2 cores):

=================  ========================================  ===============================
format             write (Python)                            DuckDB ``read_json`` (all rows
                                                             sampled, ``union_by_name``)
=================  ========================================  ===============================
JSON array         0.30 s  (one ``orjson.dumps(batch)``)     0.74-0.91 s
NDJSON             1.30 s  (``b"\\n".join(map(dumps, ...)))``  0.56 s
=================  ========================================  ===============================

DuckDB reads NDJSON about 0.2-0.3 s faster, but orjson can only emit NDJSON one record at a
time, which costs a Python loop and ~1 s more: the JSON array is faster end to end
(~1.1 s vs ~1.9 s), so each batch is one JSON array written by a single ``orjson.dumps`` call.

While batches arrive, a :class:`~rest_assets.load.probe.SchemaProbe` infers the files'
DuckDB schema in the background, so the commit can usually read them without inferring again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from rest_assets.load.probe import SchemaProbe


def _default(value: Any) -> Any:
    # orjson handles datetime, UUID, dataclasses natively; Decimal, sets, bytes etc. land here.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # as orjson writes them (the standard library's fallback)
    return str(value)


def _dump_exact(records: Sequence[Mapping[str, Any]]) -> bytes:
    """The standard library's JSON, for what orjson refuses: integers beyond 64 bits (kept
    exact) and nesting deeper than 255 levels."""
    return json.dumps(records, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


class StagingArea:
    """A directory of staged batches: ``write(records)`` adds one JSON-array file per batch.

    Nothing is kept in memory after a write but the file paths and the counter ``rows``.
    Without a directory a private temporary one is created (and
    removed by :meth:`cleanup`); with one, only the files this area wrote are removed.
    Used as a context manager, it cleans up on exit. With ``infer_schema`` (the default) the
    files' DuckDB schema is inferred in the background while batches arrive; see
    :meth:`inferred_columns`.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        infer_schema: bool = True,
    ) -> None:
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="rest_assets_stage_"))
            self._owns_directory = True
        else:
            self.directory = Path(directory)
            self._owns_directory = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
        # a random part keeps areas sharing one directory (parallel runs) apart
        self._stem = f"batch-{uuid.uuid4().hex[:12]}"
        self._files: list[Path] = []
        self._file_rows: list[int] = []
        self.rows = 0
        self.has_fields = False
        # files written by the standard library (integers beyond 64 bits kept exact)
        self.exact_files: list[Path] = []
        self._probe = SchemaProbe() if infer_schema else None
        self._probed_files: int | None = None

    @property
    def files(self) -> list[Path]:
        """The staged files, in the order they were written (later rows win a merge)."""
        return list(self._files)

    def write(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Stage one batch as one file; returns the number of records written (0: no file)."""
        if not records:
            return 0
        exact = False
        try:
            data = orjson.dumps(records, default=_default)
        except TypeError:
            # dicts with non-string keys are rare: only then pay for the slower option
            try:
                data = orjson.dumps(records, default=_default, option=orjson.OPT_NON_STR_KEYS)
            except TypeError:
                # integers beyond 64 bits, or nesting orjson refuses: the slow, exact way
                data, exact = _dump_exact(records), True
        path = self.directory / f"{self._stem}-{len(self._files):06d}.json"
        path.write_bytes(data)
        if exact:
            self.exact_files.append(path)
        self._files.append(path)
        self._file_rows.append(len(records))
        self.rows += len(records)
        # stops at the first non-empty record: records made only of {} need another read path
        self.has_fields = self.has_fields or any(records)
        if self._probe is not None:
            self._probe.add(path, len(data))
        return len(records)

    @property
    def file_rows(self) -> list[tuple[Path, int]]:
        """Each staged file with the number of records it holds, in write order."""
        return list(zip(self._files, self._file_rows, strict=True))

    @property
    def big_integers(self) -> bool:
        """Whether some staged file holds integers beyond 64 bits (or very deep nesting)."""
        return bool(self.exact_files)

    def inferred_columns(self) -> list[tuple[str, str]] | None:
        """``(name, DuckDB type)`` of all staged records as DuckDB's ``read_json`` infers them
        over every file, when that is known without reading all files again; else None.

        Waits for the background inference of the chunks still running.
        """
        if self._probe is None or not self.has_fields or not self._files:
            return None
        if self._probed_files is None:
            self._probed_files = len(self._files)
        elif self._probed_files != len(self._files):
            return None  # written after the probe ended: those files were never inferred
        return self._probe.columns()

    def cleanup(self) -> None:
        """Remove the staged files (and the directory when this area created it)."""
        if self._probe is not None:
            self._probe.close()
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files.clear()
        self.exact_files.clear()
        self._file_rows.clear()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            # only if now empty: a directory shared with other areas stays
            with contextlib.suppress(OSError):
                self.directory.rmdir()

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"StagingArea({str(self.directory)!r}, rows={self.rows}, files={len(self._files)})"
