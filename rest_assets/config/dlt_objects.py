"""dlt's own objects in a Python config dict, turned into the config they stand for.

A dlt `RESTAPIConfig` may hold `dlt.sources.incremental(...)` objects (in `params` or as
`endpoint.incremental`) and `@dlt.resource` objects (in `resources`). They become the same
config a YAML file would give: an incremental's options, a Python resource
(`{name, records, selected, ...}`). dlt is never imported: such an object exists only if
whoever built it imported dlt, so its classes are looked up in `sys.modules`. Paginator
instances are the HTTP layer's business (`rest_assets.http.paginators.dlt_adapter`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rest_assets.errors import ConfigError

logger = logging.getLogger("rest_assets.config")

_INCREMENTAL = ("dlt.extract.incremental", "Incremental")
_RESOURCE = ("dlt.extract.resource", "DltResource")
# the options of dlt.sources.incremental, in its signature's order
_INCREMENTAL_OPTIONS = (
    "cursor_path",
    "initial_value",
    "last_value_func",
    "primary_key",
    "end_value",
    "row_order",
    "allow_external_schedulers",
    "on_cursor_value_missing",
    "lag",
    "range_start",
    "range_end",
)
# dlt's defaults of those options: left out of the config
_DEFAULTS: dict[str, Any] = {
    "last_value_func": max,
    "on_cursor_value_missing": "raise",
    "range_start": "closed",
    "range_end": "open",
}
_NO_DEFAULT = object()
# compute_table_schema() keys carried over from a @dlt.resource (the rest is reported)
_CARRIED_HINTS = {"name", "resource", "write_disposition", "columns", "table_name"}


def _dlt_class(where: tuple[str, str]) -> type | None:
    module = sys.modules.get(where[0])
    cls = getattr(module, where[1], None) if module is not None else None
    return cls if isinstance(cls, type) else None


def is_dlt_incremental(value: object) -> bool:
    """Whether `value` is a `dlt.sources.incremental(...)` object."""
    cls = _dlt_class(_INCREMENTAL)
    return cls is not None and isinstance(value, cls)


def is_dlt_resource(value: object) -> bool:
    """Whether `value` is a `@dlt.resource` (a DltResource)."""
    cls = _dlt_class(_RESOURCE)
    return cls is not None and isinstance(value, cls)


def incremental_options(value: Any) -> dict[str, Any]:
    """The options of a `dlt.sources.incremental(...)` object, as endpoint.incremental
    takes them (options left at dlt's defaults are left out)."""
    out: dict[str, Any] = {}
    for name in _INCREMENTAL_OPTIONS:
        option = getattr(value, name, None)
        if option is None or _DEFAULTS.get(name, _NO_DEFAULT) is option:
            continue
        if isinstance(option, str) and _DEFAULTS.get(name) == option:
            continue
        out[name] = list(option) if name == "primary_key" and isinstance(option, tuple) else option
    if not out.get("cursor_path"):
        raise ConfigError(
            "a dlt.sources.incremental without a cursor_path loads nothing incrementally "
            "(dlt silently ignores it); give the field, e.g. "
            'dlt.sources.incremental("updated_at", initial_value=...)'
        )
    return out


def replace_dlt_incrementals(endpoint: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`endpoint` with dlt incremental objects in `params` and `incremental` turned into
    their config (`{type: incremental, ...}` in params)."""
    out = dict(endpoint)
    params = out.get("params")
    if isinstance(params, Mapping) and any(is_dlt_incremental(v) for v in params.values()):
        out["params"] = {
            key: (
                {"type": "incremental", **_options(value, f"{where}.params.{key}")}
                if is_dlt_incremental(value)
                else value
            )
            for key, value in params.items()
        }
    if is_dlt_incremental(out.get("incremental")):
        out["incremental"] = _options(out["incremental"], f"{where}.incremental")
    return out


def _options(value: Any, where: str) -> dict[str, Any]:
    try:
        return incremental_options(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def resource_from_dlt(value: Any, where: str) -> dict[str, Any]:
    """A `@dlt.resource` as a Python resource: its records, name, `selected` and the hints
    that mean something here (write_disposition, primary_key, table_name).

    Refused, saying what to write instead: transformers (they need dlt's pipe) and
    resources with a `dlt.sources.incremental` argument (their cursor lives in dlt's
    pipeline state).
    """
    name = str(value.name)
    if getattr(value, "is_transformer", False):
        raise ConfigError(
            f"{where}: the @dlt.transformer {name!r} needs dlt's pipe to feed it; give it as "
            "a resource whose endpoint names its parent ({resources.<parent>.<field>}), or "
            "as {name, records: function} reading what it needs"
        )
    if getattr(value, "incremental", None) is not None:
        raise ConfigError(
            f"{where}: @dlt.resource {name!r} takes a dlt.sources.incremental argument, whose "
            "cursor lives in dlt's pipeline state (rest-assets keeps cursors in Dagster); "
            "give it as a REST resource with endpoint.incremental, or drop the argument"
        )
    out: dict[str, Any] = {"name": name, "records": _records_of(value)}
    if getattr(value, "selected", True) is False:
        out["selected"] = False
    schema = _table_schema(value)
    disposition = schema.get("write_disposition")
    if isinstance(disposition, str):
        out["write_disposition"] = disposition
    table = schema.get("name")
    if isinstance(table, str) and table != name:
        out["table_name"] = table
    columns = schema.get("columns") or {}
    keys = [
        c for c, spec in columns.items() if isinstance(spec, Mapping) and spec.get("primary_key")
    ]
    if keys:
        out["primary_key"] = keys
    dropped = sorted(k for k, v in schema.items() if k not in _CARRIED_HINTS and v)
    other_columns = [
        c
        for c, spec in columns.items()
        if isinstance(spec, Mapping) and set(spec) - {"name", "nullable", "primary_key"}
    ]
    if other_columns:
        dropped.append(f"columns ({', '.join(other_columns)})")
    if dropped:
        logger.warning(
            f"{where}: hints of @dlt.resource {name!r} not carried over: {', '.join(dropped)}; "
            f'give the resource as {{"name": {name!r}, "records": <the resource>, ...}} with '
            "those keys to set them"
        )
    return out


def _table_schema(value: Any) -> dict[str, Any]:
    try:
        schema = value.compute_table_schema()
    except Exception:  # a hint that needs an item (a callable table_name): nothing static
        return {}
    return dict(schema) if isinstance(schema, Mapping) else {}


def _records_of(resource: Any) -> Callable[[], Iterator[Any]]:
    """A records callable that evaluates the dlt resource afresh on each call."""

    def records() -> Iterator[Any]:
        return iter(resource)

    records.__name__ = str(resource.name)
    return records
