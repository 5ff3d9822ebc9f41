"""Reading configs: YAML files and dicts, dlt's and Dango's dialects, defaults, clear errors.

Everything here turns user input into validated `ProjectConfig` / `SourceConfig` models.
Precedence follows dlt: endpoint settings beat `resource_defaults`, which beat `client`.
`${VAR}` references are kept as written; `.env` beside the config is loaded into the process
environment without overriding variables that are already set.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import load_dotenv
from pydantic import BaseModel, ValidationError

from rest_assets.config.models import (
    EndpointConfig,
    ProjectConfig,
    ResourceConfig,
    SourceConfig,
)
from rest_assets.config.names import name_from_path
from rest_assets.errors import ConfigError

# Keys whose values replace, never merge with, the default: mixing two paginators' params
# (or two auth methods) would build something nobody configured.
_ATOMIC_KEYS = {"paginator", "auth", "incremental", "processing_steps", "primary_key", "columns"}

_RESOLVE_TOKEN = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def load_project(path: str | Path) -> ProjectConfig:
    """Load and validate a `sources.yml` file; `.env` beside it fills missing variables."""
    config_path = Path(path)
    if not config_path.exists():
        raise ConfigError(f"config file {config_path} does not exist")
    env_file = config_path.parent / ".env"
    if env_file.exists():
        load_dotenv(env_file, override=False)
    try:
        raw = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_path}: not valid YAML: {exc}") from None
    return parse_project(raw, origin=str(config_path))


def parse_project(raw: Any, origin: str = "config") -> ProjectConfig:
    """Validate a project mapping (`{sources: [...]}`), or a single dlt-style source."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: the top level must be a mapping with a `sources:` list")
    if "sources" not in raw and "client" in raw:
        raw = {"sources": [{"name": raw.get("name", "rest_api"), **raw}]}
    if not isinstance(raw.get("sources"), list):
        raise ConfigError(
            f"{origin}: `sources` must be a list of sources, e.g.\n"
            "sources:\n  - name: my_api\n    client: {base_url: https://api.example.com}\n"
            "    resources: [items]"
        )
    sources = [
        normalize_source(source, f"sources[{i}]", origin) for i, source in enumerate(raw["sources"])
    ]
    body = {k: v for k, v in raw.items() if k != "sources"}
    return _validate(ProjectConfig, {**body, "sources": sources}, origin, raw)


def source_from_dict(config: Mapping[str, Any], name: str | None = None) -> SourceConfig:
    """Validate one source given as a Python dict in the shape of dlt's `RESTAPIConfig`.

    Callables (processing steps, `convert`, custom paginator or auth instances) are kept.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("a source config must be a dict with client and resources")
    raw = dict(config)
    raw["name"] = name or raw.get("name") or "rest_api"
    normalized = normalize_source(raw, "source", "config")
    return _validate(SourceConfig, normalized, "config", raw)


def normalize_source(raw: Any, where: str, origin: str) -> dict[str, Any]:
    """Turn any accepted dialect into dlt's shape with defaults applied to each resource."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a mapping with name, client and resources")
    source = dict(raw)
    if source.get("type") == "rest_api" or "rest_api" in source:
        source = _from_dango(source, where, origin)
    source.pop("type", None)
    defaults = source.pop("resource_defaults", None) or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{origin}: {where}.resource_defaults must be a mapping")
    resources = source.get("resources")
    if not isinstance(resources, list):
        raise ConfigError(
            f"{origin}: {where}.resources must be a list of resource names or mappings, "
            "e.g. resources: [posts, {name: comments, "
            "endpoint: posts/{resources.posts.id}/comments}]"
        )
    source["resources"] = [
        _apply_defaults(_resource_shorthand(item, f"{where}.resources[{i}]", origin), defaults)
        for i, item in enumerate(resources)
    ]
    return source


def _resource_shorthand(item: Any, where: str, origin: str) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "endpoint": {"path": item}}
    if isinstance(item, ResourceConfig):
        return item.model_dump(by_alias=True, exclude_unset=True)
    if callable(item) and not isinstance(item, Mapping):
        # A Python resource given as a function: its name names the resource.
        name = getattr(item, "__name__", "")
        if not name or name == "<lambda>":
            raise ConfigError(
                f"{origin}: {where} is a callable without a name; give it as "
                '{"name": ..., "records": callable}'
            )
        return {"name": name, "records": item}
    if not isinstance(item, Mapping):
        raise ConfigError(
            f"{origin}: {where} must be a resource name or a mapping with name and endpoint, "
            f"not {type(item).__name__}"
        )
    resource = dict(item)
    endpoint = resource.get("endpoint")
    if isinstance(endpoint, str):
        resource["endpoint"] = {"path": endpoint}
    elif endpoint is None and isinstance(resource.get("name"), str) and "records" not in resource:
        resource["endpoint"] = {"path": resource["name"]}
    elif isinstance(endpoint, EndpointConfig):
        resource["endpoint"] = endpoint.model_dump(by_alias=True, exclude_unset=True)
    return resource


