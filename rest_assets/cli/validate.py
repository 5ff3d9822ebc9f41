"""`rest-assets validate`: check a config without calling any API, and say what it became.

Lists the assets and their lineage, then what each entry of the file became (which dialect
it was read as, the source it made, the client, resources and outputs), what was skipped
and which values come from `.dlt` files.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.config.load import read_project
from rest_assets.config.models import ProjectConfig, SourceConfig
from rest_assets.config.project_files import discover_config
from rest_assets.config.report import (
    LoadReport,
    SourceReport,
    describe_client,
    describe_output,
    describe_resource,
)
from rest_assets.dagster import build_definitions
from rest_assets.dagster.dlt_native.names import DLT_SOURCE_META, LOAD_ERROR_META
from rest_assets.dagster.metadata import raw_value
from rest_assets.dagster.naming import asset_key, schema_name

CONFIG_HELP = (
    "path to the config (default: sources.yml, else .dango/sources.yml, in the working "
    "directory); a connector file (CONFIG: inputs/outputs) works too"
)


def config_path(given: str | None) -> Path:
    """The config argument, or the project's config found in the working directory."""
    return Path(given) if given else discover_config()


def run(args: argparse.Namespace) -> int:
    """Validate the config, list the assets and lineage, and print the load report."""
    config = config_path(args.config)
    project, report = read_project(config)
    defs = build_definitions(project, database=":memory:")
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    print(f"{config}: valid, {len(keys)} asset(s)")
    for key in keys:
        parents = sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        suffix = f"  <- {', '.join(parents)}" if parents else ""
        print(f"  {key.to_user_string()}{suffix}")
    _print_report(project, report, {key: graph.get(key).metadata for key in keys})
    return 0


def _print_dlt_native(
    source: SourceConfig, entry: SourceReport, assets: Mapping[dg.AssetKey, Mapping[str, Any]]
) -> None:
    """The assets a `type: dlt_native` source became: its dlt resources, or a stand-in."""
    assert entry.dlt_native is not None
    native = entry.dlt_native.dlt_native
    function = f"{native.source_module}:{native.source_name}"
    where = entry.entries.get(native.source_name, entry.where)
    if source.enabled:
        print(
            f"    run by dlt through dagster-dlt: pipeline {source.name}, dataset "
            f"{schema_name(source)}"
        )
    for key, metadata in assets.items():
        if raw_value(metadata.get(DLT_SOURCE_META)) != function or source.name not in key.path:
            continue
        error = raw_value(metadata.get(LOAD_ERROR_META))
        if error is not None:
            print(
                f"    {where} -> {key.to_user_string()}: a stand-in for the dlt source "
                f"{function}, whose runs fail: {error}"
            )
            continue
        text = f"dlt resource {raw_value(metadata.get('dlt_resource'))} of {function}; "
        text += str(raw_value(metadata.get("write_disposition")) or "loads")
        text += f" into {raw_value(metadata.get('dagster/table_name'))}"
        if "primary_key" in metadata:
            text += f" (primary key {raw_value(metadata['primary_key'])})"
        print(f"    {where} -> {key.to_user_string()}: {text}")


def _print_report(
    project: ProjectConfig, report: LoadReport, metadata: Mapping[dg.AssetKey, Mapping[str, Any]]
) -> None:
    """What each entry of the file became (`rest-assets validate`)."""
    print("what each entry became:")
    for source, entry in zip(project.sources, report.sources, strict=True):
        named = f", named after {entry.name_origin}" if entry.name_origin else ""
        state = "" if source.enabled else " (disabled: no assets)"
        print(f"  {entry.where} -> source {source.name} ({entry.dialect}{named}){state}")
        if entry.dlt_native is not None:
            _print_dlt_native(source, entry, metadata)
            continue
        print(f"    {describe_client(source)}")
        for resource in source.resources:
            where = entry.entries.get(resource.name, entry.where)
            key = asset_key(source, resource.name).to_user_string()
            if not resource.selected:
                key += " (selected: false, no asset)"
            print(f"    {where} -> {key}: {describe_resource(resource)}")
        for output in source.outputs:
            where = entry.entries.get(output.name, entry.where)
            key = asset_key(source, output.name).to_user_string()
            print(f"    {where} -> {key}: {describe_output(output)}")
        for skipped in entry.skipped:
            print(f"    skipped {skipped}")
        for note in entry.notes:
            print(f"    note: {note}")
    for parked in report.parked:
        print(f"  {parked} -> parked (enabled: false): not validated, no assets")
    if report.files:
        print(f"  files read: {', '.join(report.files)}")
    if report.dlt_names:
        print(f"  from .dlt files (when not in the environment): {', '.join(report.dlt_names)}")
