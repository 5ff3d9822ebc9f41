"""The request a resource sends, as definition metadata: resolved from config, redacted.

What the UI shows for a REST resource before any run: `request` (method and URL template,
query params included, e.g. `GET ${API}/posts?limit=50&since={incremental.start_value}`),
`request_headers`, `request_body`, `auth`, `paginator` (its `to_config()`; `auto` when the
first response decides), `data_selector` and `incremental`. Defaults are already merged by
the config loader; `${VAR}` references and `{placeholders}` stay as written; a literal value
under a sensitive name (the `rest_assets.http.sensitive` policy) shows as `***`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import dagster as dg

from rest_assets.config.models import (
    IncrementalParam,
    ResolveParam,
    ResourceConfig,
    SourceConfig,
)
from rest_assets.config.references import REFERENCE
from rest_assets.config.report import describe_auth
from rest_assets.extract.incremental import find_incremental, legacy_params
from rest_assets.extract.records import paginator_spec
from rest_assets.http.paginators import create_paginator
from rest_assets.http.redact import redact_url
from rest_assets.http.sensitive import is_sensitive_name

MASK = "***"
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.\[\]'\"@$-]*\}")
_INCREMENTAL_KEYS = (
    "cursor_path",
    "initial_value",
    "end_value",
    "start_param",
    "end_param",
    "row_order",
    "last_value_func",
    "lag",
    "window",
    "lookback",
)


def shown_path(resource: ResourceConfig) -> str:
    """The endpoint path as configured: the name when unset, `""` the base URL itself."""
    path = resource.endpoint.path
    return resource.name if path is None else (path or "(the base URL)")


def request_url(source: SourceConfig, resource: ResourceConfig) -> str:
    """The URL template of a resource's endpoint (redacted), without its query params."""
    path = resource.endpoint.path
    if path is None:
        path = resource.name  # as dlt: no path requests the resource's name; "" the base URL
    if path.startswith(("http://", "https://")):
        return redact_url(path)
    base = redact_url(source.client.base_url).rstrip("/")
    return f"{base}/{path.lstrip('/')}"


def request_metadata(source: SourceConfig, resource: ResourceConfig) -> dict[str, Any]:
    """The definition metadata entries describing a REST resource's request."""
    endpoint = resource.endpoint
    params = {k: v for k, v in endpoint.params.items() if not _is_structured(v)}
    params.update(legacy_params(endpoint))
    shown = {k: _masked(k, v) for k, v in params.items()}
    query = "&".join(f"{k}={_text(v)}" for k, v in shown.items())
    url = request_url(source, resource)
    out: dict[str, Any] = {
        "request": dg.MetadataValue.text(f"{endpoint.method} {url}{'?' if query else ''}{query}")
    }
    headers = {**source.client.headers, **endpoint.headers}
    if headers:
        out["request_headers"] = dg.MetadataValue.json(
            {k: _masked(k, v) for k, v in headers.items()}
        )
    body = endpoint.json_body if endpoint.json_body is not None else endpoint.data
    if body is not None:
        out["request_body"] = dg.MetadataValue.json(_masked_tree(body))
    auth = endpoint.auth or resource.auth or source.client.auth
    if auth is not None:
        out["auth"] = dg.MetadataValue.text(describe_auth(auth))
    out["paginator"] = dg.MetadataValue.json(
        paginator_config(endpoint.paginator or source.client.paginator)
    )
    if endpoint.data_selector:
        out["data_selector"] = dg.MetadataValue.text(endpoint.data_selector)
    incremental, _ = find_incremental(endpoint, resource.name)
    if incremental is not None:
        values = incremental.model_dump(mode="json", fallback=str)
        out["incremental"] = dg.MetadataValue.json(
            {k: values[k] for k in _INCREMENTAL_KEYS if values.get(k) is not None}
        )
    return out


def paginator_config(paginator: Any) -> dict[str, Any]:
    """A paginator as config (`to_config()`); `auto` when the first response decides."""
    try:
        built = create_paginator(paginator_spec(paginator))
    except (ValueError, TypeError):
        built = None  # a config mistake is reported when definitions load, not here
    if built is None:
        return {"type": "auto"}
    try:
        return built.to_config()
    except NotImplementedError:  # a user's paginator class: its name says what it is
        return {"type": type(built).__qualname__}


def _is_structured(value: Any) -> bool:
    # resolve params fill the path; legacy incremental params become placeholders
    return isinstance(value, ResolveParam | IncrementalParam)


def _masked(name: str, value: Any) -> Any:
    """`value` as shown: references and placeholders as written, secrets masked."""
    if isinstance(value, str) and (REFERENCE.fullmatch(value) or _PLACEHOLDER.fullmatch(value)):
        return value
    if is_sensitive_name(name):
        return MASK
    return value


def _masked_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _masked_tree(_masked(str(k), v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_tree(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
