"""The paginator protocol the client drives, and what every paginator uses to do its job."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from rest_assets.errors import PaginationLoopError
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import JSONPath


class BasePaginator(ABC):
    """The paginator protocol the client drives.

    The client calls, in order: `init_request(first)` once; then for every response
    `update_state(response, body, records)`; if `has_next_page`, `update_request(request)`
    and sends it. `body` is the parsed JSON body (parsed once by the client, or None when
    the body is not JSON); `records` is what the data selector selected from it.

    Optional: `planned_requests` (with `ends_here`) lets the client fetch the remaining
    pages in parallel once page one is in; `to_config` gives the config dict that
    `create_paginator` turns back into an equal paginator (every built-in has one).
    """

    def __init__(self) -> None:
        self.has_next_page = True
        # Things worth telling the user once (e.g. "the API caps the page size"): the page
        # walk logs them with the resource's name and clears the list.
        self.notes: list[str] = []

    def init_request(self, request: RequestSpec) -> None:  # noqa: B027 - optional hook
        """Set up the first request (e.g. add offset=0&limit=100)."""

    @abstractmethod
    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        """Read the response; set `has_next_page` and whatever the next request needs."""

    @abstractmethod
    def update_request(self, request: RequestSpec) -> None:
        """Change `request` in place so that it asks for the next page."""

    def planned_requests(self, request: RequestSpec, limit: int | None = None) -> list[RequestSpec]:
        """The requests of every remaining page, when they can all be named now; else [].

        Called once, after page one's `update_state`, when the endpoint asks for
        `page_concurrency` > 1; `request` is page one's request and `limit` caps how many
        requests to name. The paginator's own state must be left as it is. The default
        names none: pages then follow one by one. A paginator that names pages here should
        also say, through `ends_here`, when a page fetched ahead is the last one.
        """
        return []

    def ends_here(self, body: Any, records: list[Any]) -> bool:
        """Whether a page fetched ahead (see `planned_requests`) proves to be the last one."""
        return False

    def to_config(self) -> dict[str, Any]:
        """The config dict (`{"type": ..., parameters}`) that `create_paginator` turns back
        into an equal paginator, parameters at their defaults left out.

        Raises NotImplementedError for a paginator that does not define it (`inspect` then
        suggests `auto`).
        """
        raise NotImplementedError(f"{type(self).__name__} does not define to_config()")

    def describe(self) -> str:
        """A short human description, logged once per resource (never holds secrets)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return self.describe()


class SinglePagePaginator(BasePaginator):
    """One request, one page: ignores any pagination hints in the response."""

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        self.has_next_page = False

    def update_request(self, request: RequestSpec) -> None:
        return None

    def to_config(self) -> dict[str, Any]:
        return {"type": "single_page"}

    def describe(self) -> str:
        return "single_page()"


# --- what the paginators share ----------------------------------------------------------

_MAX_SHOWN = 60


def config_of(kind: str, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """`{"type": kind, **values}` without the values that equal their default in `defaults`."""
    kept = {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}
    return {"type": kind, **kept}


def describe_call(name: str, **params: Any) -> str:
    """`name(a='x', b=2)`, leaving out parameters that are None."""
    shown = ", ".join(f"{key}={value!r}" for key, value in params.items() if value is not None)
    return f"{name}({shown})"


def path_text(path: JSONPath | None) -> str | None:
    """The expression of a compiled path (None stays None)."""
    return path.expression if path is not None else None


def safe_url(url: str) -> str:
    """`url` without user info, query string or fragment: safe to put in a message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    if parts.query:
        shown += "?<query hidden>"
    return _truncate(shown)


def _truncate(text: str, limit: int = _MAX_SHOWN * 2) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_url(url: str) -> str:
    """A comparison key for URLs: query parameters sorted, fragment dropped."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def set_param(request: RequestSpec, name: str, value: Any) -> None:
    """Set a query parameter of `request`."""
    # A new dict each time: the caller's params dict (often straight from config) is not ours.
    request.params = {**(request.params or {}), name: value}


def set_body_path(request: RequestSpec, dotted: str, value: Any) -> None:
    """Write `value` at a dotted path into a copy of the JSON body, creating dicts as needed."""
    keys = dotted[2:].split(".") if dotted.startswith("$.") else dotted.split(".")
    body = dict(request.json) if isinstance(request.json, Mapping) else {}
    node = body
    for key in keys[:-1]:
        child = node.get(key)
        # Copy on write along the path: the original body may be shared with the config.
        node[key] = dict(child) if isinstance(child, Mapping) else {}
        node = node[key]
    node[keys[-1]] = value
    request.json = body


def as_int(value: Any) -> int | None:
    """An int from an int or numeric string; None for anything else (bool included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


_TRUE = {"true", "1", "yes", "y", "t", "on"}
_FALSE = {"false", "0", "no", "n", "f", "off", ""}


def as_bool(value: Any) -> bool | None:
    """A bool from a bool, number or yes/no-like string; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def read_has_more(paginator: BasePaginator, path: JSONPath, body: Any) -> bool:
    """The has-more flag at `path`, as dlt reads it: a page that configures one must carry
    it, as a bool or a yes/no-like string (numbers 0/1 are accepted too)."""
    found = path.find(body) if body is not None else []
    value = found[0] if found else None
    if value is None:
        raise ValueError(
            f"{paginator.describe()}: has_more_path {path.expression!r} is not in the "
            f"response{keys_hint(body)}; point has_more_path at the flag that says whether "
            "more pages follow, or remove it"
        )
    flag = as_bool(value)
    if flag is None:
        raise ValueError(
            f"{paginator.describe()}: has_more_path {path.expression!r} holds "
            f"{shown_value(value)}, not a boolean; point it at a true/false flag"
        )
    return flag


def keys_hint(body: Any) -> str:
    """` (its keys: a, b, c)` for a dict body, else ''."""
    if isinstance(body, Mapping) and body:
        keys = ", ".join(str(k) for k in list(body)[:10])
        return f" (its top-level keys: {keys})"
    return ""


def check_name(kind: str, what: str, value: str | None) -> None:
    """Refuse an empty parameter or body-path name (dlt refuses it too)."""
    if value is not None and not value.strip():
        raise ValueError(f"{kind}: {what} must not be empty; give a name or leave it out")


class LoopGuard:
    """Remembers every next reference followed; a repeat means the API is going in circles."""

    def __init__(self) -> None:
        self._seen: set[Any] = set()

    def reset(self) -> None:
        self._seen.clear()

    def add(self, key: Any) -> None:
        self._seen.add(key)

    def check(self, paginator: BasePaginator, key: Any, what: str, shown: str) -> None:
        if key in self._seen:
            raise PaginationLoopError(
                f"{paginator.describe()} was handed the same {what} twice ({shown}); "
                f"following it would never end. Check the paginator settings for this "
                f"endpoint or set an explicit paginator."
            )
        self._seen.add(key)


def shown_value(value: Any) -> str:
    """A cursor value as a message shows it: quoted, cut at 60 characters."""
    text = str(value)
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")
