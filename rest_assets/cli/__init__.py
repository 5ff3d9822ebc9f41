"""`rest-assets`: validate a config, materialize its assets through Dagster, run the demo.

One module per command group: `validate`, `materialize` (and its job: `jobs`, `runs`),
`cursor`, `demo`, `dbt_sources`, `home` (the Dagster home), and the wizard's `inspect` /
`init` / `add`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rest_assets import heap
from rest_assets.cli import cursor, dbt_sources, demo, validate
from rest_assets.cli.materialize import materialize, print_rows
from rest_assets.dagster.dagster_warnings import show_dagster_warnings_once
from rest_assets.errors import RestAssetsError
from rest_assets.wizard import register_commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rest-assets` console script."""
    heap.tune_command_process()  # this process is ours: see rest_assets.heap
    show_dagster_warnings_once()
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except RestAssetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rest-assets",
        description="Declarative REST APIs as Dagster assets that land in DuckDB.",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of rest-assets' own logs (DEBUG shows each request, secrets redacted)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("validate", help="check a sources.yml without calling any API")
    check.add_argument("config", nargs="?", help=validate.CONFIG_HELP)
    check.set_defaults(handler=validate.run)

    mat = sub.add_parser("materialize", help="materialize assets through Dagster")
    mat.add_argument("config", nargs="?", help=validate.CONFIG_HELP)
    mat.add_argument(
        "--select",
        nargs="+",
        metavar="NAME",
        help="source, resource or source/resource names (default: everything)",
    )
    mat.add_argument("--database", help="DuckDB file (default: warehouse.duckdb beside config)")
    mat.add_argument(
        "--partition",
        metavar="KEY",
        help="partition key for partitioned assets (without it they are skipped)",
    )
    mat.add_argument(
        "--location",
        metavar="NAME",
        help="code location name the UI loads this config under, so it can re-execute the "
        "runs (default: from workspace.yaml, else definitions.py, else rest_assets)",
    )
    mat.set_defaults(handler=_materialize)
    demo.register(sub)
    register_commands(sub)
    cursor.register(sub)
    dbt_sources.register(sub)
    return parser


def _materialize(args: argparse.Namespace) -> int:
    config = validate.config_path(args.config)
    ok, rows = materialize(
        config, args.select, args.database, args.partition, location=args.location
    )
    print_rows(rows)
    return 0 if ok else 1


__all__ = ["main", "materialize"]
