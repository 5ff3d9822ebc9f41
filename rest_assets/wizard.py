"""`rest-assets inspect / init / add`: write sources.yml entries checked against the live API.

`add` asks (in a terminal, unless --yes) or takes flags for the source, its client and one
endpoint, inspects the endpoint live (`rest_assets.inspect`), then adds the source, or a
resource to the existing source of that name, to the YAML file.

How the file is written, and why:

- A new source (or a resource added to the source that ends the file) is appended as text
  at the end of the file, so every comment and all formatting of the rest of the file stay
  exactly as they were. The appended text is accepted only if the file then parses to
  precisely the old data plus the new entry.
- When that is not possible (the resource goes into a source in the middle of the file, or
  the list is written in flow style like `sources: []`), the file is re-dumped with PyYAML:
  the comment block at the top of the file is kept, comments further down are lost (the
  command says so when that happens).
- Either way the whole result is loaded with `load_project` from a temporary file beside
  the target, and only a valid result replaces the file (an atomic rename).

Secrets: only `${VAR}` references are ever written. A raw token on the command line is
refused (`--token-env VAR` names the variable instead), and so is a literal value in a
header or query parameter whose name looks like a credential.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rest_assets.errors import RestAssetsError
from rest_assets.http.sensitive import is_sensitive_name

if TYPE_CHECKING:
    from rest_assets.inspect import Suggestion

AUTH_TYPES = ("bearer", "api_key", "basic", "none")
DISPOSITIONS = ("replace", "append", "merge")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_SOURCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

HEADER = """\
# rest-assets: REST APIs loaded into DuckDB as Dagster assets.
#
# Each source has a name (the asset group and the DuckDB schema raw_<name>), a client
# (base_url, auth, headers, paginator) and resources (one endpoint, table and asset each),
# in the shape of dlt's RESTAPIConfig. See the README for every setting.
#
# Secrets never go in this file: write ${VAR} references; they are resolved from the
# environment, or from a .env file beside this file, only when a request is sent.
#
# Add an endpoint, checked against the live API:
#   rest-assets add sources.yml --name my_api --base-url https://api.example.com/v1 \\
#       --endpoint orders --auth-type bearer --token-env MY_API_TOKEN --yes
# Check the file:  rest-assets validate sources.yml
"""


class WizardError(RestAssetsError):
    """The wizard cannot go on; the message says why and what to do."""


# --- options --------------------------------------------------------------------------------


@dataclass
class AuthOptions:
    """Auth as given on the command line: only names of environment variables, never values."""

    auth_type: str | None = None
    token_env: str | None = None
    api_key_name: str | None = None
    api_key_location: str | None = None
    username_env: str | None = None
    password_env: str | None = None

    def spec(self) -> dict[str, Any] | None:
        """The auth dict for the config (`${VAR}` references only), or None for no auth."""
        kind = self.auth_type or ("bearer" if self.token_env else "none")
        if kind not in AUTH_TYPES:
            raise WizardError(f"--auth-type must be one of {', '.join(AUTH_TYPES)}, not {kind!r}")
        if kind == "none":
            return None
        if kind == "basic":
            username = _env_name(self.username_env, "--username-env", "the basic auth username")
            password = (
                f"${{{_env_name(self.password_env, '--password-env', '')}}}"
                if (self.password_env)
                else ""
            )
            return {"type": "http_basic", "username": f"${{{username}}}", "password": password}
        token = _env_name(self.token_env, "--token-env", f"the {kind} token")
        if kind == "bearer":
            return {"type": "bearer", "token": f"${{{token}}}"}
        location = self.api_key_location or "header"
        if location not in ("header", "query"):
            raise WizardError("--api-key-location must be header or query")
        return {
            "type": "api_key",
            "name": self.api_key_name or ("X-API-Key" if location == "header" else "api_key"),
            "api_key": f"${{{token}}}",
            "location": location,
        }


def _env_name(value: str | None, flag: str, what: str) -> str:
    """Check that `value` names an environment variable (and is not a secret pasted in)."""
    if not value:
        raise WizardError(f"{flag} VAR is required: the environment variable holding {what}")
    if value.startswith("${") and value.endswith("}"):
        value = value[2:-1]
    if not _ENV_NAME.match(value) or _looks_like_secret(value):
        # Never echo the value: it may be the very secret we refuse to store.
        raise WizardError(
            f"{flag} takes the NAME of an environment variable (e.g. MY_API_TOKEN), and the "
            "value given does not look like one; export the secret and pass its name"
        )
    return value


def _looks_like_secret(name: str) -> bool:
    # Variable names are conventionally upper case; a long mixed-case string with digits
    # is far more likely a token (ghp_..., sk_live_...) than a variable name.
    return len(name) >= 16 and any(c.islower() for c in name) and any(c.isdigit() for c in name)


@dataclass
class AddOptions:
    """Everything `add` needs; None means "ask" (interactive) or "use the suggestion"."""

    path: Path
    name: str | None = None
    base_url: str | None = None
    endpoint: str | None = None
    resource: str | None = None
    auth: AuthOptions = field(default_factory=AuthOptions)
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data_selector: str | None = None
    primary_key: str | None = None
    incremental: bool = False
    cursor_field: str | None = None
    write_disposition: str | None = None
    pages: int = 2


def parse_pairs(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """`["a=1", "b=x"]` -> `{"a": 1, "b": "x"}` (whole numbers become ints)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WizardError(f"{flag} takes KEY=VALUE, got {item.split('=')[0]!r}...")
        value = value.strip()
        out[key.strip()] = int(value) if re.fullmatch(r"-?\d{1,15}", value) else value
    return out


