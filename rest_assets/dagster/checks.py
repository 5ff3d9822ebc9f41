"""Asset checks generated from config: primary key unique and not null.

They are check specs of the source's step and are evaluated right after the resource's load
commits, as SQL in DuckDB over the committed table, so a blocking check keeps the resource's
children (in the step) and its downstream assets from running. Freshness is Dagster's own
`FreshnessPolicy` on the asset (`freshness_policy_for`): the UI shows the asset as fresh or
overdue, evaluated without any sensor. Results show in the UI's Checks tab.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.naming import schema_name, table_name
from rest_assets.extract.plan import ResourcePlan
from rest_assets.load.schema import quote_ident
from rest_assets.load.writer import connect

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
    table = f"{schema_name(source)}.{table_name(resource)}"
    blocking = resource.checks.blocking
    return [
        dg.AssetCheckSpec(
            UNIQUE_CHECK,
            asset=key,
            description=f"No two rows of {table} share a primary key ({shown}).",
            blocking=blocking,
        ),
        dg.AssetCheckSpec(
            NOT_NULL_CHECK,
            asset=key,
            description=f"No row of {table} has a null primary key ({shown}).",
            blocking=blocking,
        ),
    ]


def evaluate_checks(
    source: SourceConfig,
    plan: ResourcePlan,
    key: dg.AssetKey,
    names: Sequence[str],
    database: str,
) -> list[dg.AssetCheckResult]:
    """Run the named checks of a resource against its table in DuckDB."""
    resource = plan.resource
    schema, table = schema_name(source), table_name(resource)
    columns = list(resource.primary_key)
    out = []
    for name in names:
        if name == UNIQUE_CHECK:
            result = unique_result(database, schema, table, columns)
        elif name == NOT_NULL_CHECK:
            result = not_null_result(database, schema, table, columns)
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
    database: str, schema: str, table: str, columns: Sequence[str]
) -> dg.AssetCheckResult:
    """Pass when no primary key value appears twice; metadata counts and samples duplicates."""
    keys = ", ".join(quote_ident(c) for c in columns)
    with _Table(database, schema, table) as target:
        if target.missing:
            return _no_table(schema, table)
        absent = target.absent(columns)
        if absent:
            return _missing_columns(UNIQUE_CHECK, schema, table, absent)
        duplicates = target.con.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT {keys}, count(*) AS n "
            f"FROM {target.name} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        sample = target.con.execute(
            f"SELECT {keys}, count(*) AS n FROM {target.name} GROUP BY ALL "
            f"HAVING count(*) > 1 ORDER BY n DESC, {keys} LIMIT {SAMPLE_SIZE}"
        ).fetchall()
        rows = target.rows()
    keys_repeated, rows_involved = (int(v) for v in duplicates or (0, 0))
    metadata: dict[str, Any] = {
        "rows": rows,
        "duplicate_keys": keys_repeated,
        "rows_with_duplicate_keys": rows_involved,
        "primary_key": ", ".join(columns),
    }
    if sample:
        metadata["sample_duplicates"] = dg.MetadataValue.json(
            [{"key": [_jsonable(v) for v in row[:-1]], "rows": int(row[-1])} for row in sample]
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
    nulls_any = " OR ".join(f"{quote_ident(c)} IS NULL" for c in columns)
    with _Table(database, schema, table) as target:
        if target.missing:
            return _no_table(schema, table, NOT_NULL_CHECK)
        absent = target.absent(columns)
        if absent:
            return _missing_columns(NOT_NULL_CHECK, schema, table, absent)
        counts = target.con.execute(
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {quote_ident(c)} IS NULL)" for c in columns)
            + f", count(*) FILTER (WHERE {nulls_any}) FROM {target.name}"
        ).fetchone()
        rows = target.rows()
    counts = tuple(int(v) for v in counts or ())
    per_column = dict(zip(columns, counts[:-1], strict=True))
    null_rows = counts[-1] if counts else 0
    return dg.AssetCheckResult(
        check_name=NOT_NULL_CHECK,
        passed=null_rows == 0,
        metadata={"rows": rows, "rows_with_null_key": null_rows, **_prefixed(per_column)},
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


class _Table:
    """A read-only connection and the catalog-qualified name of one table, if it exists."""

    def __init__(self, database: str, schema: str, table: str) -> None:
        self.database, self.schema, self.table = database, schema, table
        self.missing = True
        self.columns: set[str] = set()
        self.name = ""
        self.con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> _Table:
        if not Path(self.database).exists():
            return self
        self.con = connect(self.database, read_only=True)
        (catalog,) = self.con.execute("SELECT current_database()").fetchone() or ("",)
        found = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
            [catalog, self.schema, self.table],
        ).fetchone()
        if found is None:
            return self
        self.missing = False
        # The catalog prefix avoids "ambiguous reference" when the file is named like a schema.
        self.name = ".".join(quote_ident(p) for p in (catalog, self.schema, found[0]))
        self.columns = {
            str(name).lower()
            for (name,) in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
                "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
                [catalog, self.schema, self.table],
            ).fetchall()
        }
        return self

    def absent(self, columns: Sequence[str]) -> list[str]:
        """Key columns the table does not have (e.g. the API never sent them)."""
        return [c for c in columns if c.lower() not in self.columns]

    def rows(self) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {self.name}").fetchone()[0])  # type: ignore[union-attr,index]

    def __exit__(self, *exc: object) -> None:
        if self.con is not None:
            self.con.close()
