"""The configuration spec: pydantic models in the shape of dlt's RESTAPIConfig.

These models hold the config as written: `${VAR}` references stay references (they are
resolved only when a request is built) and callables given through the Python API are kept
as they are. They know nothing of HTTP, DuckDB or Dagster.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WriteDisposition = Literal["replace", "append", "merge"]

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently change what gets loaded."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=False)


class _Open(BaseModel):
    """A typed `type` plus free parameters, checked later by the component that owns them."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    def params(self) -> dict[str, Any]:
        """Everything but `type`, as given."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if k != "type"}


class AuthConfig(_Open):
    """Authentication: `type` is bearer, api_key, http_basic, oauth2_client_credentials,
    custom_header, none, or a name given to `register_auth`. `{token: ...}` alone means bearer."""

    type: str | None = None


class PaginatorConfig(_Open):
    """Pagination: `type` is auto, single_page, json_link, header_link, header_cursor, offset,
    page_number, cursor, or a name given to `register_paginator`; the rest are its parameters."""

    type: str = "auto"


class RateLimitConfig(_Strict):
    """Client-side throttling and retries shared by every request of a source."""

    requests_per_second: float | None = Field(default=None, gt=0)
    retry_on: list[int] = Field(default_factory=lambda: [429, 500, 502, 503, 504])
    max_retries: int = Field(default=5, ge=0)


class ClientConfig(_Strict):
    """How to reach the API: base URL, headers, auth, default paginator."""

    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    auth: AuthConfig | Any | None = None
    paginator: PaginatorConfig | Any | None = None
    session: Any | None = None
    timeout: float = Field(default=60.0, gt=0)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    show_error_body: bool = False
    # One response body's limits (see RestClient): bytes (None: no limit) and whole-body seconds.
    max_response_bytes: int | None = Field(default=128 * 1024 * 1024, gt=0)
    max_response_seconds: float | None = Field(default=900.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # A `${VAR}` reference is checked when it is resolved, at run time.
        if not value.startswith(("http://", "https://", "${")):
            raise ValueError(
                f"base_url must start with http:// or https:// (got {value!r}); "
                "write the full URL, e.g. https://api.example.com/v1"
            )
        return value

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return AuthConfig(type=value)
        return value

    @field_validator("paginator", mode="before")
    @classmethod
    def _paginator_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return PaginatorConfig(type=value)
        return value


class ResolveParam(_Strict):
    """Legacy `{type: resolve, resource, field}`: take a path parameter from a parent."""

    type: Literal["resolve"]
    resource: str
    field: str


class IncrementalConfig(_Strict):
    """Incremental loading: where the cursor lives in each record and where it starts."""

    cursor_path: str
    initial_value: Any = None
    end_value: Any = None
    start_param: str | None = None
    end_param: str | None = None
    convert: Any | None = None
    row_order: Literal["asc", "desc"] | None = None
    last_value_func: Literal["max", "min"] = "max"
    on_cursor_value_missing: Literal["raise", "include", "exclude"] = "raise"
    lag: float | None = None
    # Beyond dlt: `window` splits the range into windows (`1d`, `6h`, `30m`, seconds, or
    # cursor units for numeric cursors) fetched one after another up to end_value or now;
    # `lookback` re-reads that far behind the cursor for late records without duplicates.
    window: str | float | None = Field(
        default=None,
        description="Fetch the range in windows of this span (1d, 6h, 30m, seconds or cursor "
        "units), each with its own start_value/end_value, up to end_value or now.",
    )
    lookback: str | float | None = Field(
        default=None,
        description="Re-read this far behind the cursor for late records; records already "
        "loaded there are skipped.",
    )
    max_parent_cursors: int = Field(
        default=10_000,
        ge=1,
        description="A child keeps one cursor per parent key: at most this many, the least "
        "recently requested evicted (they restart from initial_value).",
    )


class IncrementalParam(IncrementalConfig):
    """Legacy `{type: incremental, cursor_path, initial_value}` inside `params`."""

    type: Literal["incremental"]


class ResponseAction(_Strict):
    """What to do with a response matching a status code and/or content."""

    status_code: int | None = None
    content: str | None = None
    action: str | Any

    @model_validator(mode="after")
    def _has_condition(self) -> ResponseAction:
        if self.status_code is None and self.content is None:
            raise ValueError("a response action needs status_code or content to match on")
        return self


ParamValue = Annotated[ResolveParam | IncrementalParam, Field(discriminator="type")]


class EndpointConfig(_Strict):
    """One HTTP endpoint: path (relative to base_url, or a full URL), method and request parts."""

    path: str | None = None
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    params: dict[str, ParamValue | Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    data: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    paginator: PaginatorConfig | Any | None = None
    data_selector: str | None = None
    response_actions: list[ResponseAction] = Field(default_factory=list)
    incremental: IncrementalConfig | None = None
    auth: AuthConfig | Any | None = None
    max_pages: int | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    page_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Fetch pages 2..N this many at a time once page one names the total "
        "(offset, page_number); pages are still yielded in order.",
    )

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("paginator", mode="before")
    @classmethod
    def _paginator_shorthand(cls, value: Any) -> Any:
        return PaginatorConfig(type=value) if isinstance(value, str) else value

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_shorthand(cls, value: Any) -> Any:
        return AuthConfig(type=value) if isinstance(value, str) else value

    @field_validator("params", mode="before")
    @classmethod
    def _params_values(cls, value: Any) -> Any:
        # Only dicts with type resolve/incremental are special; any other value is literal.
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, dict) and item.get("type") == "resolve":
                out[key] = ResolveParam(**item)
            elif isinstance(item, dict) and item.get("type") == "incremental":
                out[key] = IncrementalParam(**item)
            else:
                out[key] = item
        return out


class ColumnConfig(_Strict):
    """An explicit column: its type, whether it may be null, and what it holds."""

    data_type: str | None = None
    nullable: bool = True
    primary_key: bool = False
    description: str | None = Field(
        default=None, description="What the column holds; shown in the Dagster UI's schema."
    )


class ProcessingStep(_Strict):
    """One of filter / map / yield_map: a callable, or a dotted path `pkg.module:function`."""

    filter: Any | None = None
    map: Any | None = None
    yield_map: Any | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ProcessingStep:
        given = [k for k in ("filter", "map", "yield_map") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "each processing step takes exactly one of filter, map or yield_map "
                f"(got {given or 'none'})"
            )
        return self


class ScheduleConfig(_Strict):
    """A cron schedule that materializes the assets it is attached to."""

    cron: str
    timezone: str = "UTC"
    running: bool = True


class FreshnessConfig(_Strict):
    """A freshness check: the asset is overdue when its last materialization is too old."""

    max_lag_minutes: float = Field(
        gt=0, description="Minutes a materialization may be old before the check fails."
    )
    deadline_cron: str | None = Field(
        default=None,
        description="Cron of the deadline the data must arrive by (default: the check's run).",
    )
    timezone: str = Field(default="UTC", description="Timezone of `deadline_cron`.")
    severity: Literal["warn", "error"] = Field(
        default="warn", description="Severity of an overdue check result."
    )


class ChecksConfig(_Strict):
    """Dagster asset checks generated for a resource; results appear in the UI's Checks tab."""

    primary_key: bool = Field(
        default=True,
        description="Check that the primary key is unique and never null (when one is set).",
    )
    freshness: FreshnessConfig | None = Field(
        default=None, description="Check that the asset was materialized recently."
    )
    blocking: bool = Field(
        default=False,
        description="A failed primary key check stops downstream assets in the same run.",
    )


