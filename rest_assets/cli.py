"""`rest-assets`: validate a config, materialize its assets through Dagster, run the demo."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rest_assets.errors import RestAssetsError

DEMO_CONFIG = Path(__file__).parent / "demo" / "sources.yml"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rest-assets` console script."""
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
    mat.set_defaults(handler=_materialize)

    demo = sub.add_parser("demo", help="serve the bundled demo API and load it into DuckDB")
    demo.add_argument(
        "--database", default="demo.duckdb", help="DuckDB file (default: %(default)s)"
    )
    demo.add_argument("--ui", action="store_true", help="then open the Dagster UI on the demo")
    demo.add_argument("--port", type=int, default=3000, help="Dagster UI port with --ui")
    demo.set_defaults(handler=_demo)
    _add_tooling_commands(sub)
    _add_cursor_commands(sub)
    return parser


def _add_cursor_commands(sub: argparse._SubParsersAction) -> None:
    """`cursor show|set|reset`: inspect or rewind an incremental cursor (dagster/cursor_cli)."""
    from rest_assets.dagster.cursor_cli import register

    register(sub)


def _add_tooling_commands(sub: argparse._SubParsersAction) -> None:
    """`inspect`, `init` and `add`: suggest and write sources.yml entries (rest_assets.wizard)."""
    from rest_assets.wizard import register_commands

    register_commands(sub)


def _validate(args: argparse.Namespace) -> int:
    from rest_assets.dagster.factory import build_definitions

    defs = build_definitions(args.config, database=":memory:")
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    print(f"{args.config}: valid, {len(keys)} asset(s)")
    for key in keys:
        parents = sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        suffix = f"  <- {', '.join(parents)}" if parents else ""
        print(f"  {key.to_user_string()}{suffix}")
    return 0


def _dagster_home(config: Path) -> str:
    """DAGSTER_HOME as set, or `.dagster_home` beside the config, so run history persists."""
    home = os.environ.get("DAGSTER_HOME") or str(config.resolve().parent / ".dagster_home")
    Path(home).mkdir(parents=True, exist_ok=True)
    # An empty dagster.yaml means "defaults" and silences Dagster's warning about it.
    (Path(home) / "dagster.yaml").touch(exist_ok=True)
    os.environ["DAGSTER_HOME"] = home
    return home


