"""From config to Dagster specs: one asset spec per resource, grouped into steps.

A source becomes one step (a subsettable multi-asset) holding an `AssetSpec` per selected
resource and an `AssetCheckSpec` per check; it is split only where Dagster needs separate
steps: a different partitions definition, concurrency pool or backfill policy. Definitions
are data here; what a step does when it runs is in `rest_assets.dagster.step`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import orjson

from rest_assets.config.locations import SourceLocations
from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.checks import check_specs_for, freshness_policy_for
from rest_assets.dagster.columns import ColumnNotes, notes_for
from rest_assets.dagster.definition_metadata import records_origin, resource_metadata
from rest_assets.dagster.metadata import TableAddress
from rest_assets.dagster.naming import asset_key, asset_name, schema_name, table_name
from rest_assets.dagster.partitions import (
    backfill_policy_for,
    check_partitions,
    dynamic_name,
    partition_kind,
    partitions_def_for,
)
from rest_assets.dagster.request_shape import shown_path
from rest_assets.dagster.translator import (
    ResourceAssetData,
    RestAssetsTranslator,
    automation_condition,
)
from rest_assets.errors import ConfigError
from rest_assets.extract.incremental import IncrementalSpec
from rest_assets.extract.plan import ResourcePlan
from rest_assets.http.redact import redact_url

LINEAGE_KEY = "dagster/column_lineage"


@dataclass(frozen=True)
class ResourceSpec:
    """A resource as Dagster sees it: its plan, asset spec and check specs."""

    plan: ResourcePlan
    asset: dg.AssetSpec
    checks: tuple[dg.AssetCheckSpec, ...]

    @property
    def key(self) -> dg.AssetKey:
        return self.asset.key

    @property
    def name(self) -> str:
        return self.plan.name


@dataclass(frozen=True)
class StepSpec:
    """One step of a source: resources that share partitions, pool and backfill policy."""

    name: str
    source: SourceConfig
    resources: tuple[ResourceSpec, ...]
    partitions_def: dg.PartitionsDefinition | None = None
    backfill_policy: dg.BackfillPolicy | None = None
    pool: str | None = None
    # the asset key of every selected resource of the source (in any step), by name
    keys: Mapping[str, dg.AssetKey] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecContext:
    """What definitions know beyond the config: the DuckDB file and the config's lines."""

    database: str | None = None
    locations: SourceLocations | None = None

    def address(self, source: SourceConfig, resource: ResourceConfig) -> TableAddress:
        return TableAddress.of(self.database, schema_name(source), table_name(source, resource))


def resource_specs(
    source: SourceConfig,
    plans: Mapping[str, ResourcePlan],
    translator: RestAssetsTranslator,
    context: SpecContext | None = None,
) -> list[ResourceSpec]:
    """The specs of a source's selected resources, as the translator shapes them.

    Dependencies (and the column lineage of copied parent fields) point at the translated
    keys of the upstream resources.
    """
    context = context or SpecContext()
    made: list[tuple[ResourcePlan, dg.AssetSpec]] = []
    renamed: dict[dg.AssetKey, dg.AssetKey] = {}
    for resource in source.resources:
        if not resource.selected:  # no asset: its children fetch it inline
            continue
        plan = plans[resource.name]
        default = _default_spec(source, plan, context)
        spec = translator.get_asset_spec(ResourceAssetData(source, resource, default))
        renamed[default.key] = spec.key
        made.append((plan, spec))
    out = []
    for plan, spec in made:
        deps = [renamed.get(dep.asset_key, dep.asset_key) for dep in spec.deps]
        spec = spec.replace_attributes(deps=deps)
        lineage = column_notes(source, plan).copied_lineage(deps[0] if deps else None)
        if lineage is not None:
            spec = spec.replace_attributes(
                metadata={**spec.metadata, LINEAGE_KEY: dg.MetadataValue.column_lineage(lineage)}
            )
        checks = tuple(check_specs_for(source, plan.resource, spec.key))
        out.append(ResourceSpec(plan, spec, checks))
    return out


def column_notes(source: SourceConfig, plan: ResourcePlan) -> ColumnNotes:
    """What rest-assets knows about the columns of a resource's table."""
    resource = plan.resource
    return notes_for(plan, table_name(source, resource), partition_kind(resource) is not None)


def step_specs(source: SourceConfig, resources: Sequence[ResourceSpec]) -> list[StepSpec]:
    """Group a source's resources into steps, one per (partitions, pool, backfill policy)."""
    groups: dict[tuple[Any, ...], list[ResourceSpec]] = {}
    for spec in resources:
        groups.setdefault(_step_signature(source, spec.plan.resource), []).append(spec)
    keys = {spec.name: spec.key for spec in resources}
    steps = []
    used: set[str] = set()
    for signature, members in groups.items():
        first = members[0].plan.resource
        name = _step_name(source, signature, first, used)
        steps.append(
            StepSpec(
                name=name,
                source=source,
                resources=tuple(members),
                partitions_def=partitions_def_for(source, first),
                backfill_policy=backfill_policy_for(first),
                pool=first.pool,
                keys=keys,
            )
        )
    return steps