def _apply_defaults(resource: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    merged = _merge(copy.deepcopy(dict(defaults)), resource)
    endpoint = merged.get("endpoint")
    if isinstance(endpoint, dict):
        _single_entity(endpoint)
    return merged


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in override.items():
        if (
            key not in _ATOMIC_KEYS
            and isinstance(value, Mapping)
            and isinstance(base.get(key), Mapping)
        ):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def _single_entity(endpoint: dict[str, Any]) -> None:
    """dlt's single-entity rule: a path naming a parent field returns one object, unpaginated.

    It applies only when neither the endpoint nor resource_defaults chose a paginator; the
    client's paginator is overridden (it describes list endpoints).
    """
    path = endpoint.get("path")
    if not isinstance(path, str):
        return
    params = endpoint.get("params") or {}
    resolve_names = {
        k for k, v in params.items() if isinstance(v, Mapping) and v.get("type") == "resolve"
    }
    names_parent = "{resources." in path or any(
        m.group(1) in resolve_names for m in _RESOLVE_TOKEN.finditer(path)
    )
    if not names_parent:
        return
    endpoint.setdefault("paginator", "single_page")
    endpoint.setdefault("data_selector", "$")


# --- Dango's `type: rest_api` dialect -------------------------------------------------------

_DANGO_AUTH = {
    "bearer": "bearer",
    "api_key": "api_key",
    "basic": "http_basic",
    "http_basic": "http_basic",
    "oauth2_client_credentials": "oauth2_client_credentials",
    "custom_header": "custom_header",
    "none": None,
}


def _env_ref(name: Any) -> str | None:
    return f"${{{name}}}" if name else None


def _from_dango(source: dict[str, Any], where: str, origin: str) -> dict[str, Any]:
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
    token = _env_ref(body.pop("auth_token_env", None))
    auth: dict[str, Any] | None = None
    kind = _DANGO_AUTH.get(auth_type) if auth_type else None
    if kind == "bearer":
        auth = {"type": "bearer", "token": token}
    elif kind == "api_key":
        auth = {
            "type": "api_key",
            "api_key": token,
            "name": body.pop("api_key_name", "X-API-Key"),
            "location": body.pop("api_key_location", "header"),
        }
    elif kind == "http_basic":
        auth = {
            "type": "http_basic",
            "username": _env_ref(body.pop("basic_username_env", None)),
            "password": _env_ref(body.pop("basic_password_env", None)) or "",
        }
    elif kind == "oauth2_client_credentials":
        auth = {
            "type": "oauth2_client_credentials",
            "access_token_url": body.pop("access_token_url", None),
            "client_id": _env_ref(body.pop("client_id_env", None)),
            "client_secret": _env_ref(body.pop("client_secret_env", None)),
        }
    elif kind == "custom_header":
        auth = {
            "type": "custom_header",
            "header_name": body.pop("auth_header_name", None),
            "token": token,
        }
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


def _validate(model: type[BaseModel], data: dict[str, Any], origin: str, raw: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, data, origin, model)) from None


def _format_errors(exc: ValidationError, data: Any, origin: str, model: type[BaseModel]) -> str:
    lines = [f"{origin}: invalid configuration ({exc.error_count()} problem(s))"]
    for error in exc.errors():
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        path = _describe_path(loc, data)
        lines.append(f"  - {path}: {_explain(error, loc, model)}")
    return "\n".join(lines)


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts union member names (e.g. 'AuthConfig', 'function-after[...]') in loc.
    return isinstance(part, str) and (part[:1].isupper() or "[" in part)


def _describe_path(loc: list[Any], data: Any) -> str:
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], Mapping):
                name = node[part].get("name")
                if isinstance(name, str):
                    label = f"[{part}]({name})"
            out += label
        else:
            out += f".{part}" if out else str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out or "(top level)"


def _explain(error: Any, loc: list[Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    key = loc[-1] if loc else None
    if kind == "extra_forbidden" and isinstance(key, str):
        return _unknown_key_hint(key, loc, model)
    if kind == "missing":
        return f"required field {key!r} is missing; add it"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"{message} (got {error.get('input')!r})"
    return message


def _unknown_key_hint(key: str, loc: list[Any], model: type[BaseModel]) -> str:
    owner = _model_at(model, loc[:-1])
    allowed = sorted(_field_names(owner)) if owner else []
    hint = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{hint}; did you mean {close[0]!r}?"
    if owner is ResourceConfig and key in _field_names(EndpointConfig):
        return f"{hint} at resource level; move it under endpoint: (endpoint.{key})"
    if allowed:
        return f"{hint}; remove it (accepted here: {', '.join(allowed)})"
    return f"{hint}; remove it"


def _field_names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _model_at(model: type[BaseModel], loc: list[Any]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = _model_in_annotation(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in_annotation(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in_annotation(arg)
        if found is not None:
            return found
    return None