def check_no_literal_secrets(headers: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """Refuse credential-like headers/params whose value is not a `${VAR}` reference."""
    for kind, values in (("header", headers), ("query parameter", params)):
        for name, value in values.items():
            if is_sensitive_name(name) and not _REFERENCE.fullmatch(str(value).strip()):
                raise WizardError(
                    f"{kind} {name!r} looks like a credential but its value is not a ${{VAR}} "
                    f"reference; export the secret and pass {name}='${{MY_VAR}}' (single quotes "
                    "so the shell does not expand it), or use --auth-type with --token-env"
                )


# --- init -----------------------------------------------------------------------------------


def init_config(path: str | Path, *, force: bool = False) -> Path:
    """Create a new sources.yml with a commented header and an empty source list."""
    target = Path(path)
    if target.exists() and not force:
        raise WizardError(f"{target} already exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_validated(target, HEADER + "sources: []\n")
    return target


# --- add ------------------------------------------------------------------------------------


@dataclass
class AddResult:
    """What `add_endpoint` wrote: the source, the resource, and how the file was written."""

    path: Path
    source: str
    resource: dict[str, Any]
    new_source: bool
    appended_as_text: bool
    suggestion: Suggestion


def add_endpoint(
    options: AddOptions,
    *,
    interactive: bool = False,
    out: Callable[[str], None] = print,
) -> AddResult:
    """Inspect the endpoint live and add it to `options.path` (created when missing).

    Interactive mode asks every question, with the flags and the live suggestions as
    defaults; otherwise the flags and suggestions are used as they are.
    """
    from rest_assets.config.load import load_project
    from rest_assets.http.urls import join_url
    from rest_assets.inspect import inspect_endpoint, name_from_path

    path = options.path
    text = path.read_text() if path.exists() else HEADER + "sources: []\n"
    data = _load_yaml(text, path)
    project = load_project(path) if path.exists() else None

    name = options.name
    if interactive:
        name = _ask("Source name", name, check=_check_source_name)
    if not name:
        raise WizardError("--name SOURCE is required (the source to create or add to)")
    _check_source_name(name)
    existing = next((s for s in project.sources if s.name == name), None) if project else None

    if existing is not None:
        base_url, headers, auth = _existing_client(existing, options)
        out(f"adding to the existing source {name!r} ({base_url})")
    else:
        base_url = options.base_url
        if interactive:
            base_url = _ask("Base URL (e.g. https://api.example.com)", base_url, check=_check_url)
        if not base_url:
            raise WizardError("--base-url URL is required for a new source")
        _check_url(base_url)
        if interactive:
            _ask_auth(options.auth, name)
        auth = options.auth.spec()
        headers = dict(options.headers)

    endpoint = options.endpoint
    if interactive:
        endpoint = _ask("Endpoint path (e.g. /orders)", endpoint)
    if not endpoint:
        raise WizardError("--endpoint PATH is required (relative to the base URL)")
    resource_name = options.resource or name_from_path(endpoint.split("?")[0])
    if interactive:
        resource_name = _ask("Resource name (table name in DuckDB)", resource_name)
    taken = {r.name for r in existing.resources} if existing is not None else set()
    if resource_name in taken:
        raise WizardError(
            f"source {name!r} already has a resource {resource_name!r}; pick another --resource"
        )
    params = dict(options.params)
    if interactive:
        answer = _ask("Query parameters (k=v, comma separated; '-' for none)", _pairs(params))
        params = {} if answer in ("", "-") else parse_pairs(answer.split(","), "parameters")
    check_no_literal_secrets(options.headers, params)

    url = join_url(base_url, endpoint)

    def run(selector: str | None) -> Suggestion:
        out(f"testing {endpoint} against the live API ...")
        return inspect_endpoint(
            url,
            auth=auth,
            headers=headers,
            params=params,
            data_selector=selector,
            pages=options.pages,
            name=resource_name,
        )

    suggestion = run(options.data_selector)
    out(suggestion.report())
    primary_key: str | None = options.primary_key or suggestion.primary_key
    incremental = options.incremental
    cursor = options.cursor_field or suggestion.cursor_field
    disposition = options.write_disposition
    if interactive:
        selector = _ask(
            "Data path (JSONPath to the records; '-' for a bare list)",
            suggestion.data_selector or "-",
        )
        selector = None if selector == "-" else selector
        if selector != suggestion.data_selector:
            suggestion = run(selector)
            out(suggestion.report())
            primary_key = options.primary_key or suggestion.primary_key
            cursor = options.cursor_field or suggestion.cursor_field
        primary_key = _none(_ask("Primary key field ('-' for none)", primary_key or "-"))
        incremental = _confirm(
            "Load incrementally" + (f" on {cursor}" if cursor else ""), incremental
        )
        if incremental:
            cursor = _ask("Incremental cursor field", cursor)
        default = disposition or ("merge" if primary_key and incremental else "replace")
        disposition = _ask(
            "Write disposition (replace/append/merge)",
            default,
            check=lambda v: _check_choice(v, DISPOSITIONS, "write disposition"),
        )
    if incremental and not cursor:
        raise WizardError(
            "--incremental: no updated_at-like field was found in the sampled records; "
            "pass --cursor-field FIELD"
        )
    if disposition == "merge" and not primary_key:
        raise WizardError(
            "write disposition merge needs a primary key and none was found; pass --primary-key"
        )
    suggestion.cursor_field = cursor
    resource = suggestion.to_resource(
        resource_name,
        path=endpoint,
        incremental=incremental,
        write_disposition=disposition,
        primary_key=primary_key,
    )
    if existing is not None and options.headers:
        resource["endpoint"]["headers"] = dict(options.headers)
    client: dict[str, Any] | None = None
    if existing is None:
        client = {"base_url": base_url}
        if headers:
            client["headers"] = headers
        if auth is not None:
            client["auth"] = auth

    new_text, as_text = render_addition(text, data, name, client, resource)
    out("")
    out("entry to add:")
    out(_dump({"name": name, "client": client, "resources": [resource]} if client else resource))
    if interactive and not _confirm(f"Write it to {path}", True):
        raise WizardError("nothing written")
    _refuse_leaked_secrets(text, new_text, [auth, headers, params])
    _write_validated(path, new_text)
    if not as_text and _has_inner_comments(text):
        out(f"note: {path} was re-written; comments below its header were not kept")
    out(f"added {name}/{resource_name} to {path}")
    return AddResult(
        path=path,
        source=name,
        resource=resource,
        new_source=existing is None,
        appended_as_text=as_text,
        suggestion=suggestion,
    )


def _existing_client(source: Any, options: AddOptions) -> tuple[str, dict[str, str], Any]:
    """base_url, headers and auth of a source already in the file (flags may not differ)."""
    base_url = source.client.base_url
    if options.base_url and options.base_url.rstrip("/") != base_url.rstrip("/"):
        raise WizardError(
            f"source {source.name!r} already exists with base_url {base_url}; leave out "
            "--base-url or choose another --name"
        )
    if options.auth.auth_type or options.auth.token_env:
        raise WizardError(
            f"source {source.name!r} already exists: its client auth is used; edit the file "
            "to change it, or leave out the auth flags"
        )
    auth = source.client.auth
    if hasattr(auth, "model_dump"):
        auth = auth.model_dump(exclude_none=True)
    return base_url, {**source.client.headers, **options.headers}, auth


# --- writing --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Indents block lists under their key, as people write sources.yml by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _dump(value: Any) -> str:
    return yaml.dump(
        value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def _load_yaml(text: str, path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise WizardError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise WizardError(f"{path}: the top level must be a mapping with a `sources:` list")
    if data.get("sources") is None:
        data["sources"] = []
    if not isinstance(data["sources"], list):
        raise WizardError(f"{path}: `sources` must be a list")
    return data


def render_addition(
    text: str,
    data: dict[str, Any],
    source: str,
    client: dict[str, Any] | None,
    resource: dict[str, Any],
) -> tuple[str, bool]:
    """The new file text with the source (client given) or resource added, and whether it
    could be appended as text (comments kept) rather than re-dumped (see module docstring)."""
    expected = yaml.safe_load(_dump(data))  # a deep copy in plain YAML types
    if client is not None:
        item: dict[str, Any] = {"name": source, "client": client, "resources": [resource]}
        expected["sources"].append(item)
    else:
        entry = next(s for s in expected["sources"] if s.get("name") == source)
        item = resource
        if isinstance(entry.get("rest_api"), dict):  # Dango's dialect: add an endpoint
            item = _dango_endpoint(resource)
            body = entry["rest_api"]
            key = "endpoints" if "endpoints" in body or "resources" not in body else "resources"
            body.setdefault(key, []).append(item)
        else:
            entry.setdefault("resources", []).append(item)
    appended = _append_as_text(text, item, expected)
    if appended is not None:
        return appended, True
    return _leading_comments(text) + _dump(expected), False


def _dango_endpoint(resource: dict[str, Any]) -> dict[str, Any]:
    endpoint = dict(resource["endpoint"])
    item: dict[str, Any] = {"path": endpoint.pop("path"), "name": resource["name"]}
    item.update(endpoint)
    item.update({k: v for k, v in resource.items() if k not in ("name", "endpoint")})
    return item


def _append_as_text(text: str, item: Any, expected: Any) -> str | None:
    snippet = _dump([item])
    base = text if text.endswith("\n") or not text else text + "\n"
    for indent in (2, 0, 4, 6, 8, 10, 12):
        pad = " " * indent
        lines = snippet.splitlines(keepends=True)
        candidate = base + "".join(pad + line if line.strip() else line for line in lines)
        try:
            if yaml.safe_load(candidate) == expected:
                return candidate
        except yaml.YAMLError:
            continue
    return None


def _leading_comments(text: str) -> str:
    kept: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return "".join(kept)


def _has_inner_comments(text: str) -> bool:
    body = text[len(_leading_comments(text)) :]
    return any(line.lstrip().startswith("#") or " #" in line for line in body.splitlines())


def _refuse_leaked_secrets(old: str, new: str, values: list[Any]) -> None:
    """Belt and braces: no value of a referenced variable may appear in the new text."""
    from rest_assets.http.env import references

    for name in references(values):
        secret = os.environ.get(name)
        if secret and len(secret) >= 4 and secret in new and secret not in old:
            raise WizardError(f"refusing to write: the value of ${name} would end up in the file")


def _write_validated(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, load it with load_project, then rename."""
    from rest_assets.config.load import load_project

    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        try:
            load_project(temp)
        except RestAssetsError as exc:
            message = str(exc).replace(str(temp), str(path))
            raise WizardError(
                f"refusing to write {path}: the result would not be a valid config:\n{message}"
            ) from None
        if path.exists():
            shutil.copymode(path, temp)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


# --- questions ------------------------------------------------------------------------------


def _ask(
    question: str, default: str | None = None, *, check: Callable[[str], Any] | None = None
) -> str:
    """Ask until the answer passes `check`; blank takes the default."""
    while True:
        suffix = f" [{default}]" if default else ""
        answer = input(f"? {question}{suffix}: ").strip() or (default or "")
        if not answer:
            print("  an answer is needed")
            continue
        if check is not None:
            try:
                check(answer)
            except WizardError as exc:
                print(f"  {exc}")
                continue
        return answer


def _confirm(question: str, default: bool) -> bool:
    hint = "Y/n" if default else "y/N"
    while True:
        answer = input(f"? {question}? [{hint}]: ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


def _ask_auth(auth: AuthOptions, source: str) -> None:
    """Fill `auth` from questions; variable names only, never secret values."""
    auth.auth_type = _ask(
        f"Authentication ({'/'.join(AUTH_TYPES)})",
        auth.auth_type or ("bearer" if auth.token_env else "none"),
        check=lambda v: _check_choice(v, AUTH_TYPES, "authentication"),
    )
    prefix = source.upper()
    if auth.auth_type in ("bearer", "api_key"):
        auth.token_env = _ask(
            "Environment variable holding the token (its name, not the token)",
            auth.token_env or f"{prefix}_API_TOKEN",
            check=lambda v: _env_name(v, "the variable", "the token"),
        )
    if auth.auth_type == "api_key":
        auth.api_key_location = _ask(
            "Send the key in (header/query)",
            auth.api_key_location or "header",
            check=lambda v: _check_choice(v, ("header", "query"), "location"),
        )
        default_name = "X-API-Key" if auth.api_key_location == "header" else "api_key"
        auth.api_key_name = _ask("Header or parameter name", auth.api_key_name or default_name)
    if auth.auth_type == "basic":
        auth.username_env = _ask(
            "Environment variable holding the username",
            auth.username_env or f"{prefix}_USERNAME",
            check=lambda v: _env_name(v, "the variable", "the username"),
        )
        auth.password_env = _ask(
            "Environment variable holding the password",
            auth.password_env or f"{prefix}_PASSWORD",
            check=lambda v: _env_name(v, "the variable", "the password"),
        )


def _check_source_name(value: str) -> None:
    if not _SOURCE_NAME.match(value):
        raise WizardError(
            f"source name {value!r} must be letters, digits and underscores, not starting "
            "with a digit"
        )


def _check_url(value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise WizardError(f"the base URL must start with http:// or https:// (got {value!r})")


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise WizardError(f"{what} must be one of {', '.join(choices)}")


def _none(value: str | None) -> str | None:
    return None if value in (None, "", "-") else value


def _pairs(values: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in values.items())


def _stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


# --- command line ---------------------------------------------------------------------------


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
    import json

    from rest_assets.inspect import inspect_endpoint

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
    if args.json:
        print(json.dumps(suggestion.to_dict(), indent=2, default=str))
        return 0
    print(suggestion.report())
    print("")
    print("as a sources.yml resource:")
    print(_dump([suggestion.to_resource()]).rstrip())
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    path = init_config(args.path, force=args.force)
    print(f"created {path}")
    if _stdin_is_tty():
        try:
            if _confirm("Add a source now", True):
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
    interactive = not args.yes and _stdin_is_tty()
    try:
        add_endpoint(options, interactive=interactive)
    except (EOFError, KeyboardInterrupt):
        print("\naborted; nothing written", file=sys.stderr)
        return 1
    return 0
