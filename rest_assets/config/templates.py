"""Jinja templates in connector configs, turned into rest-assets references.

The read/write REST connector writes values as Jinja templates. Three forms are accepted:

- `{{ env.NAME }}` becomes exactly the reference `${NAME}`, resolved only when a request is
  built (never here); `{{ env.NAME | default('text') }}` becomes `${NAME:-text}`;
- `{{ dt }}` becomes the placeholder `{run.date}`: the run's date, the partition's for a
  partitioned asset, else today in UTC. Since a run always has a date, a `default` given to
  `dt` is never used; that is said in a note;
- literal text, and `{{ 'text' }}`, stay text.

Templates are rendered by Jinja2's SandboxedEnvironment after their syntax tree was checked
to hold only these forms; anything else (another name, filter, test, statement or
expression) is a ConfigError naming the field path. Literal braces are escaped for the
placeholder renderer, and a literal `${` for the reference resolver, so text stays text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from rest_assets.config.references import NAME, env_reference
from rest_assets.errors import ConfigError

RUN_DATE_PLACEHOLDER = "{run.date}"
ACCEPTED = "{{ env.NAME }}, {{ dt }} and | default('...')"

_SYNTAX = ("{{", "{%", "{#")
_SENTINEL = re.compile("\x00(\\d+)\x00")
# for the placeholder renderer: a `${...}` reference token passes it unchanged, so a literal
# one is escaped as `$${...}`; any other brace is doubled
_LITERAL_FOR_PLACEHOLDERS = re.compile(r"\$\{[^{}]*\}|[{}]")


@dataclass
class Conversion:
    """What converting one config value produced beyond the value: notes for `validate`."""

    notes: list[str] = field(default_factory=list)


def convert(value: Any, where: str, *, placeholders: bool, found: Conversion) -> Any:
    """Convert every string in `value` (nested dicts and lists too).

    `placeholders` says whether the field is later rendered as a request template (endpoint
    path, params, headers): only there is `{{ dt }}` available and literal braces escaped.
    """
    if isinstance(value, str):
        return convert_text(value, where, placeholders=placeholders, found=found)
    if isinstance(value, Mapping):
        return {
            key: convert(item, f"{where}.{key}", placeholders=placeholders, found=found)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            convert(item, f"{where}[{i}]", placeholders=placeholders, found=found)
            for i, item in enumerate(value)
        ]
    return value


def has_template(value: Any) -> bool:
    """True when a string (or any nested string) holds Jinja syntax."""
    if isinstance(value, str):
        return any(mark in value for mark in _SYNTAX)
    if isinstance(value, Mapping):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


def convert_text(text: str, where: str, *, placeholders: bool, found: Conversion) -> str:
    """One string: Jinja syntax converted, literal text escaped."""
    if not any(mark in text for mark in _SYNTAX):
        return _literal(text, placeholders)
    if "\x00" in text:
        raise ConfigError(f"{where}: the value holds a NUL character; remove it")
    environment = _environment()
    try:
        tree = environment.parse(text)
    except TemplateError as exc:
        raise ConfigError(f"{where}: not a valid template ({exc}); accepted: {ACCEPTED}") from None
    for node in tree.body:
        _check_output(node, text, where, placeholders)
    references: list[str] = []
    try:
        rendered = environment.from_string(text).render(
            env=_Env(references), dt=_RunDate(references, where, found)
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except TemplateError as exc:
        raise ConfigError(
            f"{where}: {text!r} cannot be read ({exc}); accepted: {ACCEPTED}"
        ) from None
    parts = _SENTINEL.split(rendered)
    out = []
    for index, part in enumerate(parts):
        # split() alternates literal text and sentinel indexes
        out.append(references[int(part)] if index % 2 else _literal(part, placeholders))
    return "".join(out)


def _literal(text: str, placeholders: bool) -> str:
    if not placeholders:
        return text.replace("${", "$${")

    def escape(match: re.Match[str]) -> str:
        token = match.group(0)
        return "$" + token if token.startswith("$") else token * 2

    return _LITERAL_FOR_PLACEHOLDERS.sub(escape, text)


# --- the syntax tree: only the accepted forms ------------------------------------------------


def _check_output(node: nodes.Node, text: str, where: str, placeholders: bool) -> None:
    if not isinstance(node, nodes.Output):
        raise _refused(text, where, "statements ({% ... %}) are not accepted")
    for child in node.nodes:
        if isinstance(child, nodes.TemplateData):
            continue
        _check_expression(child, text, where, placeholders, filtered=False)


def _check_expression(
    node: nodes.Node, text: str, where: str, placeholders: bool, *, filtered: bool
) -> None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and not filtered:
        return
    if isinstance(node, nodes.Name):
        _check_name(node, text, where, placeholders)
    elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        _check_env_attribute(node, text, where)
    elif isinstance(node, nodes.Filter) and not filtered:
        _check_default(node, text, where)
        assert node.node is not None
        _check_expression(node.node, text, where, placeholders, filtered=True)
    elif isinstance(node, nodes.Getitem):
        raise _refused(text, where, "write env.NAME rather than env['NAME']")
    else:
        raise _refused(text, where, "expressions are not evaluated")


def _check_name(node: nodes.Name, text: str, where: str, placeholders: bool) -> None:
    """`dt` (where a run date exists) is the one bare name; `env` needs `.NAME`."""
    if node.name == "env":
        raise _refused(text, where, "write env.NAME, the name of one variable")
    if node.name != "dt":
        raise _refused(text, where, f"{node.name!r} is not a known name")
    if not placeholders:
        raise _refused(
            text,
            where,
            "{{ dt }} is available in a read's url, params and headers only (auth and "
            "outputs are sent as written)",
        )


def _check_env_attribute(node: nodes.Getattr, text: str, where: str) -> None:
    assert isinstance(node.node, nodes.Name)
    if node.node.name != "env":
        raise _refused(text, where, f"{node.node.name!r} is not a known name")
    if not NAME.match(node.attr) or node.attr.startswith("_"):
        raise _refused(text, where, f"{node.attr!r} is not a variable name")


def _check_default(node: nodes.Filter, text: str, where: str) -> None:
    """`| default('text')`: the one filter, with one constant argument, after a value."""
    if node.name != "default":
        raise _refused(text, where, f"the filter {node.name!r} is not accepted")
    args = node.args
    one_constant = (
        not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
        and len(args) == 1
        and isinstance(args[0], nodes.Const)
        and isinstance(args[0].value, str | int | float)
        and not isinstance(args[0].value, bool)
    )
    if not one_constant:
        raise _refused(text, where, "default takes one text, e.g. default('2025-01-01')")
    if node.node is None:
        raise _refused(text, where, "default needs a value before it")


def _refused(text: str, where: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: {text!r}: {why}; accepted: {ACCEPTED}")


# --- rendering in the sandbox ------------------------------------------------------------------


class _EnvValue:
    """`env.NAME` inside a template: renders as a sentinel standing for `${NAME}`."""

    def __init__(self, references: list[str], name: str, default: str | None = None) -> None:
        self._references = references
        self._name = name
        self._default = default

    def with_default(self, default: str) -> _EnvValue:
        env_reference(self._name, default)  # a default holding "}" raises ValueError now
        return _EnvValue(self._references, self._name, default)

    def __str__(self) -> str:
        self._references.append(env_reference(self._name, self._default))
        return f"\x00{len(self._references) - 1}\x00"


class _Env:
    """The `env` name: any attribute is a variable."""

    def __init__(self, references: list[str]) -> None:
        self._references = references

    def __getattr__(self, name: str) -> _EnvValue:
        if name.startswith("_"):
            raise AttributeError(name)
        return _EnvValue(self._references, name)


class _RunDate:
    """`dt`: renders as a sentinel standing for the `{run.date}` placeholder."""

    def __init__(self, references: list[str], where: str, found: Conversion) -> None:
        self._references = references
        self._where = where
        self._found = found

    def note_default(self, default: str) -> None:
        self._found.notes.append(
            f"{self._where}: default {default!r} of dt is not used: a run always has a date "
            "(the partition's, else today in UTC)"
        )

    def __str__(self) -> str:
        self._references.append(RUN_DATE_PLACEHOLDER)
        return f"\x00{len(self._references) - 1}\x00"


def _default(value: Any, fallback: Any = "") -> Any:
    if isinstance(value, _EnvValue):
        return value.with_default(str(fallback))
    if isinstance(value, _RunDate):
        value.note_default(str(fallback))
        return value
    return value


@functools.lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # built on first use, not at import; shared: per-render state lives in the values
    environment = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.filters = {"default": _default}
    environment.tests = {}
    environment.globals = {}
    return environment
