"""`rest-assets demo`: serve the bundled demo API, load it into DuckDB, optionally the UI."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from rest_assets.cli.home import prepare_home
from rest_assets.cli.materialize import materialize, print_rows
from rest_assets.demo.api import DemoAPI
from rest_assets.load import demo_sample

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "demo" / "sources.yml"
DEMO_LOCATION = "rest_assets.demo.definitions"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `demo` command."""
    demo = sub.add_parser("demo", help="serve the bundled demo API and load it into DuckDB")
    demo.add_argument(
        "--database", default="demo.duckdb", help="DuckDB file (default: %(default)s)"
    )
    demo.add_argument("--ui", action="store_true", help="then open the Dagster UI on the demo")
    demo.add_argument("--port", type=int, default=3000, help="Dagster UI port with --ui")
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the demo API on loopback, materialize the demo project, print a sample."""
    with DemoAPI() as api:
        os.environ["DEMO_API_URL"] = api.url
        os.environ["DEMO_API_TOKEN"] = api.token
        database = str(Path(args.database).resolve())
        # the run history lives beside the database (not beside the bundled config, which is
        # inside the installed package), unless $DAGSTER_HOME says otherwise
        prepare_home(Path(database))
        print(f"demo API serving on {api.url} (loopback only)")
        # runs belong to the location `--ui` (and `python3 dev.py ui`) loads
        ok, rows = materialize(DEMO_CONFIG, None, database, location=DEMO_LOCATION)
        print(f"materialized through Dagster into {database}:")
        print_rows(rows)
        if not ok:
            return 1
        sql, sample = demo_sample(database)
        print(f"sample query: {sql}")
        for author, comments in sample:
            print(f"  {author:<10} {comments}")
        if args.ui:
            return _serve_ui(database, args.port)
    return 0


def _serve_ui(database: str, port: int) -> int:
    env = {**os.environ, "REST_ASSETS_DATABASE": database}
    # `dg dev` (dagster-dg-cli) serves a module as `dagster dev` does, without the latter's
    # "superseded, use dg dev" warning
    command = [
        sys.executable, "-m", "dagster_dg_cli.cli", "dev", "-m", DEMO_LOCATION,
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    try:
        return subprocess.run(command, env=env).returncode
    except KeyboardInterrupt:
        return 0
