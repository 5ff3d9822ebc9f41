"""`rest-assets`: validate a config, materialize its assets through Dagster, run the demo.

One module per command group: `materialize` (and its reconstructable job in `jobs`),
`cursor`, `demo`, `home` (the Dagster home), and the wizard's `inspect` / `init` / `add`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rest_assets import heap
from rest_assets.cli import cursor, demo
from rest_assets.cli.materialize import materialize, print_rows
from rest_assets.dagster import build_definitions
from rest_assets.errors import RestAssetsError
from rest_assets.wizard import register_commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rest-assets` console script."""
    heap.tune_command_process()  # this process is ours: see rest_assets.heap
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

    validate = sub.add_parser("validate", help="check a sources.yml without calling any API")
    validate.add_argument("config", help="path to sources.yml")
    validate.set_defaults(handler=_validate)

    mat = sub.add_parser("materialize", help="materialize assets through Dagster")
    mat.add_argument("config", help="path to sources.yml")
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
    return parser


def _validate(args: argparse.Namespace) -> int:
    defs = build_definitions(args.config, database=":memory:")
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    print(f"{args.config}: valid, {len(keys)} asset(s)")
    for key in keys:
        parents = sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        suffix = f"  <- {', '.join(parents)}" if parents else ""
        print(f"  {key.to_user_string()}{suffix}")
    return 0


def _materialize(args: argparse.Namespace) -> int:
    ok, rows = materialize(
        args.config, args.select, args.database, args.partition, location=args.location
    )
    print_rows(rows)
    return 0 if ok else 1


__all__ = ["main", "materialize"]
