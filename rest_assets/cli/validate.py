"""`rest-assets validate`: check a config without calling any API, and say what it became.

Lists the assets and their lineage, then what each entry of the file became (which dialect
it was read as, the source it made, the client, resources and outputs), what was skipped
and which values come from `.dlt` files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rest_assets.config.load import read_project
from rest_assets.config.models import ProjectConfig
from rest_assets.config.project_files import discover_config
from rest_assets.config.report import (
    LoadReport,
    describe_client,
    describe_output,
    describe_resource,
)
from rest_assets.dagster import build_definitions
from rest_assets.dagster.naming import asset_key

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
    _print_report(project, report)
    return 0


def _print_report(project: ProjectConfig, report: LoadReport) -> None:
    """What each entry of the file became (`rest-assets validate`)."""
    print("what each entry became:")
    for source, entry in zip(project.sources, report.sources, strict=True):
        named = f", named after {entry.name_origin}" if entry.name_origin else ""
        state = "" if source.enabled else " (disabled: no assets)"
        print(f"  {entry.where} -> source {source.name} ({entry.dialect}{named}){state}")
        if entry.dlt_native is not None:
            native = entry.dlt_native.dlt_native
            for resource in source.resources:
                print(
                    f"    {entry.entries.get(resource.name, entry.where)} -> "
                    f"{asset_key(source, resource.name).to_user_string()}: a stand-in for the "
                    f"dlt source {native.source_module}:{native.source_name}; its runs fail "
                    "until dlt_native is supported"
                )
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
