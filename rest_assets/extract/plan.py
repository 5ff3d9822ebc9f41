"""The resolved plan of a source: which resource feeds which, checked when definitions load.

Everything that can be wrong in a config without calling the API is found here, so a bad
config fails at definitions load with the field path, while a missing environment variable
fails only the run that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rest_assets.config.columns import normalize_columns
from rest_assets.config.models import IncrementalParam, ResolveParam, ResourceConfig, SourceConfig
from rest_assets.errors import ConfigError
from rest_assets.extract import load_checks, placeholders
from rest_assets.extract.fields import FieldPath, parse_field
from rest_assets.extract.placeholders import ParentRef
from rest_assets.extract.records import paginator_spec, response_actions
from rest_assets.extract.steps import Steps, import_callable
from rest_assets.http.paginators import create_paginator


@dataclass
class ResourcePlan:
    """One resource with its parent link resolved and its steps compiled."""

    resource: ResourceConfig
    where: str
    parent: str | None = None
    parent_refs: list[ParentRef] = field(default_factory=list)
    steps: Steps | None = None
    # parsed parent fields by their text: placeholder fields, then include_from_parent
    fields: dict[str, FieldPath] = field(default_factory=dict)
    # the nearest selected ancestor: the asset this one depends on (None for a root, or
    # when every ancestor is `selected: false` and fetched inline)
    upstream: str | None = None

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def parent_rows(self) -> str:
        """ "all" or "new": which parent rows a run handles (see ResourceConfig.parent_rows).

        A replace child rewrites its whole table, so it needs every parent row; an append or
        merge child handles each parent row once.
        """
        if self.resource.parent_rows is not None:
            return self.resource.parent_rows
        return "all" if self.resource.write_disposition == "replace" else "new"


def plan_source(source: SourceConfig, where: str = "source") -> dict[str, ResourcePlan]:
    """Resolve parents, placeholders, steps and paginators for every resource of a source."""
    names = [r.name for r in source.resources]
    plans: dict[str, ResourcePlan] = {}
    for index, resource in enumerate(source.resources):
        rwhere = f"{where}.resources[{index}]({resource.name})"
        plans[resource.name] = _plan_resource(resource, rwhere, names)
    _check_client_paginator(source, where)
    load_checks.check_auth(source.client.auth, f"{where}.client.auth")
    _check_cycles(plans)
    for plan in plans.values():
        upstream = plan.parent
        while upstream is not None and not plans[upstream].resource.selected:
            upstream = plans[upstream].parent
        plan.upstream = upstream
    return plans


def _plan_resource(resource: ResourceConfig, where: str, names: list[str]) -> ResourcePlan:
    _check_resource(resource, where)
    load_checks.check_resource(resource, where)
    if resource.records is not None:
        return _plan_python_resource(resource, where)
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
    fields: dict[str, FieldPath] = {}
    for ref in refs:
        fields[ref.field] = parse_field(ref.field, f"{where}.endpoint")
    for i, name in enumerate(resource.include_from_parent):
        fields[name] = parse_field(name, f"{where}.include_from_parent[{i}]")
    if resource.include_from_parent and parent is None:
        raise ConfigError(
            f"{where}.include_from_parent needs a parent: reference one with "
            "{resources.<parent>.<field>} in the endpoint"
        )
    if resource.parent_rows is not None and parent is None:
        raise ConfigError(
            f"{where}.parent_rows applies to dependent resources only; remove it or reference "
            "a parent with {resources.<parent>.<field>}"
        )
    if endpoint.paginator is not None:
        try:
            create_paginator(paginator_spec(endpoint.paginator))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}.endpoint.paginator: {exc}") from None
    steps = Steps(resource.processing_steps, where)
    response_actions(resource)  # imports dotted-path actions now, so a typo fails at load
    return ResourcePlan(resource, where, parent, refs, steps, fields)


def _check_resource(resource: ResourceConfig, where: str) -> None:
    columns = {k: v.model_dump() for k, v in resource.columns.items()}
    try:
        normalize_columns(columns)
    except ConfigError as exc:
        raise ConfigError(f"{where}.{exc}") from None
    endpoint = resource.endpoint
    incremental = endpoint.incremental is not None or any(
        isinstance(v, IncrementalParam) for v in endpoint.params.values()
    )
    if not resource.selected and incremental:
        raise ConfigError(
            f"{where}: a resource with selected: false keeps no state of its own (its children "
            "fetch it in full on every run), so it cannot be incremental; select it, or drop "
            "the incremental settings"
        )
    if not resource.selected and resource.schedule is not None:
        raise ConfigError(
            f"{where}: a resource with selected: false has no asset to schedule; remove "
            "schedule or selected"
        )


def _plan_python_resource(resource: ResourceConfig, where: str) -> ResourcePlan:
    """A resource whose records come from Python: a callable, a dotted path or a list."""
    records = resource.records
    if isinstance(records, str):
        import_callable(records, f"{where}.records")
    elif not callable(records) and not isinstance(records, list | tuple):
        raise ConfigError(
            f"{where}.records must be a callable, a dotted path like my_pkg.seeds:repos, or a "
            f"list of records (got {type(records).__name__})"
        )
    if resource.include_from_parent or resource.parent_rows is not None:
        raise ConfigError(
            f"{where}: a Python resource (records) has no parent; remove include_from_parent "
            "and parent_rows"
        )
    return ResourcePlan(resource, where, None, [], Steps(resource.processing_steps, where))


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
