#!/usr/bin/env python3
"""Generate docs/config-reference.md from the pydantic config models.

    .venv/bin/python scripts/gen_config_reference.py          # rewrite the file
    .venv/bin/python scripts/gen_config_reference.py --check  # exit 1 when it is stale

Every model reachable from `ProjectConfig` gets a section: its docstring, then one row per
key with its type, default and description. A description comes from the field's
`Field(description=...)` when it has one, else from `DESCRIPTIONS` below (keys written
before descriptions lived on the models). tests/docs checks the committed file is current.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "config-reference.md"

DESCRIPTIONS: dict[str, str] = {
    "ProjectConfig.version": "Free-form version of the file; not interpreted.",
    "ProjectConfig.sources": "The APIs to load; each becomes an asset group.",
    "SourceConfig.name": "Asset group and key prefix; DuckDB schema `raw_<name>`.",
    "SourceConfig.enabled": "A disabled source defines no assets.",
    "SourceConfig.description": "Shown in the Dagster UI.",
    "SourceConfig.client": "How to reach the API.",
    "SourceConfig.resources": "One asset and table per resource; a string is a name and path.",
    "SourceConfig.schedule": "A schedule materializing every asset of the source.",
    "SourceConfig.dataset": "DuckDB schema instead of `raw_<name>`.",
    "ClientConfig.base_url": "Base URL joined with relative paths; may be `${VAR}`.",
    "ClientConfig.headers": "Headers on every request; values may hold `${VAR}`.",
    "ClientConfig.auth": "Default auth; a string is a type, `{token: ...}` means bearer.",
    "ClientConfig.paginator": "Default paginator; a string is a type; auto-detected if unset.",
    "ClientConfig.session": "A `requests.Session` (Python API only).",
    "ClientConfig.timeout": "Seconds per request.",
    "ClientConfig.rate_limit": "Client-side rate limit and retries.",
    "ClientConfig.show_error_body": "Add the (redacted, truncated) body to HTTP errors.",
    "ClientConfig.max_response_bytes": "Largest response body accepted (null: no limit).",
    "ClientConfig.max_response_seconds": "Longest time to read one response body.",
    "AuthConfig.type": "bearer, api_key, http_basic, oauth2_client_credentials, "
    "custom_header, none, or a registered name; other keys are the type's parameters.",
    "PaginatorConfig.type": "auto, single_page, json_link, header_link, header_cursor, "
    "offset, page_number, cursor, stripe, or a registered name; other keys are its parameters.",
    "RateLimitConfig.requests_per_second": "Average request rate shared by the source's assets.",
    "RateLimitConfig.retry_on": "Statuses retried with backoff (and Retry-After honoured).",
    "RateLimitConfig.max_retries": "Retries after the first attempt.",
    "ResourceConfig.name": "Resource, asset and (by default) table name.",
    "ResourceConfig.endpoint": "A path string, or the endpoint settings.",
    "ResourceConfig.write_disposition": "How a load changes the table: replace, append, merge.",
    "ResourceConfig.primary_key": "Column(s) identifying a row; merge key and checked key.",
    "ResourceConfig.merge_key": "Column(s) whose matching rows a merge replaces.",
    "ResourceConfig.table_name": "DuckDB table, when not the name.",
    "ResourceConfig.max_table_nesting": "Levels of nested data flattened into columns and "
    "child tables; deeper values are kept as JSON.",
    "ResourceConfig.nested_as_json": "Keep lists as JSON instead of child tables.",
    "ResourceConfig.selected": "False: no asset; children still fetch it inline.",
    "ResourceConfig.include_from_parent": "Parent fields copied into each row as "
    "`_<parent>_<field>`.",
    "ResourceConfig.auth": "Overrides the client's auth for this resource.",
    "ResourceConfig.processing_steps": "filter / map / yield_map steps applied to records.",
    "ResourceConfig.parallelized": "Fetch child requests on a bounded thread pool.",
    "ResourceConfig.concurrency": "Threads of a parallelized resource.",
    "ResourceConfig.parent_rows": "Parent rows a child handles per run: all, or only new "
    "ones (default: all for replace, new for append/merge).",
    "ResourceConfig.records": "A Python resource: a callable (or `pkg.module:function`) "
    "returning records instead of an endpoint.",
    "ResourceConfig.pool": "Dagster concurrency pool of the asset.",
    "ResourceConfig.columns": "Explicit column types: `{id: bigint}` or `[{name, type}]`.",
    "ResourceConfig.description": "Shown in the Dagster UI.",
    "ResourceConfig.schedule": "A schedule materializing this asset.",
    "ResourceConfig.partitions": "Time or window partitions of the asset.",
    "ResourceConfig.partition_by_parent": "One dynamic partition per parent key.",
    "ResourceConfig.sensor": "A sensor that polls for records beyond the cursor.",
    "ResourceConfig.owners": "Asset owners: emails or `team:name`.",
    "ResourceConfig.tags": "Asset tags (values: letters, digits, `_.-`).",
    "EndpointConfig.path": 'Relative to base_url, or a full URL; `""` is the base URL itself; '
    "may hold placeholders, and `{name}` of a plain param takes its value (the param then "
    "leaves the query string).",
    "EndpointConfig.method": "HTTP method.",
    "EndpointConfig.params": "Query parameters; placeholders allowed.",
    "EndpointConfig.json": "JSON body; placeholders allowed.",
    "EndpointConfig.data": "Form or raw body.",
    "EndpointConfig.headers": "Extra headers for this endpoint.",
    "EndpointConfig.paginator": "Paginator of this endpoint (beats defaults and client).",
    "EndpointConfig.data_selector": "JSONPath to the records; auto-detected when unset.",
    "EndpointConfig.response_actions": "In order, every match applies: a bare callable (every "
    "response), or {status_code, content, action} (neither: every response).",
    "EndpointConfig.incremental": "Incremental loading by a cursor field.",
    "EndpointConfig.auth": "Auth of this endpoint.",
    "EndpointConfig.timeout": "Seconds per request for this endpoint.",
    "IncrementalConfig.cursor_path": "Field of each record holding the cursor value.",
    "IncrementalConfig.initial_value": "Cursor start on the first run.",
    "IncrementalConfig.end_value": "Upper bound of the range (needs initial_value).",
    "IncrementalConfig.start_param": "Query parameter that receives the start value.",
    "IncrementalConfig.end_param": "Query parameter that receives the end value.",
    "IncrementalConfig.convert": "Callable applied to the cursor before it is sent.",
    "IncrementalConfig.row_order": "asc/desc: stop paging once records are out of range.",
    "IncrementalConfig.last_value_func": "max or min of the cursor values, or a callable "
    "over a tuple of values (`pkg.module:function` in YAML).",
    "IncrementalConfig.on_cursor_value_missing": "A record without the cursor: raise, "
    "include or exclude it.",
    "IncrementalConfig.lag": "Re-read this much before the last cursor (late updates): "
    "seconds for datetimes, days for dates, cursor units for numbers; what was loaded is "
    "skipped.",
    "IncrementalParam.type": "Always `incremental` (legacy form inside params).",
    "IncrementalParam.transform": "dlt's deprecated name of `convert`.",
    "IncrementalConfig.allow_external_schedulers": "dlt's Airflow scheduling; only "
    "false/null (use partitions or `window` for scheduled ranges).",
    "ResolveParam.type": "Always `resolve`.",
    "ResolveParam.resource": "Parent resource.",
    "ResolveParam.field": "Parent field whose value fills the path parameter.",
    "ResponseAction.status_code": "Status to match (the response's status equals it).",
    "ResponseAction.content": "Substring of the body to match.",
    "ResponseAction.action": "`ignore` (stop this walk, no records from the response), a "
    "callable, a list of callables, or `pkg.module:function`.",
    "ResourceConfig.merge_strategy": "dlt's `write_disposition: {disposition: merge, "
    "strategy: ...}` options, split out when the config loads.",
    "ResourceConfig.schema_contract": "What a load does with a new table, column or type "
    "(`evolve`, `freeze`, `discard_row`, `discard_value`; one mode or per entity).",
    "ResourceConfig.table_format": "dlt's destination table format: accepted with a warning; "
    "rest-assets writes DuckDB tables.",
    "ResourceConfig.file_format": "dlt's loader file format: accepted with a warning; "
    "rest-assets stages JSON and writes DuckDB tables.",
    "SchemaContractConfig.tables": "A new table (a new child table of a list field).",
    "SchemaContractConfig.columns": "A new column.",
    "SchemaContractConfig.data_type": "A value that does not fit its column's type.",
    "MergeStrategyConfig.strategy": "`delete-insert` (by primary and merge key), `upsert` "
    "(update or insert by primary key), `insert-only` (new keys only) or `scd2` (versions).",
    "MergeStrategyConfig.deduplicated": "delete-insert: the load's rows are already unique "
    "by key; skip deduplication.",
    "MergeStrategyConfig.source_filter": "delete-insert: an SQL condition; rows of the load "
    "not matching it are discarded.",
    "MergeStrategyConfig.destination_scope": "delete-insert: an SQL condition selecting the "
    "table rows to delete instead of matching keys.",
    "MergeStrategyConfig.skip_unchanged_rows": "upsert: leave rows whose values did not change.",
    "MergeStrategyConfig.row_version_column_name": "scd2: the column that tells versions "
    "apart (default: a hash of the row).",
    "MergeStrategyConfig.validity_column_names": "scd2: the from / to column names "
    "(default `_dlt_valid_from`, `_dlt_valid_to`).",
    "MergeStrategyConfig.active_record_timestamp": "scd2: the `valid_to` of the active "
    "version (default NULL).",
    "MergeStrategyConfig.boundary_timestamp": "scd2: the time a load's versions start and "
    "retired ones end (default: the load's time).",
    "ColumnConfig.name": "The column's name (list form; in the mapping form the key names it).",
    "ColumnConfig.merge_key": "Part of the merge key.",
    "ColumnConfig.unique": "Recorded, not enforced (as in dlt on DuckDB).",
    "ColumnConfig.dedup_sort": "`asc` / `desc`: which record of a key a merge keeps "
    "(lowest / highest value of this column).",
    "ColumnConfig.hard_delete": "A merge deletes the rows whose record carries this flag "
    "(true, or any non-null value for a non-boolean column).",
    "ColumnConfig.precision": "bigint 8/16/32/64/128 bits; decimal digits; timestamp "
    "fraction digits 0/3/6/9 (with `timezone: false`).",
    "ColumnConfig.scale": "decimal: digits after the point (default 9).",
    "ColumnConfig.timezone": "timestamp: false makes a time-zone-naive column.",
    "ColumnConfig.description": "What the column holds; shown in the Dagster UI's schema.",
    "ColumnConfig.partition": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.cluster": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.sort": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.row_key": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.parent_key": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.root_key": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.variant": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.incremental": "dlt schema hint: accepted, no effect on a DuckDB table.",
    "ColumnConfig.data_type": "DuckDB or dlt type name.",
    "ColumnConfig.nullable": "False: a null fails the load.",
    "ColumnConfig.primary_key": "Part of the primary key.",
    "ProcessingStep.filter": "Keep records for which the callable returns true.",
    "ProcessingStep.map": "Replace each record with the callable's result.",
    "ProcessingStep.yield_map": "Replace each record with the records the callable yields.",
    "ScheduleConfig.cron": "Cron expression.",
    "ScheduleConfig.timezone": "Timezone of the cron expression.",
    "ScheduleConfig.running": "Start the schedule when the code location loads.",
    "PartitionsConfig.type": "daily, hourly, weekly, monthly, or windows (dynamic).",
    "PartitionsConfig.start": "First partition (time partitions).",
    "PartitionsConfig.end": "Last partition, if any.",
    "PartitionsConfig.timezone": "Timezone of the partitions.",
    "PartitionsConfig.format": "strftime of `{partition.start}`/`{partition.end}` "
    "(ISO 8601 if unset).",
    "PartitionsConfig.end_offset": "Partitions beyond the current one to expose.",
    "SensorConfig.enabled": "Define the sensor.",
    "SensorConfig.running": "Start it when the code location loads.",
    "SensorConfig.minimum_interval_seconds": "Seconds between two polls.",
}


def reachable_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Models reachable from `root` through field annotations, breadth first."""
    seen: list[type[BaseModel]] = []
    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue.extend(_models_in(field.annotation))
    return seen


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def type_text(annotation: Any) -> str:
    """A short, readable type: `list of ResourceConfig`, `"GET" | "POST"`, `int | null`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        parts: list[str] = []
        for arg in args:
            text = type_text(arg)
            if text not in parts:
                parts.append(text)
        if "any" in parts:  # `Model | Any` is "a Model or any object (Python API)"
            parts = [p for p in parts if p != "any"] + ["object"]
        return " \\| ".join(parts)
    if origin in (list, tuple, set):
        return f"list of {type_text(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {type_text(args[1])}" if args else "mapping"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return " \\| ".join(json.dumps(m.value) for m in annotation)
    if inspect.isclass(annotation):
        return {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "AuthBase": "auth object (Python)",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def default_text(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "see section"
    else:
        value = field.default
    if value is PydanticUndefined or value is None:
        return "null" if value is None else ""
    return f"`{json.dumps(value, default=str)}`"


def description_text(model: type[BaseModel], name: str, field: Any) -> str:
    key = field.alias or name
    text = field.description or ""
    # A subclass (IncrementalParam) shares its base's keys and their descriptions.
    for owner in model.__mro__:
        if text:
            break
        text = DESCRIPTIONS.get(f"{getattr(owner, '__name__', '')}.{key}", "")
    return " ".join(text.split()).replace("|", "\\|")


def dialect_roots() -> list[type[BaseModel]]:
    """Models of the other dialects, read and translated into the models above."""
    from rest_assets.config.dialects.connector import ConnectorFile
    from rest_assets.config.dialects.dango import DltNativeSourceConfig

    return [ConnectorFile, DltNativeSourceConfig]


def dialect_models() -> list[type[BaseModel]]:
    from rest_assets.config.models import ProjectConfig

    documented = reachable_models(ProjectConfig)
    out: list[type[BaseModel]] = []
    for root in dialect_roots():
        out += [m for m in reachable_models(root) if m not in documented and m not in out]
    return out


def _sections(models: list[type[BaseModel]]) -> list[str]:
    lines: list[str] = []
    for model in models:
        lines += [f"## {model.__name__}", ""]
        doc = inspect.cleandoc(model.__doc__ or "")
        if doc:
            lines += [" ".join(doc.split()), ""]
        if model.model_config.get("extra") == "allow":
            lines += ["Other keys are passed to the selected type as parameters.", ""]
        lines += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            lines.append(
                f"| `{key}` | {type_text(field.annotation)} | {default_text(field)} | "
                f"{description_text(model, name, field)} |"
            )
        lines.append("")
    return lines


def render() -> str:
    """The whole reference as Markdown."""
    from rest_assets.config.models import ProjectConfig

    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by scripts/gen_config_reference.py from rest_assets/config/models.py;"
        " do not edit by hand. -->",
        "",
        "Every key of a `sources.yml` (or of the dict given to `build_definitions`), with "
        "its type and default. Unknown keys are errors. `${VAR}` is allowed in strings "
        "sent to the API (base URL, headers, params, auth) and resolved per request. "
        "Sources in Dango's `type: rest_api` dialect are translated into these models "
        "first (see [migration.md](migration.md)); the other dialects' keys follow below.",
        "",
    ]
    models = reachable_models(ProjectConfig)
    lines.append("Sections: " + ", ".join(f"[{m.__name__}](#{m.__name__.lower()})" for m in models))
    lines.append("")
    lines += _sections(models)
    others = dialect_models()
    lines += [
        "# Other dialects",
        "",
        "Files in these shapes load too; each is translated into the models above when it "
        "loads (`rest-assets validate` shows what each entry became). A read/write REST "
        "connector file has `CONFIG` at its top level (one source, named after the file); a "
        "Dango `type: dlt_native` source is run by dlt (extra `rest-assets[dlt]`), one asset per "
        "resource of the dlt source.",
        "",
        "Sections: " + ", ".join(f"[{m.__name__}](#{m.__name__.lower()})" for m in others),
        "",
    ]
    lines += _sections(others)
    return "\n".join(lines)


def missing_descriptions() -> list[str]:
    """`Model.key` of every field that has no description anywhere."""
    from rest_assets.config.models import ProjectConfig

    return [
        f"{m.__name__}.{f.alias or n}"
        for m in [*reachable_models(ProjectConfig), *dialect_models()]
        for n, f in m.model_fields.items()
        if not description_text(m, n, f)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/config-reference.md")
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    text = render()
    for key in missing_descriptions():
        print(f"warning: {key} has no description", file=sys.stderr)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run scripts/gen_config_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
