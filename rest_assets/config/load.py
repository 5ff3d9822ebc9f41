"""Reading configs: YAML files and dicts, in any accepted dialect, into validated models.

Dialects: dlt's `RESTAPIConfig` shape (`sources: [{name, client, resources}]`, or one source
alone), Dango's `sources.yml` (`type: rest_api`, `type: dlt_native`; rest_assets.config.
dialects.dango) and the read/write REST connector's `CONFIG: {inputs, outputs}` files
(rest_assets.config.dialects.connector). Each is translated into dlt's shape, then defaults
are merged as dlt merges them: endpoint settings beat `resource_defaults`, which beat `client`.

`${VAR}` references are kept as written. A file's `.env` (beside it, and in the project
folder for `.dango/sources.yml`) is loaded into the environment without overriding what is
set; the project's `.dlt/secrets.toml` and `config.toml` (then `~/.dlt/`) are read for the
names its sources reference (rest_assets.config.project_files).
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from rest_assets.config.dialects import connector, dango
from rest_assets.config.models import (
    EndpointConfig,
    ProjectConfig,
    ResourceConfig,
    SourceConfig,
)
from rest_assets.config.project_files import (
    DltFiles,
    load_dotenv_files,
    project_dir,
    register_project_values,
)
from rest_assets.config.references import reference_names
from rest_assets.config.report import LoadReport, SourceReport
from rest_assets.config.validation import validate_model
from rest_assets.errors import ConfigError

logger = logging.getLogger("rest_assets.config")

# Keys whose values replace, never merge with, the default: mixing two paginators' params
# (or two auth methods) would build something nobody configured.
_ATOMIC_KEYS = {"paginator", "auth", "incremental", "processing_steps", "primary_key", "columns"}

_RESOLVE_TOKEN = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")

DLT_DIALECT = "rest-assets (dlt's RESTAPIConfig shape)"
DANGO_DIALECT = "Dango type: rest_api"
DLT_NATIVE_DIALECT = "Dango type: dlt_native, run by dlt"
CONNECTOR_DIALECT = "read/write REST connector"
SOURCE_TYPES = ("rest_api", "dlt_native")

# Warnings already logged in this process: Dagster loads definitions again and again.
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def load_project(path: str | Path) -> ProjectConfig:
    """Load and validate a config file (`sources.yml`, `.dango/sources.yml`, a connector
    file); `.env` and `.dlt/` of its project fill variables the environment lacks."""
    return read_project(path)[0]


def read_project(path: str | Path) -> tuple[ProjectConfig, LoadReport]:
    """`load_project`, plus the report of what each entry became (for `validate`)."""
    config_path = Path(path)
    if not config_path.is_file():
        raise ConfigError(f"config file {config_path} does not exist")
    env_files = load_dotenv_files(config_path)
    try:
        raw = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_path}: not valid YAML: {exc}") from None
    origin = str(config_path)
    folder = project_dir(config_path)
    project, report = parse_project_report(raw, origin=origin, stem=config_path.stem, folder=folder)
    files = DltFiles.discover(folder)
    needs = [
        (source.name, f"{origin}: {entry.where}({source.name})", _referenced(source))
        for source, entry in zip(project.sources, report.sources, strict=True)
    ]
    values = register_project_values(str(config_path.resolve()), files, needs)
    report.files = [str(f) for f in env_files] + [str(f) for f in files.paths]
    report.dlt_names = sorted(values)
    return project, report


def parse_project(raw: Any, origin: str = "config") -> ProjectConfig:
    """Validate a project mapping (`{sources: [...]}`), a single dlt-style source, or a
    connector file's mapping (`{CONFIG: {inputs, outputs}}`)."""
    return parse_project_report(raw, origin)[0]


