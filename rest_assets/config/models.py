"""The configuration spec: pydantic models in the shape of dlt's RESTAPIConfig.

These models hold the config as written: `${VAR}` references stay references (they are
resolved only when a request is built) and callables given through the Python API are kept
as they are. They know nothing of HTTP, DuckDB or Dagster.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    ValidationError,
    field_validator,
    model_validator,
)
from requests.auth import AuthBase

from rest_assets.config.tables import (
    FileFormat,
    MergeStrategyConfig,
    Naming,
    SchemaContractConfig,
    TableFormat,
    TypeInference,
    split_write_disposition,
)

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

    def params(self) -> dict[str, Any]:
        """Everything but `type`, as given: an explicit null (`total_path: null`) is a value."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "type"}


class RateLimitConfig(_Strict):
    """Client-side throttling and retries shared by every request of a source."""

    requests_per_second: float | None = Field(default=None, gt=0)
    retry_on: list[int] = Field(default_factory=lambda: [429, 500, 502, 503, 504])
    max_retries: int = Field(default=5, ge=0)


class ClientConfig(_Strict):
    """How to reach the API: base URL, headers, auth, default paginator."""

    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    # an auth object (dlt's auth classes are dict-like too) is kept whole, never read as a dict
    auth: InstanceOf[AuthBase] | AuthConfig | Any | None = None
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
    """Incremental loading: where the cursor lives in each record and where it starts.

    The options are dlt's (`dlt.sources.incremental`) with the same defaults; `window`,
    `lookback` and `max_parent_cursors` are rest-assets' own.
    """

    cursor_path: str
    initial_value: Any = None
    end_value: Any = None
    start_param: str | None = None
    end_param: str | None = None
    convert: Any | None = None
    row_order: Literal["asc", "desc"] | None = None
    # "max", "min", a callable over a tuple of values (Python) or pkg.module:function (YAML)
    last_value_func: Literal["max", "min"] | Any = "max"
    on_cursor_value_missing: Literal["raise", "include", "exclude"] = "raise"
    on_cursor_value_invalid: Literal["exclude", "include", "raise"] = Field(
        default="exclude",
        description="A record whose cursor value cannot be compared with the others (e.g. "
        "'0000-00-00 00:00:00' among ISO timestamps): exclude it (a warning names it), include "
        "it without moving the cursor, or raise.",
    )
    lag: float | None = None
    range_start: Literal["open", "closed"] = Field(
        default="closed",
        description="closed: records at the start value are kept (each once); open: dropped.",
    )
    range_end: Literal["open", "closed"] = Field(
        default="open",
        description="With end_value: open drops records at the end value, closed keeps them.",
    )
    primary_key: str | list[str] | None = Field(
        default=None,
        description="Key that identifies a record at the boundary (default: the resource's "
        "primary_key); [] turns the boundary deduplication off.",
    )
    allow_external_schedulers: bool | None = None
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

    @field_validator("last_value_func", mode="before")
    @classmethod
    def _last_value_func(cls, value: Any) -> Any:
        if value is max or value is None:
            return "max"
        if value is min:
            return "min"
        if isinstance(value, str) and value not in ("max", "min") and ":" not in value:
            raise ValueError(
                f"last_value_func {value!r} is not max or min; give max, min, a callable "
                "(Python) or pkg.module:function (YAML)"
            )
        if not isinstance(value, str) and not callable(value):
            raise ValueError("last_value_func must be max, min or a callable")
        return value

    @field_validator("primary_key", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        return [value] if isinstance(value, str) else value

    @field_validator("allow_external_schedulers")
    @classmethod
    def _no_external_scheduler(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError(
                "allow_external_schedulers: true takes the range from an Airflow schedule in "
                "dlt; here, use partitions (daily, hourly, ...) with {partition.start} and "
                "{partition.end}, or incremental.window; remove it"
            )
        return value


class IncrementalParam(IncrementalConfig):
    """Legacy `{type: incremental, cursor_path, initial_value}` inside `params`: the param
    sends the start value; `transform` is dlt's deprecated name of `convert`."""

    type: Literal["incremental"]
    transform: Any | None = None

    @model_validator(mode="after")
    def _start_only(self) -> IncrementalParam:
        if self.end_value is not None or self.end_param is not None:
            raise ValueError(
                "a param incremental sends the start value only; to set end_value (and "
                "end_param) use endpoint.incremental instead, as in dlt"
            )
        if self.start_param is not None:
            raise ValueError(
                "start_param does not apply here: the param's own name is the start param; "
                "remove it"
            )
        if self.transform is not None:
            if self.convert is not None:
                raise ValueError("give convert (transform is its old name), not both")
            self.convert, self.transform = self.transform, None
        return self


class ResponseAction(_Strict):
    """What to do with a response matching a status code and/or content (neither: every
    response): "ignore", a callable, a list of callables, or (YAML) `pkg.module:function`."""

    status_code: int | None = None
    content: str | None = None
    action: str | Any

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "ignore" and ":" not in value:
            raise ValueError(
                f"action {value!r} is not one rest-assets performs (dlt accepts any string "
                "and does nothing with it); use 'ignore', a callable, or pkg.module:function "
                "in YAML; retries are client.rate_limit.retry_on"
            )
        if isinstance(value, list) and not all(
            callable(v) or (isinstance(v, str) and (v == "ignore" or ":" in v)) for v in value
        ):
            raise ValueError("a list of actions holds callables (or pkg.module:function names)")
        if value is None or not (isinstance(value, str | list) or callable(value)):
            raise ValueError(
                "action must be 'ignore', a callable or a list of callables "
                f"(got {type(value).__name__})"
            )
        return value

    @model_validator(mode="after")
    def _ignore_needs_condition(self) -> ResponseAction:
        if self.action == "ignore" and self.status_code is None and self.content is None:
            raise ValueError(
                "action: ignore needs a status_code or content to match on (it would ignore "
                "every response; dlt does nothing with it)"
            )
        return self


def _response_action(item: Any, index: int) -> Any:
    """One entry of `response_actions`: a callable (or its dotted path), or an action dict."""
    if callable(item) and not isinstance(item, dict | ResponseAction):
        return item
    if isinstance(item, str):
        if ":" in item:
            return item  # a bare callable named as pkg.module:function
        raise ValueError(
            f"response_actions[{index}]: {item!r} is neither a callable's pkg.module:function "
            "nor an action dict such as {status_code: 404, action: ignore}"
        )
    if isinstance(item, ResponseAction):
        return item
    if not isinstance(item, dict):
        raise ValueError(
            f"response_actions[{index}] must be a callable or an action dict such as "
            f"{{status_code: 404, action: ignore}} (got {type(item).__name__})"
        )
    if "action" not in item:
        raise ValueError(
            f"response_actions[{index}] has no action; add action: ignore (or a callable), "
            "e.g. {status_code: 404, action: ignore}"
        )
    unknown = sorted(set(item) - {"status_code", "content", "action"})
    if unknown:
        raise ValueError(
            f"response_actions[{index}]: unknown key {unknown[0]!r}; an action takes "
            "status_code, content and action"
        )
    try:
        return ResponseAction.model_validate(item)
    except ValidationError as exc:
        problems = "; ".join(
            ("".join(f"{p}: " for p in e["loc"])) + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise ValueError(f"response_actions[{index}]: {problems}") from None


ParamValue = Annotated[ResolveParam | IncrementalParam, Field(discriminator="type")]


# The page guards of every endpoint (mirrors rest_assets.http.pagination, which config
# must not import): a cap far beyond real APIs, and empty pages in a row that end a walk.
DEFAULT_MAX_PAGES = 100_000
DEFAULT_MAX_EMPTY_PAGES = 3


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
    # dicts become ResponseAction in the validator below; callables and dotted paths stay
    response_actions: list[ResponseAction | Any] = Field(default_factory=list)
    incremental: IncrementalConfig | None = None
    # an auth object (dlt's auth classes are dict-like too) is kept whole, never read as a dict
    auth: InstanceOf[AuthBase] | AuthConfig | Any | None = None
    max_pages: int | None = Field(
        default=DEFAULT_MAX_PAGES,
        gt=0,
        description="Stop after this many pages (null: no limit); reaching the default "
        "logs a warning.",
    )
    max_empty_pages: int | None = Field(
        default=DEFAULT_MAX_EMPTY_PAGES,
        ge=1,
        description="Stop, with a warning, after this many pages in a row without records "
        "while the paginator still reports a next page (null: no limit).",
    )
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

    @field_validator("response_actions", mode="before")
    @classmethod
    def _actions(cls, value: Any) -> Any:
        if value is None:
            return []
        items = value if isinstance(value, list | tuple) else [value]
        return [_response_action(item, i) for i, item in enumerate(items)]

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
    """An explicit column: dlt's column hints (see rest_assets.config.columns), and what it
    holds."""

    name: str | None = None
    data_type: str | None = None
    nullable: bool = True
    primary_key: bool = False
    merge_key: bool = False
    unique: bool = False
    dedup_sort: Literal["asc", "desc"] | None = None
    hard_delete: bool = False
    precision: int | None = None
    scale: int | None = None
    timezone: bool | None = None
    description: str | None = Field(
        default=None, description="What the column holds; shown in the Dagster UI's schema."
    )
    # dlt's schema-only hints: accepted, no effect on a DuckDB table (as in dlt)
    partition: bool | None = None
    cluster: bool | None = None
    sort: bool | None = None
    row_key: bool | None = None
    parent_key: bool | None = None
    root_key: bool | None = None
    variant: bool | None = None
    incremental: bool | None = None

    def hints(self) -> dict[str, Any]:
        """The hints as given (unset ones left out)."""
        return self.model_dump(exclude_none=True, exclude={"name", "description"})


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
    # from dlt's `write_disposition: {disposition: merge, strategy: ..., ...}`
    merge_strategy: MergeStrategyConfig | None = None
    primary_key: list[str] = Field(default_factory=list)
    merge_key: list[str] = Field(default_factory=list)
    table_name: str | None = None
    schema_contract: SchemaContractConfig | None = None
    # dlt's destination formats: accepted with a warning, DuckDB tables are written
    table_format: TableFormat | None = None
    file_format: FileFormat | None = None
    max_table_nesting: int | None = Field(default=None, ge=0)
    nested_as_json: bool = False
    selected: bool = True
    include_from_parent: list[str] = Field(default_factory=list)
    # an auth object (dlt's auth classes are dict-like too) is kept whole, never read as a dict
    auth: InstanceOf[AuthBase] | AuthConfig | Any | None = None
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
    allow_empty: bool = Field(
        default=False,
        description="A replace that finds no records may empty the table. By default it "
        "fails instead when the last load had rows (a 204, {data: null} or a maintenance "
        "page is rarely the data being gone), leaving the table as it was.",
    )

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_shorthand(cls, value: Any) -> Any:
        return AuthConfig(type=value) if isinstance(value, str) else value

    @field_validator("endpoint", mode="before")
    @classmethod
    def _endpoint_shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _disposition_dict(cls, value: Any) -> Any:
        # dlt also accepts {"disposition": "merge", "strategy": ..., options}; a dict that is
        # not valid is left for the field's validator, whose error names the field
        if not isinstance(value, dict) or not isinstance(value.get("write_disposition"), dict):
            return value
        try:
            disposition, strategy = split_write_disposition(value["write_disposition"])
        except ValueError:
            return value
        value = {**value, "write_disposition": disposition}
        if strategy is not None:
            value["merge_strategy"] = strategy
        return value

    @field_validator("write_disposition", mode="before")
    @classmethod
    def _disposition_name(cls, value: Any) -> Any:
        if isinstance(value, dict) or value == "skip":
            split_write_disposition(value)  # raises, saying what is wrong
        return value

    @field_validator("table_name", mode="before")
    @classmethod
    def _table_name_text(cls, value: Any) -> Any:
        if callable(value):
            raise ValueError(
                "a function as table_name (tables chosen per record) is not supported: each "
                "resource is one Dagster asset writing one table. Make one resource per table, "
                "each with its own table_name and a filter step, e.g. "
                "{name: push_events, table_name: push_event, processing_steps: "
                "[{filter: <record is a PushEvent>}], endpoint: events}"
            )
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
    def _column_keys(self) -> ResourceConfig:
        # dlt: a column's primary_key / merge_key hint adds it to the resource's key
        for attr in ("primary_key", "merge_key"):
            keys = getattr(self, attr)
            for name, column in self.columns.items():
                if getattr(column, attr) and name not in keys:
                    keys.append(name)
        if self.merge_strategy is not None:
            strategy = self.merge_strategy.strategy
            if strategy in ("upsert", "insert-only") and not self.primary_key:
                raise ValueError(
                    f"merge strategy {strategy} needs a primary_key (it updates or inserts "
                    "records by key)"
                )
        for key in ("table_format", "file_format"):
            value = getattr(self, key)
            if value is not None:
                _warn_ignored(
                    f"resource {self.name!r}: {key} {value!r} is accepted but has no effect: "
                    "rest-assets writes DuckDB tables"
                )
        return self

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
            out = {}
            for key, spec in value.items():
                spec = {"data_type": spec} if isinstance(spec, str) else spec
                named = spec.get("name") if isinstance(spec, dict) else None
                if named is not None and named != key:
                    _warn_ignored(
                        f"columns.{key}.name {named!r} is ignored: in a mapping the key names "
                        "the column (as in dlt); use the list form to name it there"
                    )
                out[key] = spec
            return out
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
    naming: Naming = Field(
        default="snake_case",
        description="Table and column names: snake_case (dlt's default) or direct (as the API "
        "spells them).",
    )
    type_inference: TypeInference = Field(
        default="dlt",
        description="Column types: dlt (ISO timestamps become timestamps, other strings stay "
        "text) or duckdb (DuckDB's own inference: dates, times, UUIDs, naive timestamps).",
    )
    schema_contract: SchemaContractConfig | None = Field(
        default=None,
        description="What loads do with new tables, columns and types (a resource's own "
        "setting replaces it).",
    )
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


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_ignored(message: str) -> None:
    """A setting that is accepted but has no effect: one warning per message and process."""
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    logging.getLogger("rest_assets.config").warning(message)


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
