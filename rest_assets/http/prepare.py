"""From a call's arguments to the request to send: URL joined, headers merged, `${VAR}`s resolved.

Values resolved from `${VAR}` in params, bodies and headers are secrets: the caller adds
`resolved_values` to its redactor. Values resolved into the URL's scheme and host are
locations and stay visible in logs and errors; those past the host (a token in the path)
and userinfo are secrets too (`rest_assets.http.location_secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    base_url: str, path: str, url: str, env: Mapping[str, str] | None, path_is_config: bool = True
) -> frozenset[Origin]:
    """The origins trusted with credentials for a call of `path` (see `origins`)."""
    locations = EnvResolver(env)
    return trusted_origins(
        locations.resolve(base_url, "base_url") if base_url else None,
        locations.resolve(path, "path"),
        url,
        path_is_config,
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


@dataclass(frozen=True)
class CallArgs:
    """What one `paginate()` or `send()` was asked for, before any `${VAR}` is resolved."""

    path: str
    method: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Any = None
    headers: Mapping[str, str] | None = None


def build_request(
    resolver: EnvResolver, url: str, args: CallArgs, headers: dict[str, str]
) -> RequestSpec:
    """The request to `url` with every `${VAR}` in params, bodies and `headers` (the merged
    ones) resolved by `resolver`."""
    return RequestSpec(
        method=args.method.upper(),
        url=url,
        params=resolver.resolve_deep(dict(args.params or {}), "params"),
        json=resolver.resolve_deep(args.json, "json"),
        data=resolver.resolve_deep(args.data, "data"),
        headers=resolver.resolve_deep(headers, "headers"),
    )
