"""`rest-assets cursor show|set|reset CONFIG RESOURCE`: inspect or rewind an asset's cursor.

A move is recorded as an `AssetObservation` (no data changes, no materialization) carrying
the new cursor, so the asset's history in the UI shows who moved it and to what; the next
run starts from it.

`set` refuses a value the cursor could not compare with its own values (a word for a numeric
cursor, a number for timestamps): every later run would fail on it. `reset` of an `append`
resource loads everything from `initial_value` again, on top of the rows already there: it
says so and needs `--yes`.
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
from rest_assets.extract.incremental import CursorState, IncrementalSpec, compare


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
        if name == "reset":
            action.add_argument(
                "--yes",
                action="store_true",
                help="reset an append resource although its next run appends everything again",
            )
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


def _check_kind(where: str, value: Any, current: Any, spec: IncrementalSpec) -> None:
    """Refuse a value the cursor cannot compare with its current (or initial) value."""
    if value is None:
        raise RestAssetsError(f"{where}: a cursor cannot be set to null; use `cursor reset`")
    reference = current if current is not None else spec.config.initial_value
    if reference is None:
        return
    try:
        compare(value, reference)
    except TypeError:
        raise RestAssetsError(
            f"{where}: {value!r} cannot be compared with the cursor's values (it holds "
            f"{reference!r}, {type(reference).__name__}); give a value of that kind, e.g. "
            f"{reference!r}"
        ) from None


def _run(args: argparse.Namespace) -> int:
    prepare_home(Path(args.config))
    source, resource = _find(args.config, args.resource)
    where = f"{source.name}/{resource.name}"
    spec = IncrementalSpec.for_endpoint(resource.endpoint, where, resource.primary_key)
    if spec is None:
        raise RestAssetsError(f"{where} is not incremental: it has no cursor")
    key = config_key(source, resource)
    if args.cursor_action == "reset" and resource.write_disposition == "append" and not args.yes:
        raise RestAssetsError(
            f"{where} appends: after a reset its next run loads everything from initial_value "
            f"{spec.start_value(None)!r} again, on top of the rows already in its table "
            "(duplicates). Pass --yes to reset anyway, or `cursor set` a later value"
        )
    with dg.DagsterInstance.get() as instance:
        if args.cursor_action == "set":
            value = _parse(args.value)
            current = read_cursor(instance, key, args.partition).state
            _check_kind(where, value, current.last_value if current else None, spec)
            record_cursor(instance, key, CursorState(value), "set", args.partition)
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
