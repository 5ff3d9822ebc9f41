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
from pathlib import Path, PurePosixPath
from typing import Any

from rest_assets.config.dialects import connector, dango
from rest_assets.config.dlt_objects import (
    is_dlt_resource,
    replace_dlt_incrementals,
    resource_from_dlt,
)
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
from rest_assets.config.yaml_reading import read_yaml
from rest_assets.errors import ConfigError

logger = logging.getLogger("rest_assets.config")

# Keys whose values replace, never merge with, the default: mixing two paginators' params
# (or two auth methods) would build something nobody configured.
# dlt merges these resource keys whole: a resource's own value replaces the default's
_ATOMIC_KEYS = {
    "paginator",
    "auth",
    "incremental",
    "processing_steps",
    "primary_key",
    "merge_key",
    "columns",
    "write_disposition",
    "schema_contract",
}

# dlt's single-entity alphabet (OpenAPI path parameter names), and the namespaces whose
# placeholders are values rather than entities
_ENTITY_TOKEN = re.compile(r"(?<![{$])\{([a-zA-Z0-9.\-_]+)\}(?!\})")
_VALUE_NAMESPACES = {"incremental", "partition", "run"}
# placeholders in a path: `${VAR}` and escaped braces first, so they are left as they are
_PATH_TOKEN = re.compile(r"\$\{[^{}]*\}|\{\{|\}\}|\{([^{}]*)\}")

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
    raw = read_yaml(config_path.read_text(), str(config_path)) or {}
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
        if isinstance(item, Mapping) and item.get("enabled") is False:
            # parked: a disabled source is not read further, so a half-written one (or one
            # for another version) does not stop the others from loading
            name = item.get("name")
            report.parked.append(
                f"sources[{i}]({name})" if isinstance(name, str) else f"sources[{i}]"
            )
            continue
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
    if isinstance(defaults.get("endpoint"), Mapping):
        defaults = {
            **defaults,
            "endpoint": replace_dlt_incrementals(
                defaults["endpoint"], f"{origin}: {where}.resource_defaults.endpoint"
            ),
        }
    resources = source.get("resources")
    if not isinstance(resources, list):
        raise ConfigError(
            f"{origin}: {where}.resources must be a list of resource names or mappings, "
            "e.g. resources: [posts, {name: comments, "
            "endpoint: posts/{resources.posts.id}/comments}]"
        )
    source["resources"] = [
        _apply_defaults(
            _resource_shorthand(item, f"{where}.resources[{i}]", origin),
            defaults,
            f"{origin}: {where}.resources[{i}]",
        )
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
    if is_dlt_resource(item):
        return resource_from_dlt(item, f"{origin}: {where}")
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
    if isinstance(endpoint, Mapping):
        resource["endpoint"] = endpoint = replace_dlt_incrementals(
            endpoint, f"{origin}: {where}.endpoint"
        )
    if isinstance(endpoint, str):
        resource["endpoint"] = {"path": endpoint}
    elif endpoint is None and isinstance(resource.get("name"), str) and "records" not in resource:
        resource["endpoint"] = {"path": resource["name"]}
    elif isinstance(endpoint, EndpointConfig):
        resource["endpoint"] = endpoint.model_dump(by_alias=True, exclude_unset=True)
    return resource


def _apply_defaults(
    resource: dict[str, Any], defaults: Mapping[str, Any], where: str = "resource"
) -> dict[str, Any]:
    merged = _merge(copy.deepcopy(dict(defaults)), resource)
    endpoint = merged.get("endpoint")
    if isinstance(endpoint, dict):
        # dlt's order: single-entity detection first, then plain params bound into the path
        _single_entity(endpoint)
        bind_path_params(endpoint, f"{where}.endpoint")
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
    """dlt's single-entity rule: a path whose last segment names an entity (`users/{id}`,
    `users/{resources.users.id}`, `/repos/{owner}/{repo}` with plain params) returns one
    object, unpaginated.

    It applies only when neither the endpoint nor resource_defaults chose a paginator (or a
    data selector); the client's paginator is overridden (it describes list endpoints). As
    in dlt's code, only the last segment counts (`posts/{resources.posts.id}/comments` is a
    list); unlike dlt, `{incremental.*}`, `{partition.*}` and `{run.date}` there are values,
    not entities.
    """
    path = endpoint.get("path")
    if not isinstance(path, str):
        return
    last = PurePosixPath(path).name if path else ""
    names = [m.group(1) for m in _ENTITY_TOKEN.finditer(last)]
    if not any(n.split(".", 1)[0] not in _VALUE_NAMESPACES for n in names):
        return
    # an explicit `null` (or `auto`) keeps detection on: only an absent key takes the default
    endpoint.setdefault("paginator", "single_page")
    endpoint.setdefault("data_selector", "$")


def bind_path_params(endpoint: dict[str, Any], where: str) -> None:
    """Fill path placeholders named after plain params, as dlt does: `path:
    /repos/{owner}/{repo}/issues` with `params: {owner: dlt-hub, repo: dlt, state: all}`
    requests `/repos/dlt-hub/dlt/issues?state=all` (the bound params leave the query).

    Params from resource_defaults count (they are merged by now). Placeholders of the
    namespaces (`resources.`, `incremental.`, `partition.`, `run.`) and names of
    `{type: resolve}` params stay for later; `{{`/`}}` stay literal braces (dlt breaks on
    them in paths). A param whose value is itself a placeholder (`pid:
    "{resources.parents.id}"`) moves into the path as that placeholder.
    """
    path = endpoint.get("path")
    params = endpoint.get("params")
    if not isinstance(path, str) or "{" not in path or not isinstance(params, Mapping):
        return
    params = dict(params)

    def bind(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group(1) is None:  # `{{`, `}}` or `${VAR}`
            return token
        name = match.group(1).strip()
        field = name.split(":", 1)[0].strip()  # a format spec is dropped, as in dlt
        if "." in field or field not in params:
            return token
        value = params[field]
        if isinstance(value, Mapping):
            kind = value.get("type")
            if kind == "resolve":
                return token
            raise ConfigError(
                f"{where}.path binds params.{field}, a {{type: {kind}}} param; a path can take "
                f"a plain value or a {{type: resolve}} param (write {{incremental.start_value}} "
                "in the path for the cursor)"
            )
        if value is None:
            raise ConfigError(
                f"{where}.params.{field} is null but fills {{{field}}} in the path; give it a value"
            )
        del params[field]
        return value if isinstance(value, str) else str(value)

    bound = _PATH_TOKEN.sub(bind, path)
    if bound != path:
        endpoint["path"] = bound
        endpoint["params"] = params
