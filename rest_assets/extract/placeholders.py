"""Placeholders in endpoint paths, params, JSON bodies and headers.

`{resources.<parent>.<field>}` takes a field of a parent row, `{incremental.start_value}` and
friends the incremental state, `{partition.start}` / `{partition.end}` / `{partition.key}`
the partition being run, `{run.date}` the run's date (`YYYY-MM-DD`: a time partition's
start date, else today in UTC; the connector dialect's `{{ dt }}`), and a bare `{name}` a
legacy `resolve` parameter. `{{` and `}}`
are literal braces; `${VAR}` is left for the HTTP client to resolve. A value that is exactly
one placeholder keeps the value's type (an integer id stays an integer in a JSON body);
otherwise placeholders are formatted as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rest_assets.errors import ConfigError

# `${VAR}` is an environment reference, resolved by the HTTP client when the request is built:
# matched first so that it is left as it is, never taken for a `{VAR}` placeholder
_TOKEN = re.compile(r"\$\{[^{}]*\}|\{\{|\}\}|\{([^{}]*)\}")
INCREMENTAL_NAMES = ("start_value", "initial_value", "last_value", "end_value")
PARTITION_NAMES = ("start", "end", "key")
RUN_DATE = "run.date"


@dataclass(frozen=True)
class ParentRef:
    """A parent field a child endpoint needs: `{resources.<resource>.<field>}`."""

    resource: str
    field: str

    @property
    def placeholder(self) -> str:
        return f"resources.{self.resource}.{self.field}"


def names_in(template: Any) -> Iterator[str]:
    """Every placeholder name in a string, dict or list (escaped braces skipped)."""
    if isinstance(template, str):
        for match in _TOKEN.finditer(template):
            if match.group(1) is not None:
                yield match.group(1).strip()
    elif isinstance(template, Mapping):
        for key, value in template.items():
            yield from names_in(key)
            yield from names_in(value)
    elif isinstance(template, list | tuple):
        for item in template:
            yield from names_in(item)


def check_name(name: str, resolve_params: set[str], where: str) -> None:
    """Raise a ConfigError naming `where` when a placeholder cannot be filled."""
    head, _, rest = name.partition(".")
    if not rest and name in resolve_params:
        return
    if head == "resources" and rest.count(".") >= 1 and all(rest.split(".", 1)):
        return
    if head == "incremental" and rest in INCREMENTAL_NAMES:
        return
    if head == "partition" and rest in PARTITION_NAMES:
        return
    if name == RUN_DATE:
        return
    in_path = (
        ""
        if not where.endswith(".path") or "." in name
        else (f" (or add {name} to endpoint.params: its value fills the path)")
    )
    raise ConfigError(
        f"{where}: unknown placeholder {{{name}}}{in_path}; use {{resources.<parent>.<field>}}, "
        f"{{incremental.<{'|'.join(INCREMENTAL_NAMES)}>}}, "
        f"{{partition.<{'|'.join(PARTITION_NAMES)}>}}, {{{RUN_DATE}}}, a resolve parameter "
        "name, or write literal braces as {{ and }}"
    )


def run_date(moment: datetime | None = None) -> str:
    """The `{run.date}` of a moment (default: now), as its UTC date `YYYY-MM-DD`."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat()


def parent_refs(template: Any) -> list[ParentRef]:
    """The `{resources.x.y}` references in a template, in order, without repeats."""
    found: dict[str, ParentRef] = {}
    for name in names_in(template):
        head, _, rest = name.partition(".")
        if head == "resources" and "." in rest:
            resource, field = rest.split(".", 1)
            found.setdefault(name, ParentRef(resource, field))
    return list(found.values())


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill placeholders in a string, or recursively in dicts and lists."""
    if isinstance(template, str):
        return _render_str(template, values)
    if isinstance(template, Mapping):
        return {render(k, values): render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(item, values) for item in template]
    return template


def _render_str(template: str, values: Mapping[str, Any]) -> Any:
    if "{" not in template and "}" not in template:
        return template
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1) is not None:
        return _lookup(whole.group(1).strip(), values)

    def substitute(match: re.Match[str]) -> str:
        if match.group(0).startswith("$"):
            return match.group(0)
        if match.group(0) == "{{":
            return "{"
        if match.group(0) == "}}":
            return "}"
        value = _lookup(match.group(1).strip(), values)
        return "" if value is None else str(value)

    return _TOKEN.sub(substitute, template)


def _lookup(name: str, values: Mapping[str, Any]) -> Any:
    if name not in values:
        if name == RUN_DATE:
            # where no run scope filled it (a sensor's probe, an inline parent): today
            return run_date()
        raise KeyError(f"no value for placeholder {{{name}}}")
    return values[name]
