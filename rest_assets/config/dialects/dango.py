"""Dango's sources: `type: rest_api` translated into dlt's shape, `type: dlt_native` carried.

A `type: rest_api` source (`rest_api: {base_url, auth_type, *_env, endpoints|resources}`)
becomes a source in dlt's shape: `*_env` keys become `${VAR}` references (resolved, like any
reference, from the environment, `.env` or the project's `.dlt/secrets.toml`).

A `type: dlt_native` source (`dlt_native: {source_module, source_name}`) is parsed into
`DltNativeSourceConfig` and carried, with the project folder, by a `DltNativeSource` in a
placeholder source; `rest_assets.dagster.dlt_native` runs the user's dlt source through dlt
and dagster-dlt in its place (one asset per dlt resource).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rest_assets.config.models import NAME_PATTERN, SourceConfig
from rest_assets.config.names import name_from_path
from rest_assets.config.references import env_reference
from rest_assets.errors import ConfigError

DLT_NATIVE_BASE_URL = "http://dlt-native.invalid"


def is_rest_api(source: Mapping[str, Any]) -> bool:
    """A Dango `type: rest_api` source (or any source with a `rest_api:` body)."""
    return source.get("type") == "rest_api" or "rest_api" in source


def is_dlt_native(source: Mapping[str, Any]) -> bool:
    """A Dango `type: dlt_native` source."""
    return source.get("type") == "dlt_native" or "dlt_native" in source


_DANGO_AUTH = {
    "bearer": "bearer",
    "api_key": "api_key",
    "basic": "http_basic",
    "http_basic": "http_basic",
    "oauth2_client_credentials": "oauth2_client_credentials",
    "custom_header": "custom_header",
    "none": None,
}


def _env_refs(body: dict[str, Any], where: str, origin: str) -> dict[str, str | None]:
    """Every `*_env` key of a rest_api body, popped, as a `${VAR}` reference."""
    refs: dict[str, str | None] = {}
    for key in [k for k in body if k.endswith("_env")]:
        name = body.pop(key)
        if not name:
            refs[key] = None
            continue
        try:
            refs[key] = env_reference(str(name))
        except ValueError as exc:
            raise ConfigError(
                f"{origin}: {where}.rest_api.{key}: {exc}; write the name of an environment "
                "variable, e.g. MY_API_TOKEN"
            ) from None
    return refs


def _dango_auth(
    kind: str | None, body: dict[str, Any], refs: dict[str, Any]
) -> dict[str, Any] | None:
    """The auth settings of a Dango auth kind, taking its keys out of `body` and `refs`."""
    token = refs.pop("auth_token_env", None)
    if kind == "bearer":
        return {"type": "bearer", "token": token}
    if kind == "api_key":
        return {
            "type": "api_key",
            "api_key": token,
            "name": body.pop("api_key_name", "X-API-Key"),
            "location": body.pop("api_key_location", "header"),
        }
    if kind == "http_basic":
        return {
            "type": "http_basic",
            "username": refs.pop("basic_username_env", None),
            "password": refs.pop("basic_password_env", None) or "",
        }
    if kind == "oauth2_client_credentials":
        return {
            "type": "oauth2_client_credentials",
            "access_token_url": body.pop("access_token_url", None),
            "client_id": refs.pop("client_id_env", None),
            "client_secret": refs.pop("client_secret_env", None),
        }
    if kind == "custom_header":
        return {
            "type": "custom_header",
            "header_name": body.pop("auth_header_name", None),
            "token": token,
        }
    return None


def from_dango(source: dict[str, Any], where: str, origin: str) -> dict[str, Any]:
    """A `type: rest_api` source as a source in dlt's shape."""
    body = source.pop("rest_api", None)
    if not isinstance(body, Mapping):
        raise ConfigError(f"{origin}: {where}.rest_api must be a mapping with base_url")
    body = dict(body)
    client: dict[str, Any] = {"base_url": body.pop("base_url", None)}
    if "headers" in body:
        client["headers"] = body.pop("headers")
    auth_type = body.pop("auth_type", None)
    if auth_type not in (None, *_DANGO_AUTH):
        raise ConfigError(
            f"{origin}: {where}.rest_api.auth_type {auth_type!r} is not known; use one of "
            f"{', '.join(_DANGO_AUTH)}"
        )
    refs = _env_refs(body, where, origin)
    auth = _dango_auth(_DANGO_AUTH.get(auth_type) if auth_type else None, body, refs)
    if auth is not None:
        missing = [k for k, v in auth.items() if v is None]
        if missing:
            raise ConfigError(
                f"{origin}: {where}.rest_api with auth_type {auth_type!r} needs "
                + ", ".join(_DANGO_AUTH_KEYS.get(k, k) for k in missing)
            )
        client["auth"] = auth
    for key in ("paginator", "timeout", "rate_limit"):
        if key in body:
            client[key] = body.pop(key)
    endpoints = body.pop("endpoints", None) or body.pop("resources", None)
    if not isinstance(endpoints, list) or not endpoints:
        raise ConfigError(f"{origin}: {where}.rest_api.endpoints must list at least one endpoint")
    resources = [
        _dango_endpoint(e, f"{where}.rest_api.endpoints[{i}]", origin)
        for i, e in enumerate(endpoints)
    ]
    body.update({key: value for key, value in refs.items()})  # `*_env` keys no auth used
    if body:
        unknown = ", ".join(sorted(body))
        raise ConfigError(
            f"{origin}: {where}.rest_api has unknown keys: {unknown}; see the Dango section of "
            "the README for the accepted keys"
        )
    return {**source, "client": client, "resources": resources}


