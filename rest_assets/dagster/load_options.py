"""What a resource's config asks of its load: the LoadSpec settings beyond where it lands."""

from __future__ import annotations

from typing import Any

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.naming import shared_by
from rest_assets.load import RowScope
from rest_assets.load.naming import normalize_key


def load_options(source: SourceConfig, resource: ResourceConfig) -> dict[str, Any]:
    """Keyword arguments of :class:`rest_assets.load.LoadSpec` from the config: keys,
    column hints, merge strategy, schema contract (the resource's own, else the source's),
    naming, type inference, and the resource when it shares its table."""
    return {
        "primary_key": tuple(resource.primary_key),
        "merge_key": tuple(resource.merge_key),
        "columns": {k: v.hints() for k, v in resource.columns.items()} or None,
        "merge": resource.merge_strategy,
        "schema_contract": resource.schema_contract or source.schema_contract,
        "naming": source.naming,
        "type_inference": source.type_inference,
        "resource": shared_by(source, resource),
        "max_table_nesting": resource.max_table_nesting,
        "nested_as_json": resource.nested_as_json,
    }


def row_scope(source: SourceConfig, resource: ResourceConfig) -> RowScope:
    """The rows of a resource's table that are its asset's: its own in a shared table, the
    active versions of an scd2 table (checks and parent reads look at these)."""
    active_column, active_value = None, None
    strategy = resource.merge_strategy
    scd2 = strategy is not None and strategy.strategy == "scd2"
    if resource.write_disposition == "merge" and strategy is not None and scd2:
        active_column = normalize_key(strategy.validity_column_names[1], source.naming)
        active_value = strategy.active_record_timestamp
    return RowScope(shared_by(source, resource), active_column, active_value)
