"""`add`: one endpoint, checked against the live API, added to sources.yml.

A straight pipeline: gather (the source, its client and the endpoint, from flags or
questions) -> inspect (the live suggestion, again if the data path is changed) -> decide
(primary key, incremental cursor, write disposition) -> build (the resource and, for a new
source, the client) -> write (as text when possible, always validated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rest_assets.config.models import SourceConfig
from rest_assets.config.names import name_from_path
from rest_assets.http.urls import join_url
from rest_assets.inspect import Suggestion, inspect_endpoint
from rest_assets.wizard.config_file import (
    ConfigFile,
    dump,
    has_inner_comments,
    read_config_file,
    refuse_leaked_secrets,
    render_addition,
    write_validated,
)
from rest_assets.wizard.errors import WizardError
from rest_assets.wizard.options import (
    DISPOSITIONS,
    AddOptions,
    check_no_literal_secrets,
    parse_pairs,
)
from rest_assets.wizard.pasted_urls import refuse_url_credentials
from rest_assets.wizard.prompts import (
    ask,
    ask_auth,
    check_choice,
    check_source_name,
    check_url,
    confirm,
    none_for_dash,
    pairs_text,
)

Output = Callable[[str], None]


@dataclass
class AddResult:
    """What `add_endpoint` wrote: the source, the resource, and how the file was written."""

    path: Path
    source: str
    resource: dict[str, Any]
    new_source: bool
    appended_as_text: bool
    suggestion: Suggestion


@dataclass
class _Source:
    """The source to add to: an existing one (`existing`) or a new one."""

    name: str
    base_url: str
    headers: dict[str, str]
    auth: Any
    existing: SourceConfig | None


@dataclass
class _Endpoint:
    path: str
    resource: str
    params: dict[str, Any]


@dataclass
class _Decision:
    """What to load, after the live suggestion: the suggestion and the choices made on it."""

    suggestion: Suggestion
    primary_key: str | None
    incremental: bool
    cursor: str | None
    disposition: str | None


def add_endpoint(
    options: AddOptions,
    *,
    interactive: bool = False,
    out: Output = print,
) -> AddResult:
    """Inspect the endpoint live and add it to `options.path` (created when missing).

    Interactive mode asks every question, with the flags and the live suggestions as
    defaults; otherwise the flags and suggestions are used as they are.
    """
    config = read_config_file(options.path)
    source = _gather_source(options, config, interactive, out)
    endpoint = _gather_endpoint(options, source, interactive)
    decision = _decide(options, _Inspector(options, source, endpoint, out), interactive, out)
    entry = _build(options, source, endpoint, decision)
    return _write(config, entry, interactive, out)


# --- gather ---------------------------------------------------------------------------------


def _gather_source(
    options: AddOptions, config: ConfigFile, interactive: bool, out: Output
) -> _Source:
    name = (
        ask("Source name", options.name, check=check_source_name) if interactive else options.name
    )
    if not name:
        raise WizardError("--name SOURCE is required (the source to create or add to)")
    check_source_name(name)
    sources = config.project.sources if config.project is not None else []
    existing = next((s for s in sources if s.name == name), None)
    if existing is not None:
        source = _existing_source(existing, options)
        out(f"adding to the existing source {name!r} ({source.base_url})")
        return source
    return _new_source(name, options, interactive)


def _existing_source(existing: SourceConfig, options: AddOptions) -> _Source:
    """base_url, headers and auth of a source already in the file (flags may not differ)."""
    base_url = existing.client.base_url
    if options.base_url and options.base_url.rstrip("/") != base_url.rstrip("/"):
        raise WizardError(
            f"source {existing.name!r} already exists with base_url {base_url}; leave out "
            "--base-url or choose another --name"
        )
    if options.auth.auth_type or options.auth.token_env:
        raise WizardError(
            f"source {existing.name!r} already exists: its client auth is used; edit the file "
            "to change it, or leave out the auth flags"
        )
    auth: Any = existing.client.auth
    if isinstance(auth, BaseModel):  # an auth config (not an auth instance from Python)
        auth = auth.model_dump(exclude_none=True)
    headers = {**existing.client.headers, **options.headers}
    return _Source(existing.name, base_url, headers, auth, existing)


def _new_source(name: str, options: AddOptions, interactive: bool) -> _Source:
    base_url = options.base_url
    if interactive:
        base_url = ask("Base URL (e.g. https://api.example.com)", base_url, check=check_url)
    if not base_url:
        raise WizardError("--base-url URL is required for a new source")
    check_url(base_url)
    refuse_url_credentials(base_url, "--base-url")
    if interactive:
        ask_auth(options.auth, name)
    return _Source(name, base_url, dict(options.headers), options.auth.spec(), None)


def _gather_endpoint(options: AddOptions, source: _Source, interactive: bool) -> _Endpoint:
    path = (
        ask("Endpoint path (e.g. /orders)", options.endpoint) if interactive else options.endpoint
    )
    if not path:
        raise WizardError("--endpoint PATH is required (relative to the base URL)")
    refuse_url_credentials(path, "--endpoint")
    resource = options.resource or name_from_path(path.split("?")[0])
    if interactive:
        resource = ask("Resource name (table name in DuckDB)", resource)
    taken = {r.name for r in source.existing.resources} if source.existing is not None else set()
    if resource in taken:
        raise WizardError(
            f"source {source.name!r} already has a resource {resource!r}; pick another --resource"
        )
    params = dict(options.params)
    if interactive:
        answer = ask("Query parameters (k=v, comma separated; '-' for none)", pairs_text(params))
        params = {} if answer in ("", "-") else parse_pairs(answer.split(","), "parameters")
    check_no_literal_secrets(options.headers, params)
    return _Endpoint(path, resource, params)


# --- inspect --------------------------------------------------------------------------------


class _Inspector:
    """Runs `inspect_endpoint` on the endpoint being added and shows the report."""

    def __init__(
        self, options: AddOptions, source: _Source, endpoint: _Endpoint, out: Output
    ) -> None:
        self._options = options
        self._source = source
        self._endpoint = endpoint
        self._out = out

    def run(self, selector: str | None) -> Suggestion:
        self._out(f"testing {self._endpoint.path} against the live API ...")
        suggestion = inspect_endpoint(
            join_url(self._source.base_url, self._endpoint.path),
            auth=self._source.auth,
            headers=self._source.headers,
            params=self._endpoint.params,
            data_selector=selector,
            pages=self._options.pages,
            name=self._endpoint.resource,
        )
        self._out(suggestion.report())
        return suggestion


# --- decide ---------------------------------------------------------------------------------


def _decide(
    options: AddOptions, inspector: _Inspector, interactive: bool, out: Output
) -> _Decision:
    suggestion = inspector.run(options.data_selector)
    decision = _Decision(
        suggestion=suggestion,
        primary_key=options.primary_key or suggestion.primary_key,
        incremental=options.incremental,
        cursor=options.cursor_field or suggestion.cursor_field,
        disposition=options.write_disposition,
    )
    if interactive:
        decision = _ask_decision(options, inspector, decision)
    _check_decision(decision)
    return decision


def _ask_decision(options: AddOptions, inspector: _Inspector, decision: _Decision) -> _Decision:
    suggestion = decision.suggestion
    selector = none_for_dash(
        ask(
            "Data path (JSONPath to the records; '-' for a bare list)",
            suggestion.data_selector or "-",
        )
    )
    if selector != suggestion.data_selector:
        suggestion = inspector.run(selector)
        decision.suggestion = suggestion
        decision.primary_key = options.primary_key or suggestion.primary_key
        decision.cursor = options.cursor_field or suggestion.cursor_field
    decision.primary_key = none_for_dash(
        ask("Primary key field ('-' for none)", decision.primary_key or "-")
    )
    cursor = decision.cursor
    decision.incremental = confirm(
        "Load incrementally" + (f" on {cursor}" if cursor else ""), decision.incremental
    )
    if decision.incremental:
        decision.cursor = ask("Incremental cursor field", cursor)
    default = decision.disposition or (
        "merge" if decision.primary_key and decision.incremental else "replace"
    )
    decision.disposition = ask(
        "Write disposition (replace/append/merge)",
        default,
        check=lambda v: check_choice(v, DISPOSITIONS, "write disposition"),
    )
    return decision


def _check_decision(decision: _Decision) -> None:
    if decision.incremental and not decision.cursor:
        raise WizardError(
            "--incremental: no updated_at-like field was found in the sampled records; "
            "pass --cursor-field FIELD"
        )
    if decision.disposition == "merge" and not decision.primary_key:
        raise WizardError(
            "write disposition merge needs a primary key and none was found; pass --primary-key"
        )


# --- build ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    """What goes into the file: the resource, and the client when the source is new."""

    source: _Source
    endpoint: _Endpoint
    decision: _Decision
    resource: dict[str, Any]
    client: dict[str, Any] | None


def _build(
    options: AddOptions, source: _Source, endpoint: _Endpoint, decision: _Decision
) -> _Entry:
    decision.suggestion.cursor_field = decision.cursor
    resource = decision.suggestion.to_resource(
        endpoint.resource,
        path=endpoint.path,
        incremental=decision.incremental,
        write_disposition=decision.disposition,
        primary_key=decision.primary_key,
    )
    if source.existing is not None:
        if options.headers:
            resource["endpoint"]["headers"] = dict(options.headers)
        return _Entry(source, endpoint, decision, resource, None)
    client: dict[str, Any] = {"base_url": source.base_url}
    if source.headers:
        client["headers"] = source.headers
    if source.auth is not None:
        client["auth"] = source.auth
    return _Entry(source, endpoint, decision, resource, client)


# --- write ----------------------------------------------------------------------------------


def _write(config: ConfigFile, entry: _Entry, interactive: bool, out: Output) -> AddResult:
    path, source, client, resource = config.path, entry.source, entry.client, entry.resource
    new_text, as_text = render_addition(config.text, config.data, source.name, client, resource)
    out("")
    out("entry to add:")
    out(
        dump(
            {"name": source.name, "client": client, "resources": [resource]} if client else resource
        )
    )
    if interactive and not confirm(f"Write it to {path}", True):
        raise WizardError("nothing written")
    refuse_leaked_secrets(
        config.text, new_text, [source.auth, source.headers, entry.endpoint.params]
    )
    write_validated(path, new_text)
    if not as_text and has_inner_comments(config.text):
        out(f"note: {path} was re-written; comments below its header were not kept")
    out(f"added {source.name}/{entry.endpoint.resource} to {path}")
    return AddResult(
        path=path,
        source=source.name,
        resource=resource,
        new_source=source.existing is None,
        appended_as_text=as_text,
        suggestion=entry.decision.suggestion,
    )
