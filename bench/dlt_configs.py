"""Real third-party dlt rest_api configs through rest-assets: which build here.

The corpus (bench/dlt_corpus/) holds configs other people wrote: dlt's tests (VALID_CONFIGS),
docs, templates, examples and courses, dlt's verified-sources, and what dlt-init-openapi
renders for the OpenAPI specs of its own test cases. For each config this script asks
dlt (`dlt.sources.rest_api.rest_api_source(config)`: builds the source, sends nothing) and
rest-assets (`rest_assets.build_definitions(config)`: the dlt-shaped dict as it is) and
prints a table, the totals and rest-assets' refusals grouped by message.

    PYTHONPATH=. .venv/bin/python bench/dlt_configs.py [--json OUT] [--only SUBSTRING]

Secrets and `${VAR}` placeholders are dummy strings; nothing is requested.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dlt_corpus import dlt_docs, dlt_tests  # noqa: E402

Config = dict[str, Any]
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
DUMMIES = {"base_url": "https://api.example.com"}


@dataclass
class Case:
    origin: str
    group: str
    factory: Callable[[], Config]


@dataclass
class Outcome:
    origin: str
    group: str
    dlt_ok: bool
    dlt_error: str
    ours_ok: bool
    ours_error: str
    assets: int


def fill(value: Any) -> Any:
    """`${name}` -> a dummy (a URL for base_url, else `dummy-<name>`)."""
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: DUMMIES.get(m.group(1), f"dummy-{m.group(1)}"), value)
    return value


def cases() -> list[Case]:
    out = [
        Case(f"{dlt_tests.ORIGIN}[{i}]", "dlt tests", lambda i=i: dlt_tests.valid_configs()[i])
        for i in range(len(dlt_tests.valid_configs()))
    ]
    for origin, factory in dlt_docs.ENTRIES:
        group = (
            "verified-sources"
            if origin.startswith("dlt-hub/verified-sources:")
            else "dlt docs/templates/courses"
        )
        out.append(Case(origin, group, factory))
    generated = json.loads((HERE / "dlt_corpus" / "openapi_sources.json").read_text())
    for entry in generated.values():
        if "config" in entry:
            out.append(Case(entry["origin"], "dlt-init-openapi", lambda c=entry["config"]: fill(c)))
    return out


def first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text


def dlt_accepts(config: Config) -> tuple[bool, str]:
    from dlt.sources.rest_api import rest_api_source

    try:
        source = rest_api_source(config)  # type: ignore[arg-type]
        list(source.resources)
    except Exception as exc:
        return False, first_line(exc)
    return True, ""


def ours_builds(config: Config, database: str) -> tuple[bool, str, int]:
    from rest_assets import build_definitions

    try:
        defs = build_definitions(config, database=database)
    except Exception as exc:
        return False, first_line(exc), 0
    return True, "", len(list(defs.assets or []))


def run(case: Case, database: str) -> Outcome:
    try:
        dlt_ok, dlt_error = dlt_accepts(case.factory())
    except Exception as exc:  # the corpus entry itself would not build
        dlt_ok, dlt_error = False, "corpus: " + first_line(exc)
    try:
        ours_ok, ours_error, assets = ours_builds(case.factory(), database)
    except Exception as exc:
        ours_ok, ours_error, assets = False, "corpus: " + first_line(exc), 0
    return Outcome(case.origin, case.group, dlt_ok, dlt_error, ours_ok, ours_error, assets)


def cause(message: str) -> str:
    """The message with its config-specific parts masked, to group refusals."""
    head = message.splitlines()[0]
    head = re.sub(r"\bsources\[\d+\]\([^)]*\)", "sources[i](...)", head)
    head = re.sub(r"resources\[\d+\]\([^)]*\)", "resources[j](...)", head)
    return re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", head)


def report(outcomes: list[Outcome]) -> None:
    print(f"{'origin':<100} {'dlt':<4} {'here':<4} asset defs")
    for o in outcomes:
        print(
            f"{o.origin[-100:]:<100} {'ok' if o.dlt_ok else 'NO':<4} "
            f"{'ok' if o.ours_ok else 'NO':<4} {o.assets}"
        )
    print("\nper origin: found / dlt accepts / of those, build here")
    groups = sorted({o.group for o in outcomes})
    for g in [*groups, "all"]:
        mine = [o for o in outcomes if g in ("all", o.group)]
        accepted = [o for o in mine if o.dlt_ok]
        built = [o for o in accepted if o.ours_ok]
        print(f"  {g:<28} {len(mine):>3} / {len(accepted):>3} / {len(built):>3}")
    accepted = [o for o in outcomes if o.dlt_ok]
    built = [o for o in accepted if o.ours_ok]
    print(f"\n{len(built)} of {len(accepted)} configs dlt accepts build here")
    extra = [o for o in outcomes if o.ours_ok and not o.dlt_ok]
    if extra:
        print(f"{len(extra)} config(s) dlt refuses build here:")
        for o in extra:
            print(f"  {o.origin}\n    dlt: {o.dlt_error.splitlines()[0][:300]}")
    refused: dict[str, list[Outcome]] = defaultdict(list)
    for o in accepted:
        if not o.ours_ok:
            refused[cause(o.ours_error)].append(o)
    print("\nrefusals of configs dlt accepts, grouped by message:")
    for key, items in sorted(refused.items(), key=lambda kv: -len(kv[1])):
        print(f"\n[{len(items)}] {key}")
        for o in items:
            print(f"  - {o.origin}\n      {o.ours_error}".replace("\n", "\n      "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument("--only", default="", help="run only origins containing this")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        database = str(Path(tmp) / "never-written.duckdb")
        outcomes = [run(c, database) for c in cases() if args.only in c.origin]
    report(outcomes)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")


if __name__ == "__main__":
    main()
