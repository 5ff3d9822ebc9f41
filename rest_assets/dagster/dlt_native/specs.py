"""The asset spec of each dlt resource, and the dagster-dlt translator that hands them out.

Each resource the dlt source selects is an asset `[<source>, <resource>]` (after the
source's `key_prefix`), in the source's group, of kinds dlt and duckdb, its description the
resource function's docstring, with the table it lands in. A transformer depends on the
resource it reads from. The specs then go through the project's `RestAssetsTranslator`
like every other resource's (its `ResourceAssetData.resource` carries the dlt resource as
`records`), and dependencies follow the keys it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from rest_assets.config.dialects.dango import DltNativeSource
from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.dlt_native.names import DLT_SOURCE_META, KINDS
from rest_assets.dagster.naming import asset_key, schema_name
from rest_assets.dagster.translator import ResourceAssetData, RestAssetsTranslator


@dataclass
class NativeTranslator(DagsterDltTranslator):
    """dagster-dlt's translator, answering with the specs made when the definitions loaded
    (dagster-dlt asks it again in the step to map selected keys to resources)."""

    specs: Mapping[str, dg.AssetSpec] = field(default_factory=dict)

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        return self.specs[data.resource.name]


def native_specs(
    source: SourceConfig,
    native: DltNativeSource,
    dlt_source: DltSource,
    translator: RestAssetsTranslator,
) -> dict[str, dg.AssetSpec]:
    """The translated spec of every selected resource of the dlt source, by resource name."""
    resources = dlt_source.selected_resources
    defaults = {
        name: _default_spec(source, native, dlt_source, resource)
        for name, resource in resources.items()
    }
    translated = {
        name: translator.get_asset_spec(
            ResourceAssetData(source, ResourceConfig(name=name, records=resource), spec)
        )
        for (name, spec), resource in zip(defaults.items(), resources.values(), strict=True)
    }
    renamed = {defaults[name].key: spec.key for name, spec in translated.items()}
    return {
        name: spec.replace_attributes(
            deps=[renamed.get(dep.asset_key, dep.asset_key) for dep in spec.deps]
        )
        for name, spec in translated.items()
    }


def resource_key(source: SourceConfig, resource_name: str) -> dg.AssetKey:
    """`[*key_prefix, source, resource]`, as for every resource of the config."""
    key = asset_key(source, resource_name)
    return key.with_prefix(list(source.key_prefix)) if source.key_prefix else key


def table_of(dlt_source: DltSource, resource: DltResource) -> str:
    """The table dlt loads a resource into (dlt normalizes the name, e.g. to snake_case)."""
    name = resource.table_name if isinstance(resource.table_name, str) else resource.name
    return str(dlt_source.schema.naming.normalize_table_identifier(name))


def _default_spec(
    source: SourceConfig, native: DltNativeSource, dlt_source: DltSource, resource: DltResource
) -> dg.AssetSpec:
    # dagster-dlt's own spec gives the docstring and a transformer's upstream resource
    base = DagsterDltTranslator().get_asset_spec(
        DltResourceTranslatorData(resource=resource, pipeline=None)
    )
    table = f"{schema_name(source)}.{table_of(dlt_source, resource)}"
    hints = _hints(resource)
    metadata: dict[str, Any] = {
        DLT_SOURCE_META: native.__name__,
        "dlt_resource": resource.name,
        "dagster/table_name": table,
        **hints,
    }
    summary = f"dlt resource {resource.name} of {native.__name__}"
    if "write_disposition" in hints:
        summary += f", {hints['write_disposition']} into {table}"
    first = base.description or source.description or f"{source.name}: {resource.name}"
    return dg.AssetSpec(
        key=resource_key(source, resource.name),
        deps=_upstream(source, dlt_source, resource, base),
        description=f"{first.strip()}\n\n{summary}.",
        metadata=metadata,
        group_name=source.group or source.name,
        owners=list(source.owners) or None,
        tags=dict(source.tags) or None,
        kinds=set(KINDS),
    )


def _upstream(
    source: SourceConfig, dlt_source: DltSource, resource: DltResource, base: dg.AssetSpec
) -> list[dg.AssetKey]:
    """A transformer's upstream resource of this source (dagster-dlt names it
    `<dlt source>_<resource>`); a plain resource has none."""
    if not resource.is_transformer:
        return []
    prefix = f"{resource.source_name}_"
    names = [dep.asset_key.path[-1].removeprefix(prefix) for dep in base.deps]
    return [resource_key(source, n) for n in names if n in dlt_source.resources]


def _hints(resource: DltResource) -> dict[str, str]:
    """Write disposition and primary key, when dlt can tell them before any data."""
    try:
        table = resource.compute_table_schema()
    except Exception:  # hints computed from the data (callables) are known only in a run
        return {}
    out: dict[str, str] = {}
    disposition = table.get("write_disposition")
    if isinstance(disposition, str):
        out["write_disposition"] = disposition
    keys = [name for name, column in table.get("columns", {}).items() if column.get("primary_key")]
    if keys:
        out["primary_key"] = ", ".join(keys)
    return out