_DANGO_AUTH_KEYS = {
    "token": "auth_token_env",
    "api_key": "auth_token_env",
    "username": "basic_username_env",
    "access_token_url": "access_token_url",
    "client_id": "client_id_env",
    "client_secret": "client_secret_env",
    "header_name": "auth_header_name",
}

_DANGO_PAGINATION = {"param": "page_param", "start": "base_page", "page_size": "limit"}


def _dango_endpoint(item: Any, where: str, origin: str) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"path": item}
    if not isinstance(item, Mapping):
        raise ConfigError(f"{origin}: {where} must be a mapping with path and name")
    entry = dict(item)
    path = entry.pop("path", None) or entry.pop("endpoint", None)
    if not isinstance(path, str):
        raise ConfigError(f"{origin}: {where} needs a path, e.g. path: /orders")
    name = entry.pop("name", None) or name_from_path(path)
    endpoint: dict[str, Any] = {"path": path.lstrip("/")}
    for key in ("method", "params", "data_selector", "headers", "json", "data", "incremental"):
        if key in entry:
            endpoint[key] = entry.pop(key)
    paginator = entry.pop("paginator", None) or entry.pop("pagination", None)
    if isinstance(paginator, Mapping):
        paginator = _dango_paginator(dict(paginator))
    if paginator is not None:
        endpoint["paginator"] = paginator
    return {"name": name, "endpoint": endpoint, **entry}


def _dango_paginator(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec.get("type")
    out = {"type": kind}
    for key, value in spec.items():
        if key == "type":
            continue
        if key == "param" and kind == "offset":
            out["offset_param"] = value
        elif key == "param" and kind == "cursor":
            out["cursor_param"] = value
        else:
            out[_DANGO_PAGINATION.get(key, key)] = value
    return out


# --- errors ---------------------------------------------------------------------------------


# --- `type: dlt_native` ------------------------------------------------------------------------


class _Strict(BaseModel):
    """Unknown keys are errors, as everywhere in the config."""

    model_config = ConfigDict(extra="forbid")


class DltNativeConfig(_Strict):
    """Which dlt source to run: `source_module` (importable, e.g. `custom_sources.my_api`)
    and the `@dlt.source` function in it."""

    source_module: str = Field(
        description="Python module holding the dlt source: a dotted path relative to the "
        "project folder (custom_sources.my_api for custom_sources/my_api.py), else an "
        "installed module."
    )
    source_name: str = Field(
        description="Name of the `@dlt.source` function in that module, called with no "
        "arguments (dlt resolves its secrets and config)."
    )

    @field_validator("source_module")
    @classmethod
    def _module_path(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", value):
            raise ValueError(
                f"source_module {value!r} must be a dotted module path, e.g. custom_sources.my_api"
            )
        return value

    @field_validator("source_name")
    @classmethod
    def _function_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                f"source_name {value!r} must be the name of a Python function, e.g. my_api_source"
            )
        return value


class DltNativeSourceConfig(_Strict):
    """A Dango `type: dlt_native` source: a user's `@dlt.source` function, run by dlt."""

    name: str = Field(description="Asset group and key prefix; DuckDB schema `raw_<name>`.")
    type: Literal["dlt_native"] = Field(default="dlt_native", description="dlt_native.")
    enabled: bool = Field(default=True, description="A disabled source defines no assets.")
    description: str | None = Field(default=None, description="Shown in the Dagster UI.")
    dlt_native: DltNativeConfig = Field(description="The dlt source to run.")

    @field_validator("name")
    @classmethod
    def _source_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                f"source name {value!r} must be letters, digits and underscores, not starting "
                "with a digit (it names the DuckDB schema raw_<name> and the asset group)"
            )
        return value


@dataclass(frozen=True)
class DltNativeSource:
    """A `type: dlt_native` source as the config carries it to the Dagster layer.

    It stands in the source's only resource (`records`) so that the project keeps one
    `SourceConfig` per entry of the file; `rest_assets.dagster` replaces that source by the
    dlt source's own resources when the definitions are built (see `dlt_native_of`).
    `project` is the folder the module is imported from and whose `.dlt/` dlt reads (the
    folder holding `.dango/`); None means the working directory at that time.
    """

    config: DltNativeSourceConfig
    where: str
    project: Path | None = None

    @property
    def __name__(self) -> str:
        """`module:function`, as messages and `validate` name the dlt source."""
        native = self.config.dlt_native
        return f"{native.source_module}:{native.source_name}"

    def __call__(self) -> Any:
        # only reached when something runs the carrier as a plain Python resource, which
        # build_definitions / rest_api_assets never do
        raise ConfigError(
            f"{self.where}: the dlt source {self.__name__} runs through dlt; build the "
            "assets with rest_assets.build_definitions or rest_api_assets"
        )


def dlt_native_source(
    source: DltNativeSourceConfig, where: str, project: Path | None = None
) -> dict[str, Any]:
    """A source in dlt's shape whose one resource `[<source>, <source_name>]` carries the
    `DltNativeSource`; the Dagster layer builds the dlt source's assets in its place."""
    native = source.dlt_native
    note = f"dlt source {native.source_module}:{native.source_name} (Dango type: dlt_native)"
    return {
        "name": source.name,
        "enabled": source.enabled,
        "description": source.description,
        "client": {"base_url": DLT_NATIVE_BASE_URL},
        "resources": [
            {
                "name": native.source_name,
                "records": DltNativeSource(source, where, project),
                "description": note,
            }
        ],
    }


def dlt_native_of(source: SourceConfig) -> DltNativeSource | None:
    """The `DltNativeSource` a source carries, or None for any other source."""
    if len(source.resources) != 1:
        return None
    records = source.resources[0].records
    return records if isinstance(records, DltNativeSource) else None
