"""`rest-assets cursor show|set|reset CONFIG RESOURCE`: inspect or rewind an asset's cursor.

A move is recorded as an `AssetObservation` (no data changes, no materialization) carrying
the new cursor, so the asset's history in the UI shows who moved it and to what; the next
run starts from it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.cli.home import prepare_home
from rest_assets.config.load import load_project
from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.specs import config_key
from rest_assets.dagster.state import read_cursor, record_cursor
from rest_assets.errors import RestAssetsError
from rest_assets.extract.incremental import CursorState, IncrementalSpec


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `cursor` command and its `show`, `set` and `reset` actions."""
    cursor = sub.add_parser("cursor", help="show, set or reset an incremental resource's cursor")
    actions = cursor.add_subparsers(dest="cursor_action", required=True)
    for name, text in (
        ("show", "print the cursor the next run starts from"),
        ("set", "move the cursor to a value (recorded as an asset observation)"),
        ("reset", "forget the cursor: the next run starts from initial_value"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("config", help="path to sources.yml")
        action.add_argument("resource", help="resource name or source/resource")
        if name == "set":
            action.add_argument(
                "value", help="the new last value (JSON, e.g. 42, else taken as text)"
            )
        action.add_argument("--partition", help="a partition key of a partitioned asset")
        action.set_defaults(handler=_run)


def _find(config: str, name: str) -> tuple[SourceConfig, ResourceConfig]:
    project = load_project(config)
    wanted_source, _, wanted = name.rpartition("/")
    found = [
        (s, r)
        for s in project.sources
        for r in s.resources
        if r.name == wanted and wanted_source in ("", s.name)
    ]
    if len(found) != 1:
        known = ", ".join(f"{s.name}/{r.name}" for s in project.sources for r in s.resources)
        what = "matches no resource" if not found else "is ambiguous; use source/resource"
        raise RestAssetsError(f"{name!r} {what}; resources: {known}")
    return found[0]


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _run(args: argparse.Namespace) -> int:
    prepare_home(Path(args.config))
    source, resource = _find(args.config, args.resource)
    where = f"{source.name}/{resource.name}"
    spec = IncrementalSpec.for_endpoint(resource.endpoint, where, resource.primary_key)
    if spec is None:
        raise RestAssetsError(f"{where} is not incremental: it has no cursor")
    key = config_key(source, resource)
    with dg.DagsterInstance.get() as instance:
        if args.cursor_action == "set":
            record_cursor(instance, key, CursorState(_parse(args.value)), "set", args.partition)
        elif args.cursor_action == "reset":
            record_cursor(instance, key, None, "reset", args.partition)
        stored = read_cursor(instance, key, args.partition)
    state = stored.state
    print(f"{key.to_user_string()}  cursor_path: {spec.cursor_path}")
    if state is None:
        print(f"  last value: none (next run starts from initial_value {spec.start_value(None)!r})")
    else:
        print(f"  last value: {state.last_value!r}")
        print(f"  records remembered at it: {len(state.boundary_keys)}")
        print(f"  next run starts from: {spec.start_value(state)!r}")
    origin = stored.source
    if stored.run_id:
        origin += f" (run {stored.run_id})"
    if stored.action:
        origin += f" ({stored.action})"
    print(f"  recorded by: {origin}")
    return 0
