"""`rest-assets materialize`: run the selected assets through the definitions' asset job.

Unpartitioned assets run in one run; partitioned ones run for `--partition` (one run per
partitions definition, after the unpartitioned run so parents land first) and are skipped,
with a note, when no partition is given. Runs are tagged `rest_assets/launched_by: cli`
and carry the config's path, so the UI shows where they came from.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from rest_assets.cli.home import prepare_home
from rest_assets.cli.jobs import reconstructable_asset_job, remember_definitions
from rest_assets.cli.runs import execute_asset_run, location_name
from rest_assets.dagster import IO_MANAGER_KEY, build_definitions
from rest_assets.dagster.metadata import raw_value
from rest_assets.errors import RestAssetsError

LAUNCHED_BY_TAG = "rest_assets/launched_by"
CONFIG_TAG = "rest_assets/config"

Row = tuple[str, int | None, str]


def materialize(
    config: str | Path,
    select: Sequence[str] | None = None,
    database: str | None = None,
    partition: str | None = None,
    location: str | None = None,
) -> tuple[bool, list[Row]]:
    """Materialize the selected assets of a config with a persistent Dagster instance.

    `location` is the code location the UI loads the config under (see
    `rest_assets.cli.runs.location_name`): runs belong to it, so the UI can re-execute them.
    Returns success and `(asset key, row count, table)` for every materialization.
    """
    config_path = Path(config).resolve()
    location = location_name(config_path, location)
    prepare_home(config_path)
    defs = build_definitions(config_path, database=database)
    # the file the definitions chose (argument, $REST_ASSETS_DATABASE or beside the config),
    # handed to the processes that rebuild them
    resolved_database = str((defs.resources or {})[IO_MANAGER_KEY].database)
    remember_definitions(str(config_path), resolved_database, defs)
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    chosen = selected_keys(select, keys) if select else keys
    runs: dict[object, set[dg.AssetKey]] = {}
    for key in chosen:
        runs.setdefault(graph.get(key).partitions_def, set()).add(key)
    # Dagster's console shows our INFO lines (progress, rows written); its own DEBUG event
    # lines (step start, output handled...) only with --log-level DEBUG
    verbose = logging.getLogger("rest_assets").getEffectiveLevel() <= logging.DEBUG
    console = {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO"}}}
    ok = True
    rows: list[Row] = []
    with dg.DagsterInstance.get() as instance:
        for partitions_def, group in sorted(runs.items(), key=lambda item: item[0] is not None):
            names = sorted(k.to_user_string() for k in group)
            if partitions_def is not None and partition is None:
                print(
                    f"skipped (partitioned, pass --partition KEY): {', '.join(names)}",
                    file=sys.stderr,
                )
                continue
            tags = {LAUNCHED_BY_TAG: "cli", CONFIG_TAG: str(config_path)}
            if partitions_def is not None and partition is not None:
                tags["dagster/partition"] = partition
            with reconstructable_asset_job(str(config_path), resolved_database) as job:
                result = execute_asset_run(
                    job,
                    instance,
                    sorted(group, key=lambda k: k.to_user_string()),
                    tags,
                    {"loggers": console},
                    location,
                )
            rows.extend(_materialized_rows(result))
            if not result.success:
                ok = False
                for event in result.get_step_failure_events():
                    print(f"failed: {event.step_key}: {_root_cause(event)}", file=sys.stderr)
    return ok, rows


def selected_keys(names: Sequence[str], keys: set[dg.AssetKey]) -> set[dg.AssetKey]:
    """The asset keys `--select` names: source, resource or source/resource names."""
    chosen: set[dg.AssetKey] = set()
    for name in names:
        parts = name.replace(".", "/").split("/")
        matched = {
            k
            for k in keys
            if k.path == parts
            or (len(parts) == 1 and (parts[0] in (k.path[0], k.path[-1])))
            or (len(parts) == 2 and k.path[-2:] == parts)
        }
        if not matched:
            known = ", ".join(sorted(k.to_user_string() for k in keys))
            raise RestAssetsError(f"--select {name!r} matches no asset; assets: {known}")
        chosen |= matched
    return chosen


def _materialized_rows(result: dg.ExecuteJobResult) -> list[Row]:
    rows: list[Row] = []
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        meta = materialization.metadata
        count = raw_value(meta.get("dagster/row_count"))
        table = raw_value(meta.get("dagster/table_name"))
        rows.append(
            (
                materialization.asset_key.to_user_string(),
                count if isinstance(count, int) else None,
                str(table or ""),
            )
        )
    return rows


def _root_cause(event: dg.DagsterEvent) -> str:
    """The innermost error message: Dagster wraps the exception our code raised."""
    data = event.step_failure_data
    error = data.error if data is not None else None
    message = "unknown error"
    while error is not None:
        message = error.message.strip()
        error = error.cause
    return message


def print_rows(rows: Sequence[Row]) -> None:
    """The rows of each materialization, one line per asset."""
    width = max((len(k) for k, _, _ in rows), default=10)
    for key, count, table in rows:
        print(f"  {key:<{width}}  {count if count is not None else '?':>8} rows  {table}")
