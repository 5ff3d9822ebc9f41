"""Names Dagster and DuckDB see: asset keys, schemas, tables, with collisions caught early.

Table and column names follow the source's ``naming`` (:mod:`rest_assets.load.naming`, the
one naming rule): a resource ``Issue Comments`` writes table ``issue_comments`` under
``snake_case``. Several resources may write one table (the same ``table_name``, or names
that normalize alike): each row then carries its resource in ``_ra_resource``, a ``replace``
replaces only that resource's rows, a ``merge`` matches keys across all of them.
"""

from __future__ import annotations

import re

import dagster as dg

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.errors import ConfigError
from rest_assets.load import ledger_key
from rest_assets.load.naming import column_names
from rest_assets.load.naming import table_name as normalized_table

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def asset_name(resource_name: str) -> str:
    """Dagster asset names allow letters, digits and underscores only."""
    name = _NOT_NAME.sub("_", resource_name)
    return f"_{name}" if name[:1].isdigit() else name


def asset_key(source: SourceConfig | str, resource_name: str) -> dg.AssetKey:
    """The asset key of a resource: `[source, resource]`."""
    source_name = source if isinstance(source, str) else source.name
    return dg.AssetKey([source_name, asset_name(resource_name)])


def schema_name(source: SourceConfig) -> str:
    """The DuckDB schema a source lands in: `raw_<source>` unless `dataset` says otherwise."""
    return source.dataset or f"raw_{source.name}"


def table_name(source: SourceConfig, resource: ResourceConfig) -> str:
    """The DuckDB table a resource writes: its ``table_name`` (else its name) under the
    source's naming."""
    return normalized_table(resource.table_name or resource.name, source.naming)


def key_columns(source: SourceConfig, names: list[str]) -> list[str]:
    """Column names the user wrote (a primary key...) as the table's columns are named."""
    return list(column_names(names, source.naming))


def sharing(source: SourceConfig) -> dict[str, list[str]]:
    """Tables (lower-cased) that several loaded resources write, and those resources."""
    by_table: dict[str, list[str]] = {}
    for resource in source.resources:
        if resource.selected:
            by_table.setdefault(table_name(source, resource).lower(), []).append(resource.name)
    return {t: names for t, names in by_table.items() if len(names) > 1}


def shared_by(source: SourceConfig, resource: ResourceConfig) -> str | None:
    """The resource's name when its table is shared with other resources (its rows are then
    marked with it), else None."""
    shared = sharing(source).get(table_name(source, resource).lower(), [])
    return resource.name if resource.name in shared else None


def ledger_table(source: SourceConfig, resource: ResourceConfig) -> str:
    """The load ledger's key for a resource's stateful loads (per resource in a shared
    table)."""
    return ledger_key(table_name(source, resource), shared_by(source, resource))


def check_collisions(source: SourceConfig) -> None:
    """Two resources whose names sanitize alike (posts-v2, posts.v2) would share an asset."""
    seen: dict[str, str] = {}
    for resource in source.resources:
        key = asset_name(resource.name)
        if key in seen:
            raise ConfigError(
                f"source {source.name!r}: resources {seen[key]!r} and {resource.name!r} both "
                f"become asset {source.name}/{key}; rename one of them"
            )
        seen[key] = resource.name
