"""The argparse wiring of `rest-assets inspect`, `init` and `add`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rest_assets.http.redact import redact_url
from rest_assets.inspect import inspect_endpoint
from rest_assets.wizard.add import add_endpoint
from rest_assets.wizard.config_file import dump, init_config
from rest_assets.wizard.errors import WizardError
from rest_assets.wizard.options import (
    AUTH_TYPES,
    DISPOSITIONS,
    AddOptions,
    AuthOptions,
    check_no_literal_secrets,
    parse_pairs,
)
from rest_assets.wizard.pasted_urls import without_credentials
from rest_assets.wizard.prompts import confirm, stdin_is_tty


def register_commands(sub: Any) -> None:
    """Add `inspect`, `init` and `add` to the `rest-assets` subcommand parser."""
    inspect = sub.add_parser(
        "inspect",
        help="fetch the first pages of an endpoint and suggest its config",
        description="Fetch the first pages of URL and suggest data_selector, paginator, "
        "primary key and incremental cursor field.",
    )
    inspect.add_argument("url", help="the endpoint's full URL")
    _auth_arguments(inspect)
    _request_arguments(inspect)
    inspect.add_argument("--json", action="store_true", help="print the suggestion as JSON")
    inspect.set_defaults(handler=_cmd_inspect)

    init = sub.add_parser(
        "init",
        help="create a new sources.yml with a commented header",
        description="Create a new sources.yml. In a terminal, offers to add a first source.",
    )
    init.add_argument("path", nargs="?", default="sources.yml", help="default: %(default)s")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=_cmd_init)

    add = sub.add_parser(
        "add",
        help="test an endpoint live and add it to sources.yml",
        description="Test an endpoint against the live API and add it to PATH as a new "
        "source, or as a resource of the existing source --name. Interactive in a terminal "
        "unless --yes. A new source is appended as text (the file's comments are kept); a "
        "resource added inside an existing source re-writes the file, keeping only the "
        "comments at its top. The result is validated before it replaces the file.",
    )
    add.add_argument("path", help="the sources.yml to add to (created when missing)")
    add.add_argument("--name", help="source name (new, or existing to add a resource to it)")
    add.add_argument("--base-url", help="the API's base URL (new sources)")
    add.add_argument("--endpoint", help="endpoint path relative to the base URL, e.g. orders")
    add.add_argument("--resource", help="resource/table name (default: from the path)")
    _auth_arguments(add)
    _request_arguments(add)
    add.add_argument("--primary-key", help="override the suggested primary key")
    add.add_argument(
        "--incremental", action="store_true", help="load incrementally on the cursor field"
    )
    add.add_argument("--cursor-field", help="override the suggested incremental cursor field")
    add.add_argument("--write-disposition", choices=DISPOSITIONS)
    add.add_argument("--yes", "-y", action="store_true", help="no questions: use flags/suggestions")
    add.set_defaults(handler=_cmd_add)


def _auth_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("authentication (secrets only as environment variables)")
    group.add_argument("--auth-type", choices=AUTH_TYPES)
    group.add_argument("--token-env", metavar="VAR", help="variable holding the token / API key")
    group.add_argument(
        "--token", help="refused: secrets are never written to sources.yml; use --token-env"
    )
    group.add_argument("--api-key-name", metavar="N", help="header or query parameter name")
    group.add_argument("--api-key-location", choices=("header", "query"))
    group.add_argument("--username-env", metavar="VAR", help="basic auth: username variable")
    group.add_argument("--password-env", metavar="VAR", help="basic auth: password variable")


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--header", action="append", metavar="K=V", help="request header (repeatable)"
    )
    parser.add_argument(
        "--param", action="append", metavar="K=V", help="query parameter (repeatable)"
    )
    parser.add_argument("--data-selector", help="JSONPath to the records (default: detected)")
    parser.add_argument(
        "--pages", type=int, default=2, help="pages to fetch (default: %(default)s)"
    )


def _auth_options(args: argparse.Namespace) -> AuthOptions:
    if args.token:
        raise WizardError(
            "refusing --token: a raw token would end up in your shell history and could be "
            "written to a file; export it (e.g. export MY_API_TOKEN=...) and pass "
            "--token-env MY_API_TOKEN"
        )
    options = AuthOptions(
        auth_type=args.auth_type,
        token_env=args.token_env,
        api_key_name=args.api_key_name,
        api_key_location=args.api_key_location,
        username_env=args.username_env,
        password_env=args.password_env,
    )
    options.spec()  # check the flags before any question or request
    return options


def _cmd_inspect(args: argparse.Namespace) -> int:
    auth = _auth_options(args).spec()
    headers = parse_pairs(args.header, "--header")
    params = parse_pairs(args.param, "--param")
    check_no_literal_secrets(headers, params)
    if args.pages < 1:
        raise WizardError("--pages must be at least 1")
    suggestion = inspect_endpoint(
        args.url,
        auth=auth,
        headers={k: str(v) for k, v in headers.items()},
        params=params,
        data_selector=args.data_selector,
        pages=args.pages,
    )
    clean, references, notes = without_credentials(args.url)
    suggestion.source_url = redact_url(args.url)
    if args.json:
        print(json.dumps(suggestion.to_dict(), indent=2, default=str))
        return 0
    print(suggestion.report())
    print("")
    resource = suggestion.to_resource(path=clean)
    if references:
        resource["endpoint"]["params"] = {**resource["endpoint"].get("params", {}), **references}
    print("as a sources.yml resource:")
    print(dump([resource]).rstrip())
    for note in notes:
        print(f"note: {note}")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    path = init_config(args.path, force=args.force)
    print(f"created {path}")
    if stdin_is_tty():
        try:
            if confirm("Add a source now", True):
                add_endpoint(AddOptions(path=path), interactive=True)
                return 0
        except (EOFError, KeyboardInterrupt):
            print("\naborted; the file was created without sources")
            return 1
    print(f"next: rest-assets add {path} --name NAME --base-url URL --endpoint PATH")
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    options = AddOptions(
        path=Path(args.path),
        name=args.name,
        base_url=args.base_url,
        endpoint=args.endpoint,
        resource=args.resource,
        auth=_auth_options(args),
        headers={k: str(v) for k, v in parse_pairs(args.header, "--header").items()},
        params=parse_pairs(args.param, "--param"),
        data_selector=args.data_selector,
        primary_key=args.primary_key,
        incremental=args.incremental,
        cursor_field=args.cursor_field,
        write_disposition=args.write_disposition,
        pages=args.pages,
    )
    if options.pages < 1:
        raise WizardError("--pages must be at least 1")
    interactive = not args.yes and stdin_is_tty()
    try:
        add_endpoint(options, interactive=interactive)
    except (EOFError, KeyboardInterrupt):
        print("\naborted; nothing written", file=sys.stderr)
        return 1
    return 0