def parse_project_report(
    raw: Any, origin: str = "config", stem: str | None = None, folder: Path | None = None
) -> tuple[ProjectConfig, LoadReport]:
    """`parse_project`, plus the report; `stem` (the file's) may name a connector source;
    `folder` is the project folder `type: dlt_native` sources import their module from
    (None: the working directory when the definitions are built)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: the top level must be a mapping with a `sources:` list")
    report = LoadReport(origin)
    if connector.is_connector(raw):
        translated = connector.from_connector(raw, origin, stem)
        name = translated.source["name"]
        entry = SourceReport(
            name,
            "CONFIG",
            CONNECTOR_DIALECT,
            name_origin=translated.name_origin,
            entries=translated.entries,
            skipped=translated.skipped,
            notes=translated.notes,
        )
        for warning in entry.skipped:
            _warn_once(origin, warning)
        normalized = _normalize_dlt(translated.source, "CONFIG", origin)
        report.sources.append(entry)
        body = {"version": translated.version, "sources": [normalized]}
        return validate_model(ProjectConfig, body, origin), report
    if "sources" not in raw and "client" in raw:
        raw = {"sources": [{"name": raw.get("name", "rest_api"), **raw}]}
    if not isinstance(raw.get("sources"), list):
        raise ConfigError(
            f"{origin}: `sources` must be a list of sources, e.g.\n"
            "sources:\n  - name: my_api\n    client: {base_url: https://api.example.com}\n"
            "    resources: [items]\n"
            "(a read/write REST connector file has CONFIG: {inputs: ...} at its top level)"
        )
    sources = []
    for i, item in enumerate(raw["sources"]):
        normalized, entry = _normalize(item, f"sources[{i}]", origin, folder)
        sources.append(normalized)
        report.sources.append(entry)
    body = {k: v for k, v in raw.items() if k != "sources"}
    return validate_model(ProjectConfig, {**body, "sources": sources}, origin), report


def source_from_dict(config: Mapping[str, Any], name: str | None = None) -> SourceConfig:
    """Validate one source given as a Python dict in the shape of dlt's `RESTAPIConfig`.

    Callables (processing steps, `convert`, custom paginator or auth instances) are kept.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("a source config must be a dict with client and resources")
    raw = dict(config)
    raw["name"] = name or raw.get("name") or "rest_api"
    normalized = normalize_source(raw, "source", "config")
    return validate_model(SourceConfig, normalized, "config")


def normalize_source(raw: Any, where: str, origin: str) -> dict[str, Any]:
    """Turn any accepted source dialect into dlt's shape with defaults applied to each
    resource."""
    return _normalize(raw, where, origin)[0]


def _normalize(
    raw: Any, where: str, origin: str, folder: Path | None = None
) -> tuple[dict[str, Any], SourceReport]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a mapping with name, client and resources")
    source = dict(raw)
    label = f"{where}({source['name']})" if isinstance(source.get("name"), str) else where
    kind = source.get("type")
    if kind is not None and kind not in SOURCE_TYPES:
        raise ConfigError(
            f"{origin}: {label}.type: {kind!r} is not a source type rest-assets reads; use "
            "type: rest_api (or leave type out and give client and resources)"
        )
    entry = SourceReport(str(source.get("name", "")), where, DLT_DIALECT)
    if dango.is_dlt_native(source):
        parsed = validate_model(dango.DltNativeSourceConfig, source, origin, prefix=label)
        source = dango.dlt_native_source(parsed, f"{origin}: {label}", folder)
        entry.dialect, entry.dlt_native = DLT_NATIVE_DIALECT, parsed
        entry.entries[parsed.dlt_native.source_name] = f"{where}.dlt_native"
    elif dango.is_rest_api(source):
        body = source.get("rest_api")
        key = "endpoints" if isinstance(body, Mapping) and "endpoints" in body else "resources"
        source = dango.from_dango(source, where, origin)
        entry.dialect = DANGO_DIALECT
        for i, resource in enumerate(source["resources"]):
            entry.entries[str(resource.get("name"))] = f"{where}.rest_api.{key}[{i}]"
    source.pop("type", None)
    normalized = _normalize_dlt(source, where, origin)
    if entry.dialect == DLT_DIALECT:
        for i, resource in enumerate(normalized["resources"]):
            entry.entries[str(resource.get("name"))] = f"{where}.resources[{i}]"
        for i, output in enumerate(normalized.get("outputs") or []):
            if isinstance(output, Mapping):
                entry.entries[str(output.get("name"))] = f"{where}.outputs[{i}]"
    return normalized, entry


def _normalize_dlt(source: dict[str, Any], where: str, origin: str) -> dict[str, Any]:
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


def _referenced(source: SourceConfig) -> list[str]:
    """The variables a source references anywhere (client, resources, outputs)."""
    return reference_names(source.model_dump(by_alias=True, exclude_none=True))


def _warn_once(origin: str, message: str) -> None:
    with _warned_lock:
        if (origin, message) in _warned:
            return
        _warned.add((origin, message))
    logger.warning(f"{origin}: {message}")


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
