"""Names Dagster and DuckDB see: asset keys, schemas, tables, with collisions caught early."""

from __future__ import annotations

import re

import dagster as dg

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.errors import ConfigError

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


def table_name(resource: ResourceConfig) -> str:
    return resource.table_name or resource.name


def check_collisions(source: SourceConfig) -> None:
    """Two resources whose names sanitize alike (posts-v2, posts.v2) would share an asset."""
    seen: dict[str, str] = {}
    tables: dict[str, str] = {}
    for resource in source.resources:
        key = asset_name(resource.name)
        if key in seen:
            raise ConfigError(
                f"source {source.name!r}: resources {seen[key]!r} and {resource.name!r} both "
                f"become asset {source.name}/{key}; rename one of them"
            )
        seen[key] = resource.name
        table = table_name(resource).lower()
        if table in tables:
            raise ConfigError(
                f"source {source.name!r}: resources {tables[table]!r} and {resource.name!r} "
                f"both write table {schema_name(source)}.{table_name(resource)}; set a distinct "
                "table_name on one of them"
            )
        tables[table] = resource.name
