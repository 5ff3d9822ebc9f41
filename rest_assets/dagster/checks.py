"""Asset checks generated from config: primary key unique and not null, optional freshness.

The primary key checks run SQL in DuckDB over a read-only connection after the asset lands.
Freshness is Dagster's own `FreshnessPolicy` on the asset (`freshness_policy_for`: the UI
shows the asset as fresh or overdue, evaluated without any sensor) plus a `freshness` check
that records the same rule as a pass/fail result whenever it runs (with the asset, from the
UI's "Execute" button, or a schedule). Results show in the UI's Checks tab.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

# Dagster's own cron arithmetic (DST-aware), so the check and FreshnessPolicy.cron agree.
from dagster._utils.schedules import get_latest_completed_cron_tick

from rest_assets.config.models import FreshnessConfig, ResourceConfig, SourceConfig
from rest_assets.dagster.naming import asset_key, schema_name, table_name
from rest_assets.dagster.runtime import IO_MANAGER_KEY
from rest_assets.load import key_duplicates, key_nulls

UNIQUE_CHECK = "primary_key_unique"
NOT_NULL_CHECK = "primary_key_not_null"
FRESHNESS_CHECK = "freshness"
SAMPLE_SIZE = 5


def checks_for(source: SourceConfig) -> list[dg.AssetChecksDefinition]:
    """Primary key and freshness checks for every resource of a source that asks for them."""
    out: list[dg.AssetChecksDefinition] = []
    for resource in source.resources:
        if not resource.selected:  # no asset to check: its children fetch it inline
            continue
        if resource.checks.primary_key and resource.primary_key:
            out.extend(_primary_key_checks(source, resource))
        if resource.checks.freshness is not None:
            out.append(_freshness_check(source, resource, resource.checks.freshness))
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


def freshness_result(
    last_materialized: float | None, spec: FreshnessConfig, now: dt.datetime
) -> dg.AssetCheckResult:
    """Pass when the last materialization is recent enough.

    Without `deadline_cron`: no older than `max_lag_minutes` now. With it: no older than
    `max_lag_minutes` before the latest deadline tick that has passed.
    """
    lag = dt.timedelta(minutes=spec.max_lag_minutes)
    reference = now
    if spec.deadline_cron:
        reference = get_latest_completed_cron_tick(spec.deadline_cron, now, spec.timezone)
    bound = reference - lag
    metadata: dict[str, Any] = {
        "max_lag_minutes": spec.max_lag_minutes,
        "overdue_before": dg.MetadataValue.timestamp(bound),
    }
    if last_materialized is None:
        return dg.AssetCheckResult(
            check_name=FRESHNESS_CHECK,
            passed=False,
            severity=_severity(spec.severity),
            description="never materialized",
            metadata=metadata,
        )
    last = dt.datetime.fromtimestamp(last_materialized, tz=dt.timezone.utc)
    metadata["last_materialized"] = dg.MetadataValue.timestamp(last)
    metadata["lag_minutes"] = round((now - last).total_seconds() / 60, 2)
    passed = last >= bound
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=passed,
        severity=_severity(spec.severity),
        description=None if passed else f"last materialized {last.isoformat()}: overdue",
        metadata=metadata,
    )


def _freshness_check(
    source: SourceConfig, resource: ResourceConfig, spec: FreshnessConfig
) -> dg.AssetChecksDefinition:
    key = asset_key(source, resource.name)
    when = f" before the deadline {spec.deadline_cron}" if spec.deadline_cron else ""

    @dg.asset_check(
        asset=key,
        name=FRESHNESS_CHECK,
        description=f"Materialized within {spec.max_lag_minutes:g} minutes{when}.",
        blocking=False,
    )
    def _fresh(context) -> dg.AssetCheckResult:  # type: ignore[no-untyped-def]
        # Unannotated on purpose: Dagster rejects string annotations on the context.
        event = context.instance.get_latest_materialization_event(key)
        stamp = event.timestamp if event is not None else None
        return freshness_result(stamp, spec, dt.datetime.now(dt.timezone.utc))

    return _fresh


def _severity(name: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if name == "error" else dg.AssetCheckSeverity.WARN


def _primary_key_checks(
    source: SourceConfig, resource: ResourceConfig
) -> list[dg.AssetChecksDefinition]:
    key = asset_key(source, resource.name)
    schema, table = schema_name(source), table_name(resource)
    columns = list(resource.primary_key)
    blocking = resource.checks.blocking
    shown = ", ".join(columns)

    @dg.asset_check(
        asset=key,
        name=UNIQUE_CHECK,
        description=f"No two rows of {schema}.{table} share a primary key ({shown}).",
        blocking=blocking,
        required_resource_keys={IO_MANAGER_KEY},
    )
    def _unique(context) -> dg.AssetCheckResult:  # type: ignore[no-untyped-def]
        # Unannotated on purpose: Dagster rejects string annotations on the context.
        database = getattr(context.resources, IO_MANAGER_KEY).database
        return unique_result(database, schema, table, columns)

    @dg.asset_check(
        asset=key,
        name=NOT_NULL_CHECK,
        description=f"No row of {schema}.{table} has a null primary key ({shown}).",
        blocking=blocking,
        required_resource_keys={IO_MANAGER_KEY},
    )
    def _not_null(context) -> dg.AssetCheckResult:  # type: ignore[no-untyped-def]
        database = getattr(context.resources, IO_MANAGER_KEY).database
        return not_null_result(database, schema, table, columns)

    return [_unique, _not_null]


def unique_result(
    database: str, schema: str, table: str, columns: Sequence[str]
) -> dg.AssetCheckResult:
    """Pass when no primary key value appears twice; metadata counts and samples duplicates."""
    found = key_duplicates(database, schema, table, columns, sample_size=SAMPLE_SIZE)
    if found is None:
        return _no_table(schema, table)
    if found.absent:
        return _missing_columns(UNIQUE_CHECK, schema, table, found.absent)
    keys_repeated, rows_involved = found.duplicate_keys, found.rows_with_duplicate_keys
    metadata: dict[str, Any] = {
        "rows": found.rows,
        "duplicate_keys": keys_repeated,
        "rows_with_duplicate_keys": rows_involved,
        "primary_key": ", ".join(columns),
    }
    if found.sample:
        metadata["sample_duplicates"] = dg.MetadataValue.json(
            [{"key": [_jsonable(v) for v in key], "rows": rows} for key, rows in found.sample]
        )
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
    database: str, schema: str, table: str, columns: Sequence[str]
) -> dg.AssetCheckResult:
    """Pass when no row has a null in any primary key column."""
    found = key_nulls(database, schema, table, columns)
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
            "rows_with_null_key": null_rows,
            **_prefixed(dict(found.per_column)),
        },
        description=None if null_rows == 0 else f"{null_rows} row(s) have a null primary key",
    )


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
