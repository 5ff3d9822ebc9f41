"""sources.yml as text: the commented header, adding an entry, validated writes.

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
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rest_assets.config.load import load_project
from rest_assets.config.models import ProjectConfig
from rest_assets.errors import RestAssetsError
from rest_assets.http.env import references
from rest_assets.wizard.errors import WizardError

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
EMPTY = HEADER + "sources: []\n"


@dataclass
class ConfigFile:
    """A sources.yml as it is now: its text, its data, and its project when it exists."""

    path: Path
    text: str
    data: dict[str, Any]
    project: ProjectConfig | None


def read_config_file(path: Path) -> ConfigFile:
    """The file at `path`, or an empty one (header, no sources) when it does not exist."""
    text = path.read_text() if path.exists() else EMPTY
    data = load_yaml(text, path)
    return ConfigFile(path, text, data, load_project(path) if path.exists() else None)


def init_config(path: str | Path, *, force: bool = False) -> Path:
    """Create a new sources.yml with a commented header and an empty source list."""
    target = Path(path)
    if target.exists() and not force:
        raise WizardError(f"{target} already exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_validated(target, EMPTY)
    return target


class _Dumper(yaml.SafeDumper):
    """Indents block lists under their key, as people write sources.yml by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def dump(value: Any) -> str:
    """`value` as block-style YAML, keys in their order."""
    return yaml.dump(
        value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def load_yaml(text: str, path: Path) -> dict[str, Any]:
    """The data of a sources.yml text: a mapping with a `sources:` list."""
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
    expected = yaml.safe_load(dump(data))  # a deep copy in plain YAML types
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
    return leading_comments(text) + dump(expected), False


def _dango_endpoint(resource: dict[str, Any]) -> dict[str, Any]:
    endpoint = dict(resource["endpoint"])
    item: dict[str, Any] = {"path": endpoint.pop("path"), "name": resource["name"]}
    item.update(endpoint)
    item.update({k: v for k, v in resource.items() if k not in ("name", "endpoint")})
    return item


def _append_as_text(text: str, item: Any, expected: Any) -> str | None:
    snippet = dump([item])
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


def leading_comments(text: str) -> str:
    """The comment block (and blank lines) at the top of `text`."""
    kept: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return "".join(kept)


def has_inner_comments(text: str) -> bool:
    """Whether `text` has comments below its top comment block (a re-dump loses them)."""
    body = text[len(leading_comments(text)) :]
    return any(line.lstrip().startswith("#") or " #" in line for line in body.splitlines())


def refuse_leaked_secrets(old: str, new: str, values: list[Any]) -> None:
    """Belt and braces: no value of a referenced variable may appear in the new text."""
    for name in references(values):
        secret = os.environ.get(name)
        if secret and len(secret) >= 4 and secret in new and secret not in old:
            raise WizardError(f"refusing to write: the value of ${name} would end up in the file")


def write_validated(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, load it with load_project, then rename."""
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
