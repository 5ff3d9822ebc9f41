"""The paginator registry: type names to classes, and `create_paginator` from config values."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

from rest_assets.http.paginators.base import BasePaginator, SinglePagePaginator
from rest_assets.http.paginators.cursors import (
    HeaderCursorPaginator,
    JSONResponseCursorPaginator,
    StripePaginator,
)
from rest_assets.http.paginators.dlt_adapter import (
    DltPaginator,
    is_dlt_paginator,
    is_dlt_paginator_class,
)
from rest_assets.http.paginators.links import HeaderLinkPaginator, JSONLinkPaginator
from rest_assets.http.paginators.ranges import OffsetPaginator, PageNumberPaginator

# What `create_paginator` takes: an instance, a config dict, a type name, a class, or None
# (and, where dlt is installed, a dlt paginator instance: `Any` covers it).
PaginatorSpec = BasePaginator | Mapping[str, Any] | str | type[BasePaginator] | Any | None

# Type names that need parameters: the string shorthand cannot build them (as in dlt).
_NEEDS_PARAMETERS = {"offset": "{type: offset, limit: 100}"}

PAGINATORS: dict[str, type[Any]] = {
    "single_page": SinglePagePaginator,
    "json_link": JSONLinkPaginator,
    "json_response": JSONLinkPaginator,  # dlt's deprecated alias of json_link
    "header_link": HeaderLinkPaginator,
    "header_cursor": HeaderCursorPaginator,
    "offset": OffsetPaginator,
    "page_number": PageNumberPaginator,
    "cursor": JSONResponseCursorPaginator,
    "stripe": StripePaginator,
}


def register_paginator(name: str, cls: type[Any]) -> None:
    """Make `cls` available to `create_paginator` as `{"type": name, ...}` or `name`.

    `cls` subclasses our BasePaginator, or dlt's (its instances are then driven through
    `DltPaginator`)."""
    ours = isinstance(cls, type) and issubclass(cls, BasePaginator)
    if not ours and not is_dlt_paginator_class(cls):
        raise TypeError(
            f"register_paginator({name!r}, ...): {cls!r} is not a paginator class; subclass "
            "rest_assets.http.paginators.BasePaginator (or dlt's BasePaginator)"
        )
    PAGINATORS[name] = cls


def _accepted_parameters(cls: type[Any]) -> tuple[list[str], bool]:
    """The keyword parameters `cls()` takes, and whether it takes any (**kwargs)."""
    names: list[str] = []
    open_ended = False
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self":
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            open_ended = True
        elif param.kind is not inspect.Parameter.VAR_POSITIONAL:
            names.append(param.name)
    return names, open_ended


def _known_types() -> str:
    return ", ".join(sorted([*PAGINATORS, "auto"]))


def create_paginator(spec: PaginatorSpec) -> BasePaginator | None:
    """A fresh paginator from a config value; None means "auto-detect from the first page".

    Accepts None / "auto", a type name ("header_link"), a dict with `type` and the
    paginator's parameters (named as dlt names them), a registered class, or an instance
    (deep-copied, so each `paginate()` run starts from clean state). An instance of one of
    dlt's paginators (`dlt.sources.helpers.rest_client.paginators`, custom subclasses
    included) is driven through `DltPaginator`.
    """
    if spec is None:
        return None
    if isinstance(spec, BasePaginator):
        return copy.deepcopy(spec)
    if isinstance(spec, type) and issubclass(spec, BasePaginator):
        return spec()
    if is_dlt_paginator(spec):
        return DltPaginator(spec)
    if is_dlt_paginator_class(spec):
        assert isinstance(spec, type)
        return DltPaginator(spec())
    kind, params = _kind_and_params(spec)
    if kind == "auto":
        if params:
            raise ValueError(
                f"paginator type 'auto' takes no parameters (got {', '.join(sorted(params))}); "
                "give the type they belong to"
            )
        return None
    cls = PAGINATORS.get(kind)
    if cls is None:
        raise ValueError(f"unknown paginator type {kind!r}; known types: {_known_types()}")
    if not params and kind in _NEEDS_PARAMETERS:
        raise ValueError(
            f"paginator {kind!r} needs parameters, the name alone cannot build it; write "
            f"{_NEEDS_PARAMETERS[kind]}"
        )
    built = _build(kind, cls, params)
    return DltPaginator(built) if is_dlt_paginator(built) else built


def _kind_and_params(spec: object) -> tuple[str, dict[str, Any]]:
    """The type name and the parameters of a string or dict spec."""
    if isinstance(spec, str):
        return spec.strip(), {}
    if isinstance(spec, Mapping):
        params = dict(spec)
        kind = params.pop("type", None)
        if not isinstance(kind, str):
            raise ValueError(
                f"a paginator needs a 'type': one of {_known_types()} "
                "(e.g. {type: json_link, next_url_path: next})"
            )
        return kind.strip(), params
    raise ValueError(
        f"cannot make a paginator from {type(spec).__name__}; give a config dict such as "
        "{type: offset, limit: 100}, a type name, or a paginator instance (rest_assets' "
        "or, with dlt installed, one of dlt.sources.helpers.rest_client.paginators)"
    )


def _build(kind: str, cls: type[Any], params: dict[str, Any]) -> Any:
    accepted, open_ended = _accepted_parameters(cls)
    unknown = sorted(key for key in params if key not in accepted)
    if unknown and not open_ended:
        raise ValueError(
            f"paginator {kind!r} does not take {', '.join(unknown)}; "
            f"accepted parameters: {', '.join(accepted) or '(none)'}"
        )
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(
            f"paginator {kind!r}: {exc}; accepted parameters: {', '.join(accepted)}"
        ) from exc