def _step_signature(source: SourceConfig, resource: ResourceConfig) -> tuple[Any, ...]:
    kind = partition_kind(resource)
    if kind in ("windows", "parent"):
        partitions: Any = ("dynamic", dynamic_name(source, resource))
    elif kind == "time":
        assert resource.partitions is not None
        partitions = ("time", resource.partitions.model_dump_json())
    else:
        partitions = None
    return (partitions, resource.pool)


def _step_name(
    source: SourceConfig, signature: tuple[Any, ...], first: ResourceConfig, used: set[str]
) -> str:
    partitions, pool = signature
    parts = [source.name]
    if partitions is not None and partitions[0] == "dynamic":
        parts.append(asset_name(first.name))
    elif partitions is not None:
        assert first.partitions is not None
        parts.append(first.partitions.type)
    if pool:
        parts.append(f"pool_{asset_name(pool)}")
    name = "__".join(parts)
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def config_key(source: SourceConfig, resource: ResourceConfig) -> dg.AssetKey:
    """A resource's asset key as its config gives it: `[*key_prefix, source, resource]`."""
    key = asset_key(source, resource.name)
    prefix = resource.key_prefix or source.key_prefix
    return key.with_prefix(list(prefix)) if prefix else key


def _default_spec(source: SourceConfig, plan: ResourcePlan, context: SpecContext) -> dg.AssetSpec:
    resource = plan.resource
    key = config_key(source, resource)
    # the upstream's key before translation: resource_specs maps it to the translated one
    deps = [config_key(source, source.resource(plan.upstream))] if plan.upstream else []
    # incremental cursor and partitions are checked here, when definitions load
    incremental = IncrementalSpec.for_endpoint(resource.endpoint, plan.where, resource.primary_key)
    check_partitions(source, plan, incremental)
    address = context.address(source, resource)
    location = context.locations.entry(resource.name) if context.locations else None
    metadata = resource_metadata(source, resource, address, column_notes(source, plan), location)
    kinds = {"python", "duckdb"} if resource.records is not None else {"rest", "duckdb"}
    tags = {**source.tags, **resource.tags}
    owners = list(dict.fromkeys([*source.owners, *resource.owners]))
    try:
        return dg.AssetSpec(
            key=key,
            deps=deps,
            description=describe(source, plan, address),
            metadata=metadata,
            group_name=resource.group or source.group or source.name,
            code_version=resource.code_version or code_version(source, resource),
            automation_condition=automation_condition(
                resource.automation_condition or source.automation_condition
            ),
            owners=owners or None,
            tags=tags or None,
            kinds=kinds,
            freshness_policy=freshness_policy_for(resource),
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(f"{plan.where}: {exc}") from None


def describe(source: SourceConfig, plan: ResourcePlan, address: TableAddress | None = None) -> str:
    """The asset's description, plain text: the config's own (the resource's, else the
    source's), then what it fetches and where it lands."""
    resource = plan.resource
    address = address or TableAddress.of(None, schema_name(source), table_name(source, resource))
    own = resource.description or source.description or f"{source.name}: {resource.name}"
    lines = [own, ""]
    if resource.records is not None:
        lines.append(
            f"Records from {records_origin(resource)}, {resource.write_disposition} into "
            f"{address.name}."
        )
    else:
        endpoint = resource.endpoint
        lines.append(
            f"{endpoint.method} {shown_path(resource)} on "
            f"{redact_url(source.client.base_url)}, {resource.write_disposition} into "
            f"{address.name}."
        )
    if plan.parent and resource.partition_by_parent:
        lines.append(f"One partition per {plan.parent} row.")
    elif plan.parent:
        lines.append(f"Requested once per {plan.parent} row.")
    if plan.parent and plan.parent != plan.upstream:
        lines.append(f"{plan.parent} is selected: false, so it is fetched inline on every run.")
    return "\n".join(lines)


def code_version(source: SourceConfig, resource: ResourceConfig) -> str:
    """A hash of what shapes the resource's data: its config and its source's client."""
    payload = {
        "client": source.client.model_dump(mode="json", exclude={"session"}, fallback=_named),
        "resource": resource.model_dump(mode="json", fallback=_named),
        "dataset": source.dataset,
    }
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return digest[:16]


def _named(value: Any) -> str:
    """A stable stand-in for a value JSON cannot hold (a callable, a paginator object)."""
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    module = getattr(value, "__module__", None) or type(value).__module__
    return f"{module}:{name}"
