"""What a config became when it loaded: per source its dialect and name, per entry its path
in the file and a one-line summary, plus what was skipped and the project files read.

`rest-assets validate` prints it. Summaries show `${VAR}` references as written and never a
literal secret (auth values that are not references show as ***; headers by name only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_assets.config.dialects.dango import DltNativeSourceConfig
from rest_assets.config.models import (
    OutputConfig,
    PaginatorConfig,
    ResourceConfig,
    SourceConfig,
)
from rest_assets.config.references import REFERENCE

# Auth parameters that are not secret: shown as written.
_PLAIN_AUTH_KEYS = {"type", "name", "location", "header_name", "access_token_url", "client_auth"}
# Parameter names whose literal values are not shown.
_SECRET_PARTS = ("key", "token", "secret", "password", "signature", "auth")
MASK = "***"


@dataclass
class SourceReport:
    """One source as loaded: where it is in the file, its dialect, what its entries became."""

    name: str
    where: str
    dialect: str
    name_origin: str | None = None
    # resource or output name -> its path in the file as written
    entries: dict[str, str] = field(default_factory=dict)
    # entries not loaded, each "path: why" (also logged once as a warning)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # a Dango `type: dlt_native` source (its assets are the dlt source's resources)
    dlt_native: DltNativeSourceConfig | None = None


@dataclass
class LoadReport:
    """A whole config as loaded."""

    origin: str
    sources: list[SourceReport] = field(default_factory=list)
    # `.env` and `.dlt/*.toml` files read
    files: list[str] = field(default_factory=list)
    # variables some source references that a `.dlt` file holds (names, never values)
    dlt_names: list[str] = field(default_factory=list)
    # sources with `enabled: false`, by their path in the file: parked, not validated
    parked: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Everything skipped, across sources."""
        return [item for source in self.sources for item in source.skipped]

    def source(self, name: str) -> SourceReport | None:
        """The report of the source named `name`."""
        return next((s for s in self.sources if s.name == name), None)

    def dlt_native_sources(self) -> list[DltNativeSourceConfig]:
        """The parsed `type: dlt_native` sources."""
        return [s.dlt_native for s in self.sources if s.dlt_native is not None]


def describe_client(source: SourceConfig) -> str:
    """The source-wide settings in one line."""
    client = source.client
    parts = [f"base_url {client.base_url}"]
    if client.auth is not None:
        parts.append(f"auth {describe_auth(client.auth)}")
    if client.headers:
        parts.append(f"headers {', '.join(client.headers)}")
    if client.paginator is not None:
        parts.append(f"paginator {describe_paginator(client.paginator)}")
    limit = client.rate_limit
    rate = f"{limit.requests_per_second:g} requests/s, " if limit.requests_per_second else ""
    parts.append(
        f"{rate}retries on {', '.join(map(str, limit.retry_on)) or 'nothing'} "
        f"up to {limit.max_retries} times"
    )
    return "; ".join(parts)


def describe_resource(resource: ResourceConfig) -> str:
    """A resource in one line: request, pages, records, auth, columns."""
    if resource.records is not None:
        records = resource.records
        name = records if isinstance(records, str) else getattr(records, "__name__", "a list")
        return f"records from Python ({name})"
    endpoint = resource.endpoint
    path = endpoint.path if endpoint.path is not None else resource.name
    parts = [f"{endpoint.method} {path or '(the base URL)'}"]
    if endpoint.params:
        shown = ", ".join(f"{k}={_param(k, v)}" for k, v in endpoint.params.items())
        parts.append(f"params {shown}")
    if endpoint.headers:
        parts.append(f"headers {', '.join(endpoint.headers)}")
    auth = endpoint.auth or resource.auth
    if auth is not None:
        parts.append(f"auth {describe_auth(auth)}")
    if endpoint.paginator is not None:
        parts.append(f"pages {describe_paginator(endpoint.paginator)}")
    if endpoint.max_pages is not None:
        parts.append(f"at most {endpoint.max_pages} pages")
    if endpoint.data_selector is not None:
        where = "the whole body" if endpoint.data_selector == "$" else endpoint.data_selector
        parts.append(f"records at {where}")
    if resource.columns:
        columns = ", ".join(
            f"{name} {column.data_type or 'inferred'}" for name, column in resource.columns.items()
        )
        parts.append(f"columns {columns} (others inferred)")
    parts.append(resource.write_disposition)
    return "; ".join(parts)


def describe_output(output: OutputConfig) -> str:
    """An output in one line."""
    text = (
        f"sends the rows of {output.from_} in batches of {output.batch_size}: "
        f"{output.method} {output.path}"
    )
    if output.headers:
        text += f"; headers {', '.join(output.headers)}"
    return text


def describe_auth(auth: Any) -> str:
    """An auth setting with references as written and literal secrets masked."""
    values = auth.model_dump(exclude_none=True) if hasattr(auth, "model_dump") else auth
    if not isinstance(values, Mapping):
        return type(auth).__name__
    kind = values.get("type") or ("bearer" if "token" in values else "custom")
    if kind == "none":
        return "none"
    shown = [
        f"{key}={value if key in _PLAIN_AUTH_KEYS else _secret(value)}"
        for key, value in values.items()
        if key != "type"
    ]
    return f"{kind} ({', '.join(shown)})" if shown else str(kind)


def describe_paginator(paginator: Any) -> str:
    """A paginator setting as its type and parameters."""
    if isinstance(paginator, PaginatorConfig):
        params = paginator.params()
        if paginator.type == "offset" and params.get("total_path") == "":
            params.pop("total_path")
            params["stops"] = f"at a page of fewer than {params.get('limit')} records"
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        return f"{paginator.type} ({shown})" if shown else paginator.type
    return type(paginator).__name__


def _secret(value: Any) -> str:
    if isinstance(value, str) and REFERENCE.fullmatch(value):
        return value
    return MASK


def _param(name: str, value: Any) -> str:
    if hasattr(value, "model_dump"):
        return str(value.model_dump(exclude_none=True))
    if any(part in name.lower() for part in _SECRET_PARTS):
        return _secret(value)
    return str(value)
