"""The resolved plan of a source: which resource feeds which, checked when definitions load.

Everything that can be wrong in a config without calling the API is found here, so a bad
config fails at definitions load with the field path, while a missing environment variable
fails only the run that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rest_assets.config.models import ResolveParam, ResourceConfig, SourceConfig
from rest_assets.errors import ConfigError
from rest_assets.extract import placeholders
from rest_assets.extract.placeholders import ParentRef
from rest_assets.extract.records import paginator_spec
from rest_assets.extract.steps import Steps
from rest_assets.http.paginators import create_paginator

_SIMPLE_FIELD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."


@dataclass
class ResourcePlan:
    """One resource with its parent link resolved and its steps compiled."""

    resource: ResourceConfig
    where: str
    parent: str | None = None
    parent_refs: list[ParentRef] = field(default_factory=list)
    steps: Steps | None = None

    @property
    def name(self) -> str:
        return self.resource.name


def column_for(field_path: str) -> str:
    """The flattened column a dotted parent field lands in (`author.id` -> `author__id`)."""
    return field_path.replace(".", "__")


def plan_source(source: SourceConfig, where: str = "source") -> dict[str, ResourcePlan]:
    """Resolve parents, placeholders, steps and paginators for every resource of a source."""
    names = [r.name for r in source.resources]
    plans: dict[str, ResourcePlan] = {}
    for index, resource in enumerate(source.resources):
        rwhere = f"{where}.resources[{index}]({resource.name})"
        plans[resource.name] = _plan_resource(resource, rwhere, names)
    _check_client_paginator(source, where)
    _check_cycles(plans)
    return plans


def _plan_resource(resource: ResourceConfig, where: str, names: list[str]) -> ResourcePlan:
    endpoint = resource.endpoint
    resolve = {k: v for k, v in endpoint.params.items() if isinstance(v, ResolveParam)}
    parts = {
        "path": endpoint.path,
        "params": {k: v for k, v in endpoint.params.items() if k not in resolve},
        "json": endpoint.json_body,
        "data": endpoint.data,
        "headers": endpoint.headers,
    }
    refs: list[ParentRef] = []
    for part, template in parts.items():
        for name in placeholders.names_in(template):
            placeholders.check_name(name, set(resolve), f"{where}.endpoint.{part}")
        refs.extend(placeholders.parent_refs(template))
    refs.extend(ParentRef(spec.resource, spec.field) for spec in resolve.values())
    parents = sorted({ref.resource for ref in refs})
    if len(parents) > 1:
        raise ConfigError(
            f"{where}.endpoint: a resource can depend on one parent, but it references "
            f"{', '.join(parents)}; chain them (a -> b -> c) instead"
        )
    parent = parents[0] if parents else None
    if parent is not None and parent not in names:
        raise ConfigError(
            f"{where}.endpoint references resource {parent!r}, which this source does not "
            f"define; defined resources: {', '.join(names)}"
        )
    if parent == resource.name:
        raise ConfigError(f"{where}.endpoint references the resource itself")
    for ref in refs:
        if not set(ref.field) <= set(_SIMPLE_FIELD):
            raise ConfigError(
                f"{where}.endpoint: parent field {ref.field!r} must be a field name or a "
                "dotted path like author.id (it is read from the parent's table)"
            )
    if resource.include_from_parent and parent is None:
        raise ConfigError(
            f"{where}.include_from_parent needs a parent: reference one with "
            "{resources.<parent>.<field>} in the endpoint"
        )
    if endpoint.paginator is not None:
        try:
            create_paginator(paginator_spec(endpoint.paginator))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}.endpoint.paginator: {exc}") from None
    steps = Steps(resource.processing_steps, where)
    return ResourcePlan(resource, where, parent, refs, steps)


def _check_client_paginator(source: SourceConfig, where: str) -> None:
    if source.client.paginator is None:
        return
    try:
        create_paginator(paginator_spec(source.client.paginator))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}.client.paginator: {exc}") from None


def _check_cycles(plans: dict[str, ResourcePlan]) -> None:
    for start in plans:
        seen = [start]
        current = plans[start].parent
        while current is not None:
            if current in seen:
                chain = " -> ".join([*seen, current])
                raise ConfigError(f"resources depend on each other in a cycle: {chain}")
            seen.append(current)
            current = plans[current].parent