def materialize(
    config: str | Path,
    select: Sequence[str] | None = None,
    database: str | None = None,
    partition: str | None = None,
) -> tuple[bool, list[tuple[str, int | None, str]]]:
    """Materialize the selected assets of a config with a persistent Dagster instance.

    Unpartitioned assets run in one run; partitioned ones run for `partition` (one run per
    partitions definition, after the unpartitioned run so parents land first) and are
    skipped, with a note, when no partition is given. Returns success and
    `(asset key, row count, table)` for every materialization.
    """
    import dagster as dg

    from rest_assets.dagster.factory import build_definitions

    config_path = Path(config)
    _dagster_home(config_path)
    defs = build_definitions(config_path, database=database)
    assets = list(defs.assets or [])
    chosen = _selected_keys(select, assets) if select else {k for a in assets for k in a.keys}
    runs: dict[object, set[dg.AssetKey]] = {}
    for asset in assets:
        keys = set(asset.keys) & chosen
        if keys:
            runs.setdefault(asset.partitions_def, set()).update(keys)
    everything = [*assets, *(defs.asset_checks or [])]  # checks of selected assets run too
    # Dagster's console shows our INFO lines (progress, rows written); its own DEBUG event
    # lines (step start, output handled...) only with --log-level DEBUG
    verbose = logging.getLogger("rest_assets").getEffectiveLevel() <= logging.DEBUG
    console = {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO"}}}
    ok = True
    rows: list[tuple[str, int | None, str]] = []
    with dg.DagsterInstance.get() as instance:
        for partitions_def, keys in sorted(runs.items(), key=lambda item: item[0] is not None):
            names = ", ".join(sorted(k.to_user_string() for k in keys))
            if partitions_def is not None and partition is None:
                print(f"skipped (partitioned, pass --partition KEY): {names}", file=sys.stderr)
                continue
            result = dg.materialize(
                everything,
                instance=instance,
                resources=defs.resources,
                selection=dg.AssetSelection.assets(*keys),
                partition_key=partition if partitions_def is not None else None,
                raise_on_error=False,
                run_config={"loggers": console},
            )
            rows.extend(_materialized_rows(result))
            if not result.success:
                ok = False
                for event in result.get_step_failure_events():
                    print(f"failed: {event.step_key}: {_root_cause(event)}", file=sys.stderr)
    return ok, rows


def _materialized_rows(result: object) -> list[tuple[str, int | None, str]]:
    rows: list[tuple[str, int | None, str]] = []
    for event in result.get_asset_materialization_events():  # type: ignore[attr-defined]
        materialization = event.event_specific_data.materialization
        meta = materialization.metadata
        count = meta.get("dagster/row_count")
        table = meta.get("dagster/table_name")
        rows.append(
            (
                materialization.asset_key.to_user_string(),
                getattr(count, "value", None),
                str(getattr(table, "value", "") or ""),
            )
        )
    return rows


def _root_cause(event: object) -> str:
    """The innermost error message: Dagster wraps the exception our code raised."""
    error = event.step_failure_data.error  # type: ignore[attr-defined]
    message = "unknown error"
    while error is not None:
        message = error.message.strip()
        error = error.cause
    return message


def _selected_keys(names: Sequence[str], assets: Sequence[object]) -> set[object]:
    import dagster as dg

    keys = {key for a in assets for key in a.keys}  # type: ignore[attr-defined]
    chosen: set[dg.AssetKey] = set()
    for name in names:
        parts = name.replace(".", "/").split("/")
        matched = {
            k
            for k in keys
            if k.path == parts
            or (len(parts) == 1 and (k.path[0] == parts[0] or k.path[-1] == parts[0]))
        }
        if not matched:
            known = ", ".join(sorted(k.to_user_string() for k in keys))
            raise RestAssetsError(f"--select {name!r} matches no asset; assets: {known}")
        chosen |= matched
    return set(chosen)


def _materialize(args: argparse.Namespace) -> int:
    ok, rows = materialize(args.config, args.select, args.database, args.partition)
    _print_rows(rows)
    return 0 if ok else 1


def _print_rows(rows: Sequence[tuple[str, int | None, str]]) -> None:
    width = max((len(k) for k, _, _ in rows), default=10)
    for key, count, table in rows:
        print(f"  {key:<{width}}  {count if count is not None else '?':>8} rows  {table}")


def _demo(args: argparse.Namespace) -> int:
    from rest_assets.demo.api import DemoAPI

    with DemoAPI() as api:
        os.environ["DEMO_API_URL"] = api.url
        os.environ["DEMO_API_TOKEN"] = api.token
        database = str(Path(args.database).resolve())
        print(f"demo API serving on {api.url} (loopback only)")
        ok, rows = materialize(DEMO_CONFIG, None, database)
        print(f"materialized through Dagster into {database}:")
        _print_rows(rows)
        if not ok:
            return 1
        _print_sample(database)
        if args.ui:
            return _serve_ui(database, args.port)
    return 0


def _print_sample(database: str) -> None:
    from rest_assets.load import demo_sample

    sql, rows = demo_sample(database)
    print(f"sample query: {sql}")
    for author, comments in rows:
        print(f"  {author:<10} {comments}")


def _serve_ui(database: str, port: int) -> int:
    env = {**os.environ, "REST_ASSETS_DATABASE": database}
    command = [
        sys.executable, "-m", "dagster", "dev", "-m", "rest_assets.demo.definitions",
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    try:
        return subprocess.run(command, env=env).returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
