"""Compiled JSONPath lookups and the data selector that finds the records in a page.

Everything here is compiled once and then applied once per page. Plain dotted names
(`data`, `results.items`, `['@odata.nextLink']`) skip jsonpath-ng entirely: a dict walk is
an order of magnitude cheaper than building jsonpath `DatumInContext` objects per page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonpath_ng.ext.parser import parse as _jsonpath_parse

__all__ = ["DataSelector", "JSONPath", "compile_path"]

# Same identifier alphabet as jsonpath-ng's lexer, so the fast path and the full parser agree.
_NAME = r"[A-Za-z_@][A-Za-z0-9_@\-]*"
_QUOTED = r"\[\s*(?:'[^'\\]*'|\"[^\"\\]*\")\s*\]"
_SEGMENT = re.compile(rf"\.?({_NAME})|({_QUOTED})")
_PLAIN = re.compile(rf"^(?:\$\.?)?(?:{_NAME}|{_QUOTED})(?:\.{_NAME}|{_QUOTED})*$")

# Keys under which APIs commonly put the records list, best first.
COMMON_RECORD_KEYS: tuple[str, ...] = (
    "data",
    "results",
    "items",
    "records",
    "entries",
    "values",
    "value",
    "rows",
    "objects",
    "elements",
    "list",
    "hits",
    "content",
    "payload",
    "entities",
    "collection",
    "nodes",
    "edges",
)
_MISSING = object()


def _plain_keys(expression: str) -> tuple[str, ...] | None:
    """The key chain of a plain path like `a.b` or `$['@odata.nextLink']`, else None."""
    if not _PLAIN.match(expression):
        return None
    rest = expression[1:] if expression.startswith("$") else expression
    keys: list[str] = []
    for match in _SEGMENT.finditer(rest):
        name, quoted = match.groups()
        keys.append(name if name is not None else quoted.strip()[1:-1].strip()[1:-1])
    return tuple(keys)


class JSONPath:
    """A path compiled once: `find(obj)` lists the matched values, `first(obj)` the first one.

    `expression` is JSONPath as jsonpath-ng's extended parser reads it; "$" is the object
    itself. Plain dotted names (optionally bracket-quoted for keys like "@odata.nextLink")
    are looked up with plain dict access.
    """

    __slots__ = ("_find", "expression", "keys")

    def __init__(self, expression: str) -> None:
        expression = expression.strip()
        if not expression:
            raise ValueError("a JSONPath expression must not be empty")
        self.expression = expression
        self.keys: tuple[str, ...] | None = () if expression == "$" else _plain_keys(expression)
        if self.keys is not None:
            self._find: Callable[[Any], list[Any]] = self._find_plain
        else:
            try:
                compiled = _jsonpath_parse(expression)
            except Exception as exc:  # jsonpath-ng raises bare Exception subclasses
                raise ValueError(f"invalid JSONPath {expression!r}: {exc}") from exc
            self._find = lambda obj: [match.value for match in compiled.find(obj)]

    def _find_plain(self, obj: Any) -> list[Any]:
        for key in self.keys or ():
            if not isinstance(obj, dict):
                return []
            obj = obj.get(key, _MISSING)
            if obj is _MISSING:
                return []
        return [obj]

    def find(self, obj: Any) -> list[Any]:
        """All values the path matches in `obj` (empty when nothing matches)."""
        return self._find(obj)

    def first(self, obj: Any, default: Any = None) -> Any:
        """The first matched value, or `default`."""
        if self.keys is not None:
            for key in self.keys:
                if not isinstance(obj, dict):
                    return default
                obj = obj.get(key, _MISSING)
                if obj is _MISSING:
                    return default
            return obj
        values = self._find(obj)
        return values[0] if values else default

    def __repr__(self) -> str:
        return f"JSONPath({self.expression!r})"

    # Immutable once compiled: copies share it, pickles recompile from the expression.
    def __copy__(self) -> JSONPath:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> JSONPath:
        return self

    def __reduce__(self) -> tuple[type[JSONPath], tuple[str]]:
        return (JSONPath, (self.expression,))


def compile_path(expression: str | JSONPath) -> JSONPath:
    """Compile `expression` (or return it when already compiled)."""
    return expression if isinstance(expression, JSONPath) else JSONPath(expression)


def _as_records(value: Any) -> list[Any]:
    """A selected value as a list of records: list as is, None as [], anything else as [x]."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def _is_list_of_dicts(value: Any) -> bool:
    return isinstance(value, list) and (not value or isinstance(value[0], dict))


def detect_records_path(body: Any) -> str:
    """Guess where the records are in `body`; returns a path `DataSelector` can compile.

    A bare list is the records; else a list under a common key (data, results, items...);
    else the largest list of objects at most two levels down; else the body is one record.
    """
    if not isinstance(body, dict):
        return "$"
    for key in COMMON_RECORD_KEYS:
        if isinstance(body.get(key), list):
            return _quote(key)
    best: tuple[int, str] | None = None
    for key, value in body.items():
        candidates: list[tuple[str, Any]] = [(_quote(key), value)]
        if isinstance(value, dict):
            candidates += [(f"{_quote(key)}.{_quote(k)}", v) for k, v in value.items()]
        for path, candidate in candidates:
            if _is_list_of_dicts(candidate) and (best is None or len(candidate) > best[0]):
                best = (len(candidate), path)
    return best[1] if best is not None else "$"


def _quote(key: str) -> str:
    """A key as a path segment: bare when it is a plain name, else bracket-quoted."""
    if re.fullmatch(_NAME, key):
        return key
    if "'" not in key:
        return f"['{key}']"
    return f'["{key}"]'


class DataSelector:
    """Selects the records list from a parsed page body.

    `expression` is a JSONPath ("$" = whole body) or None to auto-detect: the first page
    decides where the records are and later pages reuse that choice (see `.chosen`).
    A selected object becomes a one-record list; nothing selected becomes [].
    """

    def __init__(self, expression: str | None = None) -> None:
        self.expression = expression
        self._path: JSONPath | None = compile_path(expression) if expression is not None else None
        # `data[*]` / `data.*` means "the elements of data": when data is a list, that is
        # the list itself, which saves jsonpath-ng wrapping every record (~0.6 ms per 1000).
        self._list_prefix: JSONPath | None = None
        if self._path is not None and self._path.keys is None:
            stripped = self._path.expression
            for suffix in ("[*]", ".*"):
                if stripped.endswith(suffix):
                    prefix = stripped[: -len(suffix)]
                    keys = _plain_keys(prefix) if prefix not in ("", "$") else ()
                    if keys is not None:
                        self._list_prefix = compile_path(prefix or "$")
                    break

    @property
    def chosen(self) -> str | None:
        """The path in use (the configured one, or the detected one after page one)."""
        return self._path.expression if self._path is not None else None

    def select(self, body: Any) -> list[Any]:
        """The records in `body`."""
        path = self._path
        if path is None:
            path = self._path = compile_path(detect_records_path(body))
        if path.keys is not None:
            return _as_records(path.first(body))
        if self._list_prefix is not None:
            elements = self._list_prefix.first(body)
            if isinstance(elements, list):
                return elements
        values = path.find(body)
        if len(values) == 1:
            return _as_records(values[0])
        # Several matches (wildcards, filters) are records themselves; lists among them
        # (e.g. `groups[*].members`) are spliced in so the result stays flat.
        records: list[Any] = []
        for value in values:
            if isinstance(value, list):
                records.extend(value)
            elif value is not None:
                records.append(value)
        return records

    def __repr__(self) -> str:
        return f"DataSelector({self.expression!r}, chosen={self.chosen!r})"
