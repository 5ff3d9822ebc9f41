"""From a call's arguments to the request to send: URL joined, headers merged, `${VAR}`s resolved.

Values resolved from `${VAR}` in params, bodies and headers are secrets: the caller adds
`resolved_values` to its redactor. Values resolved into the URL (base URL, path) are
locations, not secrets, and stay visible in logs and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_assets.http.env import EnvResolver
from rest_assets.http.origins import Origin, trusted_origins
from rest_assets.http.request import RequestSpec
from rest_assets.http.urls import join_url


def url_for(base_url: str, path: str, env: Mapping[str, str] | None) -> str:
    """The absolute URL of `path`, `${VAR}`s in it and in base_url resolved."""
    locations = EnvResolver(env)
    return join_url(locations.resolve(base_url, "base_url"), locations.resolve(path, "path"))


def origins_for(
    base_url: str, path: str, url: str, env: Mapping[str, str] | None
) -> frozenset[Origin]:
    """The origins trusted with credentials for a call of `path` (see `origins`)."""
    locations = EnvResolver(env)
    return trusted_origins(
        locations.resolve(base_url, "base_url") if base_url else None,
        locations.resolve(path, "path"),
        url,
    )


def merge_headers(
    defaults: Mapping[str, str], overrides: Mapping[str, str] | None
) -> dict[str, str]:
    """`defaults` with `overrides` on top; names compare case-insensitively."""
    merged = dict(defaults)
    for name, value in (overrides or {}).items():
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    return merged


def build_request(
    resolver: EnvResolver,
    url: str,
    method: str,
    params: Mapping[str, Any] | None,
    json: Any,
    data: Any,
    headers: dict[str, str],
) -> RequestSpec:
    """The request with every `${VAR}` in params, bodies and headers resolved by `resolver`."""
    return RequestSpec(
        method=method.upper(),
        url=url,
        params=resolver.resolve_deep(dict(params or {}), "params"),
        json=resolver.resolve_deep(json, "json"),
        data=resolver.resolve_deep(data, "data"),
        headers=resolver.resolve_deep(headers, "headers"),
    )
