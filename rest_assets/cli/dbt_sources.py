"""`rest-assets dbt-sources`: a dbt `sources.yml` for the tables a config lands.

Printed, or written to `--out` (its folders created). A file there that this command did not
write is kept unless `--force`: it may be the user's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rest_assets.cli.validate import CONFIG_HELP, config_path
from rest_assets.dagster.dbt_sources import HEADER, dbt_sources
from rest_assets.errors import RestAssetsError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dbt-sources` command."""
    command = sub.add_parser(
        "dbt-sources",
        help="write a dbt sources.yml for the tables rest-assets lands (keys match dagster-dbt's)",
    )
    command.add_argument("config", nargs="?", help=CONFIG_HELP)
    command.add_argument(
        "--out",
        metavar="PATH",
        help="file to write, e.g. models/sources.yml in a dbt project (default: print it)",
    )
    command.add_argument(
        "--database",
        help="DuckDB file whose tables give columns and types (default: as materialize)",
    )
    command.add_argument(
        "--force", action="store_true", help="overwrite --out even if another tool wrote it"
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_path(args.config)
    made = dbt_sources(config, database=args.database)
    text = made.to_yaml(config.name)
    for note in made.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.out or args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.exists() and not args.force and not out.read_text().startswith(HEADER):
        raise RestAssetsError(
            f"{out} exists and was not written by rest-assets dbt-sources; pass --force to "
            "replace it, or choose another --out"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    tables = sum(len(source["tables"]) for source in made.document["sources"])
    print(f"wrote {out}: {len(made.document['sources'])} source(s), {tables} table(s)")
    return 0
