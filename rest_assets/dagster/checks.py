"""Asset checks generated from config: primary key unique and not null.

They are check specs of the source's step and are evaluated right after the resource's load
commits, as SQL in DuckDB over the committed table, so a blocking check keeps the resource's
children (in the step) and its downstream assets from running. A partitioned asset's key is
unique within a partition: its checks judge the rows of the partitions the run covers.
Freshness is Dagster's own `FreshnessPolicy` on the asset (`freshness_policy_for`): the UI
shows the asset as fresh or overdue, evaluated without any sensor. Results show in the UI's
Checks tab.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.load_options import row_scope
from rest_assets.dagster.naming import key_columns, schema_name, table_name
from rest_assets.dagster.partitions import partition_kind
from rest_assets.extract.plan import ResourcePlan
from rest_assets.load import RowScope, key_duplicates, key_nulls

UNIQUE_CHECK = "primary_key_unique"
NOT_NULL_CHECK = "primary_key_not_null"
SAMPLE_SIZE = 5


def check_specs_for(
    source: SourceConfig, resource: ResourceConfig, key: dg.AssetKey
) -> list[dg.AssetCheckSpec]:
    """The checks a resource's config asks for, as specs of its asset."""
    if not (resource.checks.primary_key and resource.primary_key):
        return []
    shown = ", ".join(resource.primary_key)
    table = f"{schema_name(source)}.{table_name(source, resource)}"
    # a partitioned table's key is unique within a partition: a run checks its own
    rows = f"a partition of {table}" if partition_kind(resource) else table
    blocking = resource.checks.blocking
    return [
        dg.AssetCheckSpec(
            UNIQUE_CHECK,
            asset=key,
            description=f"No two rows of {rows} share a primary key ({shown}).",
            blocking=blocking,
        ),
        dg.AssetCheckSpec(
            NOT_NULL_CHECK,
            asset=key,
            description=f"No row of {rows} has a null primary key ({shown}).",
            blocking=blocking,
        ),
    ]


def evaluate_checks(
    source: SourceConfig,
    plan: ResourcePlan,
    key: dg.AssetKey,
    names: Sequence[str],
    database: str,
    partitions: Sequence[str] | None = None,
) -> list[dg.AssetCheckResult]:
    """Run the named checks of a resource against its table in DuckDB.

    A partitioned asset's key must be unique within each partition; `partitions` (the
    `_ra_partition` values of the run) limits the checks to those rows, None checks all.
    """
    resource = plan.resource
    schema, table = schema_name(source), table_name(source, resource)
    columns = key_columns(source, resource.primary_key)
    scope = row_scope(source, resource)
    if partitions is not None:
        scope = dataclasses.replace(scope, partitions=tuple(partitions))
    by_partition = partition_kind(resource) is not None
    out = []
    for name in names:
        if name == UNIQUE_CHECK:
            result = unique_result(database, schema, table, columns, scope, by_partition)
        elif name == NOT_NULL_CHECK:
            result = not_null_result(database, schema, table, columns, scope)
        else:
            continue
        out.append(
            dg.AssetCheckResult(
                asset_key=key,
                check_name=result.check_name,
                passed=result.passed,
                metadata=result.metadata,
                severity=result.severity,
                description=result.description,
            )
        )
    return out


def freshness_policy_for(resource: ResourceConfig) -> dg.FreshnessPolicy | None:
    """Dagster's freshness policy for a resource's asset, when its config asks for one."""
    spec = resource.checks.freshness
    if spec is None:
        return None
    lag = dt.timedelta(minutes=spec.max_lag_minutes)
    if spec.deadline_cron:
        return dg.FreshnessPolicy.cron(
            deadline_cron=spec.deadline_cron, lower_bound_delta=lag, timezone=spec.timezone
        )
    return dg.FreshnessPolicy.time_window(fail_window=lag)


def unique_result(
    database: str,
    schema: str,
    table: str,
    columns: Sequence[str],
    scope: RowScope | None = None,
    by_partition: bool = False,
) -> dg.AssetCheckResult:
    """Pass when no primary key value appears twice (among the asset's rows, ``scope``; in
    one partition, with `by_partition`); metadata counts and samples duplicates."""
    found = key_duplicates(
        database,
        schema,
        table,
        columns,
        sample_size=SAMPLE_SIZE,
        scope=scope,
        by_partition=by_partition,
    )
    if found is None:
        return _no_table(schema, table)
    if found.absent:
        return _missing_columns(UNIQUE_CHECK, schema, table, found.absent)
    keys_repeated, rows_involved = found.duplicate_keys, found.rows_with_duplicate_keys
    metadata: dict[str, Any] = {
        "rows": found.rows,
        **_scope(scope.partitions if scope else None),
        "duplicate_keys": keys_repeated,
        "rows_with_duplicate_keys": rows_involved,
        "primary_key": ", ".join(columns),
    }
    if found.sample:
        samples = []
        for (key, rows), partition in zip(found.sample, found.sample_partitions, strict=True):
            sample: dict[str, Any] = {"key": [_jsonable(v) for v in key], "rows": rows}
            if partition is not None:
                sample["partition"] = partition
            samples.append(sample)
        metadata["sample_duplicates"] = dg.MetadataValue.json(samples)
    return dg.AssetCheckResult(
        check_name=UNIQUE_CHECK,
        passed=keys_repeated == 0,
        metadata=metadata,
        description=(
            None
            if keys_repeated == 0
            else f"{keys_repeated} primary key value(s) appear in {rows_involved} rows"
        ),
    )


def not_null_result(
    database: str,
    schema: str,
    table: str,
    columns: Sequence[str],
    scope: RowScope | None = None,
) -> dg.AssetCheckResult:
    """Pass when no row (of the asset's, ``scope``) has a null in any primary key column."""
    found = key_nulls(database, schema, table, columns, scope=scope)
    if found is None:
        return _no_table(schema, table, NOT_NULL_CHECK)
    if found.absent:
        return _missing_columns(NOT_NULL_CHECK, schema, table, found.absent)
    null_rows = found.rows_with_null_key
    return dg.AssetCheckResult(
        check_name=NOT_NULL_CHECK,
        passed=null_rows == 0,
        metadata={
            "rows": found.rows,
            **_scope(scope.partitions if scope else None),
            "rows_with_null_key": null_rows,
            **_prefixed(dict(found.per_column)),
        },
        description=None if null_rows == 0 else f"{null_rows} row(s) have a null primary key",
    )


def _scope(partitions: Sequence[str] | None) -> dict[str, Any]:
    """The partitions a check judged (none: the whole table)."""
    return {} if partitions is None else {"partitions": ", ".join(partitions)}


def _prefixed(per_column: dict[str, int]) -> dict[str, int]:
    return {f"nulls_in_{name}": count for name, count in per_column.items()}


def _no_table(schema: str, table: str, name: str = UNIQUE_CHECK) -> dg.AssetCheckResult:
    # An endpoint that returned nothing yet creates no table: nothing can be duplicated.
    return dg.AssetCheckResult(
        check_name=name,
        passed=True,
        description=f"{schema}.{table} does not exist yet (no rows loaded)",
        metadata={"rows": 0},
    )


def _missing_columns(
    name: str, schema: str, table: str, absent: Sequence[str]
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=False,
        description=f"primary key column(s) {', '.join(absent)} missing from {schema}.{table}",
        metadata={"missing_columns": ", ".join(absent)},
    )


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
