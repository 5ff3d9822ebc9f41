"""dbt sources for the tables rest-assets lands, keyed so dagster-dbt finds our assets.

One dbt source per enabled rest-assets source, named after it, in its schema (`raw_<source>`
or `dataset`), with a table per selected resource (and one per child table the DuckDB file
holds). dagster-dbt's default translator keys a source table `[source name, table name]`: a
table is named like the last part of the resource's asset key, its `identifier` is the
DuckDB table, and where our key is not `[source, name]` (a `key_prefix`, a translator)
`config.meta.dagster.asset_key` carries it. So `source('blog', 'posts')` in a dbt model is
an upstream of the asset `blog/posts`, with no translator code on the dbt side.

Columns come from the DuckDB table when the file has it, then from the resource's
`columns:` config and the schema its asset spec publishes; descriptions from the config, the
spec and rest-assets' own columns. `checks.freshness` becomes the table's dbt freshness,
measured on the time in `_ra_load_id`. The YAML uses the `config:` block of dbt 1.10+.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from rest_assets.config.columns import normalize_columns
from rest_assets.config.models import FreshnessConfig, ProjectConfig, SourceConfig
from rest_assets.dagster.definitions import database_path, project_config
from rest_assets.dagster.naming import asset_name, check_collisions, schema_name, table_name
from rest_assets.dagster.specs import ResourceSpec, resource_specs
from rest_assets.dagster.translator import RestAssetsTranslator
from rest_assets.extract.plan import ResourcePlan, plan_source
from rest_assets.load import TableShape, table_shape
from rest_assets.load.columns import (
    LIST_IDX,
    LOAD_ID,
    PARENT_ID,
    PARTITION_COLUMN,
    ROOT_ID,
    ROW_ID,
)

HEADER = "# Written by `rest-assets dbt-sources`"
# `_ra_load_id` starts with the load's time in epoch nanoseconds (see load.spec.new_load_id)
LOADED_AT = "to_timestamp(cast(split_part(_ra_load_id, '.', 1) as bigint) / 1e9)"

OWN_COLUMNS = {
    LOAD_ID: "The rest-assets load that wrote the row (its time in epoch nanoseconds, then a "
    "random suffix); the load_id of the asset's materialization.",
    ROW_ID: "Row id given by rest-assets; the rows of child tables point to it.",
    PARENT_ID: "_ra_id of the row this list item belongs to.",
    ROOT_ID: "_ra_id of the row of the resource's own table this list item belongs to.",
    LIST_IDX: "Position of the item in its list.",
    PARTITION_COLUMN: "Dagster partition key of the run that loaded the row.",
}


@dataclass
class DbtSources:
    """A dbt `sources.yml` document, and notes on config dbt cannot express."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_yaml(self, origin: str | None = None) -> str:
        """The YAML text, headed by a comment naming what it was made from."""
        made_from = f" from {origin}" if origin else ""
        head = f"{HEADER}{made_from}; run it again to update this file.\n"
        body = yaml.dump(
            self.document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        return head + body


class _Dumper(yaml.SafeDumper):
    """Multi-line text as YAML block scalars, as a person would write a description."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dbt_sources(
    config: str | Path | Mapping[str, Any] | ProjectConfig,
    database: str | Path | None = None,
    translator: RestAssetsTranslator | None = None,
) -> DbtSources:
    """The dbt sources of a project's tables (see the module docstring).

    `database` is the DuckDB file whose tables give columns and types (default as
    `build_definitions`: `$REST_ASSETS_DATABASE`, else warehouse.duckdb beside the config);
    without the file, columns come from the config alone. `translator` is the one the
    definitions use, so the asset keys match.
    """
    project, base_dir = project_config(config)
    db = database_path(database, base_dir)
    chosen = translator or RestAssetsTranslator()
    notes: list[str] = []
    sources = []
    for index, source in enumerate(project.sources):
        if not source.enabled:
            continue
        where = f"sources[{index}]({source.name})"
        check_collisions(source)
        specs = resource_specs(source, plan_source(source, where), chosen)
        tables: list[dict[str, Any]] = []
        for spec in specs:
            shape = table_shape(db, schema_name(source), table_name(source, spec.plan.resource))
            tables.append(_table(source, spec, shape, notes))
            for child in shape.children if shape else ():
                tables.append(_child_table(source, spec, child))
        entry: dict[str, Any] = {"name": source.name}
        if source.description:
            entry["description"] = _dbt_text(source.description)
        entry["schema"] = schema_name(source)
        entry["tables"] = tables
        sources.append(entry)
    return DbtSources({"version": 2, "sources": sources}, notes)


def _table(
    source: SourceConfig, spec: ResourceSpec, shape: TableShape | None, notes: list[str]
) -> dict[str, Any]:
    resource = spec.plan.resource
    name = asset_name(resource.name)
    table: dict[str, Any] = {
        "name": name,
        "identifier": shape.name if shape else table_name(source, resource),
    }
    if spec.asset.description:
        table["description"] = spec.asset.description
    settings: dict[str, Any] = {}
    freshness = resource.checks.freshness
    if freshness is not None:
        settings["loaded_at_field"] = LOADED_AT
        settings["freshness"] = _freshness(freshness)
        if freshness.deadline_cron:
            notes.append(
                f"{source.name}.{resource.name}: checks.freshness.deadline_cron has no dbt "
                f"equivalent; the dbt freshness checks the age only ({freshness.max_lag_minutes:g} "
                "minutes)"
            )
    key_meta = _asset_key_meta(spec.key, [source.name, name])
    if key_meta:
        settings["meta"] = key_meta
    if settings:
        table["config"] = settings
    columns = _columns(spec, shape)
    if columns:
        table["columns"] = columns
    return table


def _child_table(source: SourceConfig, spec: ResourceSpec, child: TableShape) -> dict[str, Any]:
    parent = f"{schema_name(source)}.{table_name(source, spec.plan.resource)}"
    table: dict[str, Any] = {
        "name": child.name,
        "identifier": child.name,
        "description": f"List items of {parent} rows, loaded with the asset "
        f"{spec.key.to_user_string()}; _ra_root_id is the _ra_id of their {parent} row.",
    }
    # the child is named under the same prefix as the resource's asset key
    key_meta = _asset_key_meta(
        dg.AssetKey([*spec.key.path[:-1], child.name]), [source.name, child.name]
    )
    if key_meta:
        table["config"] = {"meta": key_meta}
    columns = [_column(n, t, None) for n, t in child.columns]
    if columns:
        table["columns"] = columns
    return table


def _asset_key_meta(key: dg.AssetKey, default: list[str]) -> dict[str, Any] | None:
    """dagster-dbt's `meta.dagster.asset_key`, needed only where its default key differs."""
    if list(key.path) == default:
        return None
    return {"dagster": {"asset_key": list(key.path)}}


def _freshness(config: FreshnessConfig) -> dict[str, Any]:
    after = {"count": math.ceil(config.max_lag_minutes), "period": "minute"}
    return {"error_after" if config.severity == "error" else "warn_after": after}


def _columns(spec: ResourceSpec, shape: TableShape | None) -> list[dict[str, Any]]:
    """Columns in table order, then those only the config or the spec's schema names."""
    resource = spec.plan.resource
    configured = {name: column.description for name, column in resource.columns.items()}
    configured_types = {
        name: column.duckdb_type
        for name, column in normalize_columns(
            {k: v.model_dump(exclude={"description"}) for k, v in resource.columns.items()}
        ).items()
    }
    published = _published_columns(spec.asset)
    copied = _copied_from_parent(spec.plan)
    ordered: dict[str, str | None] = {}
    for name, duckdb_type in shape.columns if shape else ():
        ordered[name] = duckdb_type
    for name in configured:
        ordered.setdefault(name, configured_types.get(name))
    for name, (column_type, _) in published.items():
        ordered.setdefault(name, column_type)
    out = []
    for name, column_type in ordered.items():
        description = (
            configured.get(name) or published.get(name, (None, None))[1] or copied.get(name)
        )
        out.append(_column(name, column_type, description))
    return out


def _copied_from_parent(plan: ResourcePlan) -> dict[str, str]:
    """Descriptions of the `include_from_parent` columns (`_posts_title`), by name."""
    if plan.parent is None:
        return {}
    return {
        f"_{plan.parent}_{plan.fields[text].suffix}": f"{text} of the {plan.parent} row this "
        "row was fetched for (include_from_parent)."
        for text in plan.resource.include_from_parent
        if text in plan.fields
    }


def _published_columns(spec: dg.AssetSpec) -> dict[str, tuple[str | None, str | None]]:
    """`(type, description)` by name from the asset spec's `dagster/column_schema`."""
    value = spec.metadata.get("dagster/column_schema")
    schema = value.value if isinstance(value, dg.TableSchemaMetadataValue) else value
    if not isinstance(schema, dg.TableSchema):
        return {}
    return {c.name: (c.type or None, c.description or None) for c in schema.columns}


def _dbt_text(text: str) -> str:
    """dbt renders descriptions as Jinja: text that looks like Jinja stays literal."""
    if "{{" in text or "{%" in text or "{#" in text:
        return "{% raw %}" + text + "{% endraw %}"
    return text


def _column(name: str, column_type: str | None, description: str | None) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name}
    text = description or OWN_COLUMNS.get(name)
    if text:
        column["description"] = _dbt_text(text)
    if column_type:
        column["data_type"] = column_type
    return column