class OutputConfig(_Strict):
    """Reverse direction: POST the rows of a DuckDB table to the source's API in batches."""

    name: str = Field(description="Output name; the asset is `<source>/<name>`.")
    from_: str = Field(
        alias="from",
        description="What to send: a resource of this source (`posts`), an asset "
        "`source/resource`, or a DuckDB table `schema.table`.",
    )
    path: str = Field(description="Endpoint path relative to the client's base_url, or a URL.")
    method: Literal["POST", "PUT", "PATCH"] = Field(default="POST", description="HTTP method.")
    batch_size: int = Field(default=100, ge=1, le=100_000, description="Rows per request.")
    body_key: str | None = Field(
        default=None,
        description="Wrap each batch as `{body_key: [rows]}` instead of a bare JSON array.",
    )
    columns: list[str] = Field(
        default_factory=list,
        description="Columns to send (default: all but rest-assets' own `_ra_*` columns).",
    )
    idempotency_key: list[str] = Field(
        default_factory=list,
        description="Columns that identify a row: rows are sent in their order, so batches "
        "and their Idempotency-Keys (a hash of each batch's body) repeat on a re-run "
        "(default: the upstream resource's primary key, else every sent column).",
    )
    idempotency_header: str | None = Field(
        default="Idempotency-Key",
        description="Header carrying each batch's key, so a re-run is deduplicated by APIs "
        "that honour it; null sends none.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers; values may hold `${VAR}`."
    )
    description: str | None = Field(default=None, description="Shown in the Dagster UI.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("columns", "idempotency_key", mode="before")
    @classmethod
    def _column_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class PartitionsConfig(_Strict):
    """Opt-in partitions of a resource's asset.

    `daily`/`hourly`/`weekly`/`monthly` (from `start`) fill `{partition.start}` and
    `{partition.end}`; `windows` makes each incremental window a dynamic partition.
    """

    type: Literal["daily", "hourly", "weekly", "monthly", "windows"]
    start: str | None = None
    end: str | None = None
    timezone: str = "UTC"
    format: str | None = None  # strftime of {partition.start}/{partition.end}; ISO 8601 if unset
    end_offset: int = 0

    @model_validator(mode="after")
    def _start_for_time(self) -> PartitionsConfig:
        if self.type != "windows" and not self.start:
            raise ValueError(f"{self.type} partitions need a start date, e.g. start: 2024-01-01")
        return self


class SensorConfig(_Strict):
    """The sensor of an incremental resource: polls one page for records beyond the cursor."""

    enabled: bool = True
    running: bool = False
    minimum_interval_seconds: int = Field(default=300, ge=1)


class AutomationConfig(_Strict):
    """A Dagster automation condition for an asset: `eager`, `on_missing`, or `on_cron`."""

    type: Literal["eager", "on_missing", "on_cron"] = Field(
        description="eager: after upstream updates; on_missing: once, when never materialized; "
        "on_cron: once per cron tick, after upstream updates."
    )
    cron: str | None = Field(default=None, description="The cron schedule of `on_cron`.")
    timezone: str = Field(default="UTC", description="Timezone of `cron`.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"type": value}
        if isinstance(value, dict) and "type" not in value and "on_cron" in value:
            rest = {k: v for k, v in value.items() if k != "on_cron"}
            return {"type": "on_cron", "cron": value["on_cron"], **rest}
        return value

    @model_validator(mode="after")
    def _cron_given(self) -> AutomationConfig:
        if (self.type == "on_cron") != (self.cron is not None):
            raise ValueError(
                "on_cron needs a cron expression and only on_cron takes one, "
                'e.g. automation_condition: {on_cron: "0 * * * *"}'
            )
        return self


class ResourceConfig(_Strict):
    """One resource: one endpoint, one table, one Dagster asset."""

    name: str
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)
    write_disposition: WriteDisposition = "replace"
    primary_key: list[str] = Field(default_factory=list)
    merge_key: list[str] = Field(default_factory=list)
    table_name: str | None = None
    max_table_nesting: int | None = Field(default=None, ge=0)
    nested_as_json: bool = False
    selected: bool = True
    include_from_parent: list[str] = Field(default_factory=list)
    auth: AuthConfig | Any | None = None
    processing_steps: list[ProcessingStep] = Field(default_factory=list)
    parallelized: bool = False
    concurrency: int = Field(default=8, ge=1, le=256)
    # Which parent rows a dependent resource handles per run: "new" (not handled yet) or
    # "all"; unset means "all" for a replace child and "new" for append/merge children.
    parent_rows: Literal["all", "new"] | None = None
    # A Python resource: a callable (or `pkg.module:function`) returning records; no endpoint.
    records: Any | None = None
    # A Dagster concurrency pool for this asset (e.g. one per DuckDB file).
    pool: str | None = None
    columns: dict[str, ColumnConfig] = Field(default_factory=dict)
    description: str | None = None
    schedule: ScheduleConfig | None = None
    partitions: PartitionsConfig | None = None
    partition_by_parent: bool = False
    sensor: SensorConfig | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    checks: ChecksConfig = Field(
        default_factory=ChecksConfig,
        description="Asset checks: primary key unique/not null, optional freshness.",
    )
    key_prefix: list[str] = Field(
        default_factory=list,
        description="Asset key prefix before [source, resource] (e.g. [warehouse]).",
    )
    group: str | None = Field(default=None, description="Asset group (default: the source name).")
    automation_condition: AutomationConfig | None = Field(
        default=None, description="Dagster automation: eager, on_missing or {on_cron: CRON}."
    )
    code_version: str | None = Field(
        default=None, description="Asset code version (default: a hash of the resource's config)."
    )

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_shorthand(cls, value: Any) -> Any:
        return AuthConfig(type=value) if isinstance(value, str) else value

    @field_validator("endpoint", mode="before")
    @classmethod
    def _endpoint_shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("write_disposition", mode="before")
    @classmethod
    def _disposition_dict(cls, value: Any) -> Any:
        # dlt also accepts {"disposition": "merge", "strategy": ...}.
        if isinstance(value, dict) and "disposition" in value:
            return value["disposition"]
        return value

    @field_validator("primary_key", "merge_key", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _schema_alias(cls, value: Any) -> Any:
        # The connector's dialect calls explicit columns `schema:`.
        if isinstance(value, dict) and "schema" in value:
            if "columns" in value:
                raise ValueError("give explicit columns as columns or schema, not both")
            value = {**value, "columns": value["schema"]}
            del value["schema"]
        return value

    @model_validator(mode="after")
    def _records_or_endpoint(self) -> ResourceConfig:
        if self.records is not None and self.endpoint.path not in (None, self.name):
            raise ValueError(
                "a resource with records (a Python resource) has no endpoint path; remove one"
            )
        return self

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_forms(cls, value: Any) -> Any:
        # Accept dlt's {name: {data_type}} and the connector's [{name, type}] list.
        if isinstance(value, list):
            out: dict[str, Any] = {}
            for item in value:
                if not isinstance(item, dict) or "name" not in item:
                    raise ValueError(
                        "each column in a list needs a name, e.g. {name: id, type: long}"
                    )
                spec = {k: v for k, v in item.items() if k != "name"}
                if "type" in spec:
                    spec["data_type"] = spec.pop("type")
                out[item["name"]] = spec
            return out
        if isinstance(value, dict):
            return {k: ({"data_type": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a resource name cannot be blank")
        return value


class SourceConfig(_Strict):
    """One API: a client, defaults shared by its resources, and the resources."""

    name: str
    enabled: bool = True
    description: str | None = None
    client: ClientConfig
    resources: list[ResourceConfig]
    schedule: ScheduleConfig | None = None
    dataset: str | None = None
    outputs: list[OutputConfig] = Field(
        default_factory=list,
        description="Assets that POST rows of a DuckDB table to this API in batches.",
    )
    max_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Resources of this source fetched at the same time within one run.",
    )
    key_prefix: list[str] = Field(
        default_factory=list, description="Asset key prefix of every resource of the source."
    )
    group: str | None = Field(default=None, description="Asset group (default: the source name).")
    owners: list[str] = Field(default_factory=list, description="Owners of every asset.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags of every asset.")
    automation_condition: AutomationConfig | None = Field(
        default=None, description="Automation of every asset unless a resource sets its own."
    )

    @field_validator("name")
    @classmethod
    def _source_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                f"source name {value!r} must be letters, digits and underscores, not starting "
                "with a digit (it names the DuckDB schema raw_<name> and the asset group)"
            )
        return value

    @model_validator(mode="after")
    def _unique_resources(self) -> SourceConfig:
        seen: set[str] = set()
        for resource in self.resources:
            if resource.name in seen:
                raise ValueError(
                    f"resource name {resource.name!r} is used twice; give each resource a "
                    "unique name"
                )
            seen.add(resource.name)
        if not self.resources and not self.outputs:
            raise ValueError("a source needs at least one resource under resources")
        for output in self.outputs:
            if output.name in seen:
                raise ValueError(
                    f"output name {output.name!r} is also a resource or output name; outputs "
                    "and resources share the asset namespace <source>/<name>"
                )
            seen.add(output.name)
        return self

    def resource(self, name: str) -> ResourceConfig:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)


class ProjectConfig(_Strict):
    """A whole sources.yml: a list of sources."""

    version: str | None = None
    sources: list[SourceConfig]
    executor: Literal["in_process", "multiprocess"] = Field(
        default="in_process",
        description="How runs execute the steps (one per source): in one process, or one "
        "process per step.",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # Dango writes version: '1.0'; unquoted, YAML reads 1.0 as a number
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _unique_sources(self) -> ProjectConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled]
