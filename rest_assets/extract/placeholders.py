"""Placeholders in endpoint paths, params, JSON bodies and headers.

`{resources.<parent>.<field>}` takes a field of a parent row, `{incremental.start_value}` and
friends the incremental state, `{partition.start}` / `{partition.end}` / `{partition.key}`
the partition being run, `{run.date}` the run's date (`YYYY-MM-DD`: a time partition's
start date, else today in UTC; the connector dialect's `{{ dt }}`), and a bare `{name}` a
legacy `resolve` parameter. `{{` and `}}`
are literal braces; `${VAR}` is left for the HTTP client to resolve. A value that is exactly
one placeholder keeps the value's type (an integer id stays an integer in a JSON body);
otherwise placeholders are formatted as text.

Values from data are data, never configuration. A parent row, a cursor value or a partition
key may hold `${SECRET}`: the config's own references are resolved by the HTTP client when
it builds the request, after placeholders are filled, so every `${` a value brings is
escaped (`$${`) and reaches the API as the text it was. In a path, such a value is also
percent-encoded (`?`, `#`, `%`... cannot start a query or change the path) and a `.`/`..`
step is refused, except a full URL that the path starts with (`{resources.items.url}`): that
is followed as it is, but its origin is not trusted with credentials (`RenderedPath`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from rest_assets.config.references import REFERENCE, escape_literal
from rest_assets.errors import ConfigError, RestAssetsError

# `${VAR}` is an environment reference, resolved by the HTTP client when the request is built:
# matched first so that it is left as it is, never taken for a `{VAR}` placeholder
_TOKEN = re.compile(r"\$\{[^{}]*\}|\{\{|\}\}|\{([^{}]*)\}")
INCREMENTAL_NAMES = ("start_value", "initial_value", "last_value", "end_value")
PARTITION_NAMES = ("start", "end", "key")
RUN_DATE = "run.date"
# What a value from data keeps as it is in a path: `/` (a separator, as in dlt) and the rest
# of RFC 3986's path characters that cannot end the path, start a query or escape (`:`, `@`,
# `+`...). `?`, `#`, `%`, `;`, `\`, braces, spaces and non-ASCII are percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,="


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


class UnsafePathValueError(RestAssetsError):
    """A value from data would step out of the configured path (`..`)."""


@dataclass(frozen=True)
class RenderedPath:
    """An endpoint path with its placeholders filled.

    `trusted` is False when the path is a full URL whose origin came from data (a parent
    field holding a URL): the request goes there, but without credentials unless that origin
    is the base URL's.
    """

    path: str
    trusted: bool


def render(template: Any, values: Mapping[str, Any], config_names: Collection[str] = ()) -> Any:
    """Fill placeholders in a string, or recursively in dicts and lists.

    Every value is data (its `${` escaped) except `{run.date}` and the names in
    `config_names`, whose values come from the configuration itself.
    """
    return _render(template, values, frozenset(config_names), escape=True)


def render_path(
    template: str, values: Mapping[str, Any], config_names: Collection[str] = (), where: str = ""
) -> RenderedPath:
    """Fill the placeholders of an endpoint path: values from data are percent-encoded (a
    `/` stays a separator, as in dlt) and may not hold `.`/`..` steps; a full URL at the start
    of the path is kept whole and makes the path untrusted (see `RenderedPath`)."""
    if "{" not in template and "}" not in template:
        return RenderedPath(template, True)
    names = frozenset(config_names)
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1) is not None and not _is_config(whole.group(1).strip(), names):
        value = _lookup(whole.group(1).strip(), values)
        text = "" if value is None else str(value)
        if _is_url(text):
            return RenderedPath(escape_literal(text), False)

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("$"):
            return token
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1).strip()
        value = _lookup(name, values)
        text = "" if value is None else str(value)
        if _is_config(name, names):
            return text
        if match.start() == 0 and _is_url(text):
            return escape_literal(text)  # a URL from data: followed, not trusted
        return _path_segment(text, name, where)

    rendered = _TOKEN.sub(substitute, template)
    return RenderedPath(rendered, configured_origin(template) or not _is_url(rendered))


def configured_origin(template: str) -> bool:
    """Whether `template` is a full URL whose scheme and host are written in the config
    (`${VAR}` references count as config; placeholders do not)."""
    text = REFERENCE.sub("x", template)
    if not _is_url(text):
        return False
    parts = urlsplit(text)
    return "{" not in parts.netloc and "}" not in parts.netloc


def check_braces(template: Any, where: str) -> None:
    """Raise a ConfigError naming `where` for a brace that opens or closes no placeholder
    (`{resources.a.id` without its `}`): it would be sent to the API as it is."""
    if isinstance(template, str):
        rest = _TOKEN.sub("", template)
        if "{" in rest or "}" in rest:
            brace = "{" if "{" in rest else "}"
            raise ConfigError(
                f"{where}: {template!r} has a {brace!r} that is not part of a placeholder; "
                "close it ({resources.<parent>.<field>}), or write a literal brace as {{ or }}"
            )
    elif isinstance(template, Mapping):
        for key, value in template.items():
            check_braces(key, where)
            check_braces(value, f"{where}.{key}")
    elif isinstance(template, list | tuple):
        for index, item in enumerate(template):
            check_braces(item, f"{where}[{index}]")


def _is_config(name: str, config_names: frozenset[str]) -> bool:
    return name == RUN_DATE or name in config_names


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _path_segment(text: str, name: str, where: str) -> str:
    if any(step in (".", "..") for step in text.replace("\\", "/").split("/")):
        place = f"{where}: " if where else ""
        raise UnsafePathValueError(
            f"{place}{{{name}}} is {text!r} in the API's data: a relative step ('.' or '..') "
            "would leave the configured path, so it is not sent; filter such records out "
            "(processing_steps) or fix the data"
        )
    return quote(text, safe=_PATH_SAFE)


def _escaped(value: Any) -> Any:
    """A value from data with every `${` escaped, inside lists and dict values too."""
    if isinstance(value, str):
        return escape_literal(value) if "${" in value else value
    if isinstance(value, Mapping):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value


def _render(template: Any, values: Mapping[str, Any], names: frozenset[str], escape: bool) -> Any:
    if isinstance(template, str):
        return _render_str(template, values, names, escape)
    if isinstance(template, Mapping):
        # keys are never resolved by the client, so they are not escaped either
        return {
            _render(k, values, names, False): _render(v, values, names, escape)
            for k, v in template.items()
        }
    if isinstance(template, list):
        return [_render(item, values, names, escape) for item in template]
    return template


def _render_str(
    template: str, values: Mapping[str, Any], names: frozenset[str], escape: bool
) -> Any:
    if "{" not in template and "}" not in template:
        return template
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1) is not None:
        name = whole.group(1).strip()
        value = _lookup(name, values)
        return _escaped(value) if escape and not _is_config(name, names) else value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0).startswith("$"):
            return match.group(0)
        if match.group(0) == "{{":
            return "{"
        if match.group(0) == "}}":
            return "}"
        name = match.group(1).strip()
        value = _lookup(name, values)
        text = "" if value is None else str(value)
        return escape_literal(text) if escape and not _is_config(name, names) else text

    return _TOKEN.sub(substitute, template)


def _lookup(name: str, values: Mapping[str, Any]) -> Any:
    if name not in values:
        if name == RUN_DATE:
            # where no run scope filled it (a sensor's probe, an inline parent): today
            return run_date()
        raise KeyError(f"no value for placeholder {{{name}}}")
    return values[name]
