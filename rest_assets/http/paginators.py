"""Paginators: each turns a response into the next request, or says there is none.

The parameters and their defaults follow dlt's rest_api paginators, so a dlt `RESTAPIConfig`
paginator dict works unchanged with `create_paginator`. Everything here runs once per page;
only the Stripe paginator looks at a record (the last one).
"""

from __future__ import annotations

import copy
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from rest_assets.errors import PaginationLoopError
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import JSONPath, compile_path

__all__ = [
    "BasePaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "SinglePagePaginator",
    "StripePaginator",
    "create_paginator",
    "detect_paginator",
    "register_paginator",
]


class BasePaginator(ABC):
    """The paginator protocol the client drives.

    The client calls, in order: `init_request(first)` once; then for every response
    `update_state(response, body, records)`; if `has_next_page`, `update_request(request)`
    and sends it. `body` is the parsed JSON body (parsed once by the client, or None when
    the body is not JSON); `records` is what the data selector selected from it.
    """

    def __init__(self) -> None:
        self.has_next_page = True

    def init_request(self, request: RequestSpec) -> None:  # noqa: B027 - optional hook
        """Set up the first request (e.g. add offset=0&limit=100)."""

    @abstractmethod
    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        """Read the response; set `has_next_page` and whatever the next request needs."""

    @abstractmethod
    def update_request(self, request: RequestSpec) -> None:
        """Change `request` in place so that it asks for the next page."""

    def describe(self) -> str:
        """A short human description, logged once per resource (never holds secrets)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return self.describe()


# --- small helpers -----------------------------------------------------------------------

_MAX_SHOWN = 60


def _fmt(name: str, **params: Any) -> str:
    """`name(a='x', b=2)`, leaving out parameters that are None."""
    shown = ", ".join(f"{key}={value!r}" for key, value in params.items() if value is not None)
    return f"{name}({shown})"


def _path_text(path: JSONPath | None) -> str | None:
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


def _normalize_url(url: str) -> str:
    """A comparison key for URLs: query parameters sorted, fragment dropped."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _set_param(request: RequestSpec, name: str, value: Any) -> None:
    # A new dict each time: the caller's params dict (often straight from config) is not ours.
    request.params = {**(request.params or {}), name: value}


def _set_body_path(request: RequestSpec, dotted: str, value: Any) -> None:
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


def _as_int(value: Any) -> int | None:
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


def _as_bool(value: Any) -> bool | None:
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


class _LoopGuard:
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


def _shown_value(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


# --- concrete paginators -----------------------------------------------------------------


class SinglePagePaginator(BasePaginator):
    """One request, one page: ignores any pagination hints in the response."""

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        self.has_next_page = False

    def update_request(self, request: RequestSpec) -> None:
        return None

    def describe(self) -> str:
        return "single_page()"


class _NextURLPaginator(BasePaginator):
    """Follows a next-page URL taken from the response (body or headers).

    Relative URLs are resolved against the URL of the page that named them. A next URL with
    a query string replaces the request URL *and* its query parameters: the link already
    carries the parameters the API wants (GitHub, Shopify and Graph links do), and
    re-sending the originals would duplicate them (Shopify rejects extra params next to
    page_info). A next URL without a query string keeps the original parameters.
    """

    _what = "next URL"

    def __init__(self) -> None:
        super().__init__()
        self.next_url: str | None = None
        self._guard = _LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.next_url = None
        self._guard.reset()

    @abstractmethod
    def _find_next(self, response: requests.Response, body: Any) -> Any:
        """The raw next reference in the response, or None."""

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if response.url:
            self._guard.add(_normalize_url(response.url))
        raw = self._find_next(response, body)
        if not isinstance(raw, str) or not raw.strip():
            self.next_url = None
            self.has_next_page = False
            return
        url = urljoin(response.url, raw.strip()) if response.url else raw.strip()
        self._guard.check(self, _normalize_url(url), self._what, safe_url(url))
        self.next_url = url
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.next_url is None:
            return
        request.url = urljoin(request.url, self.next_url)
        if urlsplit(request.url).query:
            request.params = {}


class JSONLinkPaginator(_NextURLPaginator):
    """The next page URL is in the JSON body at `next_url_path` (JSONPath, default "next").

    Keys with dots or `@` need bracket quoting, e.g. Microsoft Graph's
    `"['@odata.nextLink']"`. A missing, null or empty value ends pagination.
    """

    def __init__(self, next_url_path: str = "next") -> None:
        super().__init__()
        self.next_url_path = compile_path(next_url_path)

    def _find_next(self, response: requests.Response, body: Any) -> Any:
        return self.next_url_path.first(body)

    def describe(self) -> str:
        return _fmt("json_link", next_url_path=self.next_url_path.expression)


class HeaderLinkPaginator(_NextURLPaginator):
    """The next page URL is in the RFC 8288 `Link` header under rel `links_next_key`."""

    def __init__(self, links_next_key: str = "next") -> None:
        super().__init__()
        self.links_next_key = links_next_key

    def _find_next(self, response: requests.Response, body: Any) -> Any:
        links = response.links
        link = links.get(self.links_next_key)
        if link is None:
            # rel may hold several space-separated relation types (rel="next last").
            for candidate in links.values():
                if self.links_next_key in str(candidate.get("rel", "")).split():
                    link = candidate
                    break
        return link.get("url") if link else None

    def describe(self) -> str:
        return _fmt("header_link", links_next_key=self.links_next_key)


class _CursorPaginator(BasePaginator):
    """Sends a cursor taken from the response as a query parameter or a JSON body field."""

    _what = "cursor"
    _name = "cursor"

    def __init__(self, cursor_param: str | None, cursor_body_path: str | None) -> None:
        super().__init__()
        if cursor_param is not None and cursor_body_path is not None:
            raise ValueError(
                f"{self._name}: give either cursor_param or cursor_body_path, not both"
            )
        self.cursor_param = cursor_param if cursor_body_path is None else None
        self.cursor_body_path = cursor_body_path
        self.cursor: Any = None
        self._guard = _LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.cursor = None
        self._guard.reset()

    def _accept(self, cursor: Any) -> None:
        if cursor is None or cursor == "" or isinstance(cursor, bool | dict | list):
            self.cursor = None
            self.has_next_page = False
            return
        self._guard.check(self, cursor, self._what, _shown_value(cursor))
        self.cursor = cursor
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.cursor is None:
            return
        if self.cursor_body_path is not None:
            _set_body_path(request, self.cursor_body_path, self.cursor)
        else:
            _set_param(request, self.cursor_param or "cursor", self.cursor)


class JSONResponseCursorPaginator(_CursorPaginator):
    """The cursor is in the JSON body at `cursor_path`; it is sent back as the query
    parameter `cursor_param` (default "cursor") or written into the JSON request body at
    the dotted `cursor_body_path` (for POST search endpoints). Not both."""

    _name = "cursor"

    def __init__(
        self,
        cursor_path: str = "cursors.next",
        cursor_param: str | None = None,
        cursor_body_path: str | None = None,
    ) -> None:
        super().__init__(
            cursor_param if cursor_param is not None or cursor_body_path else "cursor",
            cursor_body_path,
        )
        self.cursor_path = compile_path(cursor_path)

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        self._accept(self.cursor_path.first(body))

    def describe(self) -> str:
        return _fmt(
            "cursor",
            cursor_path=self.cursor_path.expression,
            cursor_param=self.cursor_param,
            cursor_body_path=self.cursor_body_path,
        )


class HeaderCursorPaginator(_CursorPaginator):
    """The cursor is in the response header `cursor_key`; it is sent back as the query
    parameter `cursor_param`."""

    _name = "header_cursor"

    def __init__(self, cursor_key: str = "next", cursor_param: str = "cursor") -> None:
        super().__init__(cursor_param, None)
        self.cursor_key = cursor_key

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        value = response.headers.get(self.cursor_key)
        self._accept(value.strip() if value else None)

    def describe(self) -> str:
        return _fmt("header_cursor", cursor_key=self.cursor_key, cursor_param=self.cursor_param)


class StripePaginator(BasePaginator):
    """Stripe-style lists: `{"data": [...], "has_more": true}`; the next page is asked for
    with `starting_after=<id of the last record>` until `has_more` is false."""

    def __init__(
        self,
        cursor_param: str = "starting_after",
        id_path: str = "id",
        has_more_path: str = "has_more",
    ) -> None:
        super().__init__()
        self.cursor_param = cursor_param
        self.id_path = compile_path(id_path)
        self.has_more_path = compile_path(has_more_path)
        self.cursor: Any = None
        self._guard = _LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.cursor = None
        self._guard.reset()

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if not records or not _as_bool(self.has_more_path.first(body)):
            self.has_next_page = False
            return
        cursor = self.id_path.first(records[-1])
        if cursor is None or cursor == "":
            self.has_next_page = False
            return
        self._guard.check(self, cursor, "last record id", _shown_value(cursor))
        self.cursor = cursor
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.cursor is not None:
            _set_param(request, self.cursor_param, self.cursor)

    def describe(self) -> str:
        return _fmt(
            "stripe",
            cursor_param=self.cursor_param,
            id_path=self.id_path.expression,
            has_more_path=self.has_more_path.expression,
        )


class _RangePaginator(BasePaginator):
    """A number (offset or page) that grows by a fixed step until a stop condition holds.

    Stop conditions, checked after every page: an empty page (`stop_after_empty_page`);
    has_more false; the number reaching the total (the last total seen is remembered, so a
    total that only page one carries, or that turns null, neither stops nor breaks
    pagination); the number reaching the maximum.
    """

    def __init__(
        self,
        *,
        name: str,
        param: str | None,
        body_path: str | None,
        start: int,
        step: int,
        base: int,
        maximum: int | None,
        total_path: str | None,
        stop_after_empty_page: bool,
        has_more_path: str | None,
    ) -> None:
        super().__init__()
        if param is not None and body_path is not None:
            raise ValueError(f"{name}: give either the query parameter or the body path, not both")
        if (
            total_path is None
            and maximum is None
            and has_more_path is None
            and not stop_after_empty_page
        ):
            raise ValueError(
                f"{name}: nothing would ever stop it; set total_path, the maximum, "
                f"has_more_path or stop_after_empty_page=True"
            )
        self.param = param
        self.body_path = body_path
        self.start = start
        self.step = step
        self.base = base
        self.maximum = maximum
        self.total_path = compile_path(total_path) if total_path else None
        self.has_more_path = compile_path(has_more_path) if has_more_path else None
        self.stop_after_empty_page = stop_after_empty_page
        self.current = start
        self.total: int | None = None

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.current = self.start
        self.total = None
        self._write(request)

    def _write(self, request: RequestSpec) -> None:
        if self.body_path is not None:
            _set_body_path(request, self.body_path, self.current)
        else:
            _set_param(request, self.param or "", self.current)

    def update_request(self, request: RequestSpec) -> None:
        self._write(request)

    def _read_total(self, body: Any) -> int | None:
        if self.total_path is not None:
            total = _as_int(self.total_path.first(body))
            if total is not None and total >= 0:
                self.total = total
        return self.total

    def _short_page(self, records: list[Any]) -> bool:
        """Whether this page proves it is the last one without a total (offset only)."""
        return False

    def planned_requests(self, request: RequestSpec, limit: int | None = None) -> list[RequestSpec]:
        """The requests of every remaining page, when the total is known (else []).

        Called after page one's `update_state`, for fetching pages ahead in parallel; `limit`
        caps how many. The paginator's own state is left as it is.
        """
        if not self.has_next_page or self.total is None:
            return []
        stop = self.total + self.base
        if self.maximum is not None:
            stop = min(stop, self.maximum)
        planned: list[RequestSpec] = []
        for value in range(self.current, stop, self.step):
            if limit is not None and len(planned) >= limit:
                break
            spec = copy.copy(request)
            saved, self.current = self.current, value
            self._write(spec)
            self.current = saved
            planned.append(spec)
        return planned

    def ends_here(self, body: Any, records: list[Any]) -> bool:
        """Whether a page fetched ahead is the last one (empty, or has_more false)."""
        if self.stop_after_empty_page and not records:
            return True
        if self.has_more_path is not None:
            return _as_bool(self.has_more_path.first(body)) is False
        return False

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if self.stop_after_empty_page and not records:
            self.has_next_page = False
            return
        total = self._read_total(body)
        has_more = (
            _as_bool(self.has_more_path.first(body)) if self.has_more_path is not None else None
        )
        self.current += self.step
        self.has_next_page = not (
            has_more is False
            or (total is not None and self.current >= total + self.base)
            or (self.maximum is not None and self.current >= self.maximum)
            or (total is None and has_more is None and self._short_page(records))
        )


class OffsetPaginator(_RangePaginator):
    """offset/limit pagination. `total_path` (default "total") names the item count;
    total_path=None relies on `maximum_offset`, `has_more_path` and empty pages. Without a
    known total, a page shorter than `limit` is the last one."""

    def __init__(
        self,
        limit: int,
        offset: int = 0,
        offset_param: str | None = None,
        limit_param: str | None = None,
        total_path: str | None = "total",
        maximum_offset: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: str | None = None,
        offset_body_path: str | None = None,
        limit_body_path: str | None = None,
    ) -> None:
        if _as_int(limit) is None or int(limit) <= 0:
            raise ValueError(f"offset: limit must be a positive integer, got {limit!r}")
        if limit_param is not None and limit_body_path is not None:
            raise ValueError("offset: give either limit_param or limit_body_path, not both")
        super().__init__(
            name="offset",
            param=offset_param if offset_param is not None or offset_body_path else "offset",
            body_path=offset_body_path,
            start=offset,
            step=int(limit),
            base=0,
            maximum=maximum_offset,
            total_path=total_path,
            stop_after_empty_page=stop_after_empty_page,
            has_more_path=has_more_path,
        )
        self.limit = int(limit)
        self.limit_param = limit_param if limit_param is not None or limit_body_path else "limit"
        self.limit_body_path = limit_body_path

    def _write(self, request: RequestSpec) -> None:
        super()._write(request)
        if self.limit_body_path is not None:
            _set_body_path(request, self.limit_body_path, self.limit)
        else:
            _set_param(request, self.limit_param or "limit", self.limit)

    def _short_page(self, records: list[Any]) -> bool:
        return len(records) < self.limit

    def describe(self) -> str:
        return _fmt(
            "offset",
            limit=self.limit,
            offset=self.start or None,
            offset_param=self.param if self.body_path is None else None,
            offset_body_path=self.body_path,
            limit_param=self.limit_param if self.limit_body_path is None else None,
            limit_body_path=self.limit_body_path,
            total_path=_path_text(self.total_path),
            maximum_offset=self.maximum,
            has_more_path=_path_text(self.has_more_path),
        )


class PageNumberPaginator(_RangePaginator):
    """Page-number pagination starting at `page` (default `base_page`, 0 unless set).
    `total_path` (default "total") names the number of pages; pagination stops once the
    page number reaches `maximum_page` (that page is not requested)."""

    def __init__(
        self,
        base_page: int = 0,
        page: int | None = None,
        page_param: str | None = None,
        total_path: str | None = "total",
        maximum_page: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: str | None = None,
        page_body_path: str | None = None,
    ) -> None:
        super().__init__(
            name="page_number",
            param=page_param if page_param is not None or page_body_path else "page",
            body_path=page_body_path,
            start=base_page if page is None else page,
            step=1,
            base=base_page,
            maximum=maximum_page,
            total_path=total_path,
            stop_after_empty_page=stop_after_empty_page,
            has_more_path=has_more_path,
        )
        self.base_page = base_page

    def describe(self) -> str:
        return _fmt(
            "page_number",
            base_page=self.base_page,
            page=self.start if self.start != self.base_page else None,
            page_param=self.param if self.body_path is None else None,
            page_body_path=self.body_path,
            total_path=_path_text(self.total_path),
            maximum_page=self.maximum,
            has_more_path=_path_text(self.has_more_path),
        )


# --- registry ----------------------------------------------------------------------------

PAGINATORS: dict[str, type[BasePaginator]] = {
    "single_page": SinglePagePaginator,
    "json_link": JSONLinkPaginator,
    "json_response": JSONLinkPaginator,  # dlt's deprecated alias of json_link
    "header_link": HeaderLinkPaginator,
    "header_cursor": HeaderCursorPaginator,
    "offset": OffsetPaginator,
    "page_number": PageNumberPaginator,
    "cursor": JSONResponseCursorPaginator,
    "stripe": StripePaginator,
}


def register_paginator(name: str, cls: type[BasePaginator]) -> None:
    """Make `cls` available to `create_paginator` as `{"type": name, ...}` or `name`."""
    if not (isinstance(cls, type) and issubclass(cls, BasePaginator)):
        raise TypeError(f"register_paginator({name!r}, ...): {cls!r} is not a BasePaginator")
    PAGINATORS[name] = cls


def _accepted_parameters(cls: type[BasePaginator]) -> tuple[list[str], bool]:
    """The keyword parameters `cls()` takes, and whether it takes any (**kwargs)."""
    names: list[str] = []
    open_ended = False
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self":
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            open_ended = True
        elif param.kind is not inspect.Parameter.VAR_POSITIONAL:
            names.append(param.name)
    return names, open_ended


def _known_types() -> str:
    return ", ".join(sorted([*PAGINATORS, "auto"]))


def create_paginator(
    spec: BasePaginator | Mapping[str, Any] | str | type[BasePaginator] | None,
) -> BasePaginator | None:
    """A fresh paginator from a config value; None means "auto-detect from the first page".

    Accepts None / "auto", a type name ("header_link"), a dict with `type` and the
    paginator's parameters (named as dlt names them), a registered class, or an instance
    (deep-copied, so each `paginate()` run starts from clean state).
    """
    if spec is None:
        return None
    if isinstance(spec, BasePaginator):
        return copy.deepcopy(spec)
    if isinstance(spec, type) and issubclass(spec, BasePaginator):
        return spec()
    if isinstance(spec, str):
        kind, params = spec, {}
    elif isinstance(spec, Mapping):
        params = dict(spec)
        kind = params.pop("type", None)
        if not isinstance(kind, str):
            raise ValueError(f"a paginator needs a 'type': one of {_known_types()}")
    else:
        raise ValueError(f"cannot make a paginator from {type(spec).__name__}")
    kind = kind.strip()
    if kind == "auto":
        return None
    cls = PAGINATORS.get(kind)
    if cls is None:
        raise ValueError(f"unknown paginator type {kind!r}; known types: {_known_types()}")
    accepted, open_ended = _accepted_parameters(cls)
    unknown = sorted(key for key in params if key not in accepted)
    if unknown and not open_ended:
        raise ValueError(
            f"paginator {kind!r} does not take {', '.join(unknown)}; "
            f"accepted parameters: {', '.join(accepted) or '(none)'}"
        )
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(
            f"paginator {kind!r}: {exc}; accepted parameters: {', '.join(accepted)}"
        ) from exc


# --- detection ---------------------------------------------------------------------------

_URL_PREFIXES = ("http://", "https://", "/", "?")


_RELATIVE_URL = re.compile(r"^[\w.~%/-]*\?[^\s?]*=")


def _is_url_or_null(value: Any) -> bool:
    """None, an absolute/rooted URL, or a relative one with a query (`items?page=2`)."""
    if value is None:
        return True
    return isinstance(value, str) and (
        value.startswith(_URL_PREFIXES) or _RELATIVE_URL.match(value) is not None
    )


def _is_token(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""


@dataclass(frozen=True)
class _FieldRule:
    """When `path` is in the body and `accepts` its value, `make(path, body, records)`."""

    name: str
    path: JSONPath
    accepts: Callable[[Any], bool]
    make: Callable[[str, Any, list[Any]], BasePaginator | None]


def _field_rules() -> list[_FieldRule]:
    rules: list[_FieldRule] = []
    # Next-page URLs in the body; a present-but-null one (last page) still counts.
    for path in (
        "next",
        "next_url",
        "nextLink",
        "next_page_url",
        "links.next",
        "_links.next.href",
        "pagination.next",
        "paging.next",
        "['@odata.nextLink']",
        "meta.next",
    ):
        rules.append(
            _FieldRule("json_link", compile_path(path), _is_url_or_null, _json_link_factory)
        )
    # HubSpot: {"paging": {"next": {"after": "..."}}}; the last page has no paging at all.
    rules.append(
        _FieldRule(
            "hubspot",
            compile_path("paging.next.after"),
            _is_token,
            lambda path, body, records: JSONResponseCursorPaginator(path, cursor_param="after"),
        )
    )
    rules.append(_FieldRule("stripe", compile_path("has_more"), _is_bool, _stripe_factory))
    for path, param in (
        ("next_cursor", "cursor"),
        ("response_metadata.next_cursor", "cursor"),
        ("cursor", "cursor"),
        ("next_page_token", "page_token"),
        ("nextPageToken", "pageToken"),
        ("cursors.next", "cursor"),
        ("meta.next_cursor", "cursor"),
        ("pagination.next_cursor", "cursor"),
    ):
        rules.append(_FieldRule("cursor", compile_path(path), _is_token, _cursor_factory(param)))
    return rules


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _json_link_factory(path: str, body: Any, records: list[Any]) -> BasePaginator:
    return JSONLinkPaginator(next_url_path=path)


def _cursor_factory(param: str) -> Callable[[str, Any, list[Any]], BasePaginator]:
    return lambda path, body, records: JSONResponseCursorPaginator(path, cursor_param=param)


def _stripe_factory(path: str, body: Any, records: list[Any]) -> BasePaginator | None:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    last = data[-1] if data else None
    if last is not None and not (isinstance(last, dict) and "id" in last):
        return None
    return StripePaginator()


# Offset echoed in the body next to a total: (offset key, limit key) in a container.
_OFFSET_CONTAINERS = ("", "meta", "pagination", "paging", "page_info")
_OFFSET_KEYS = (("offset", "limit"), ("skip", "limit"), ("skip", "take"), ("start", "limit"))
_TOTAL_KEYS = ("total", "count", "total_count", "totalCount", "total_results", "totalResults")
# Page number echoed next to a page count: (page key, pages key).
_PAGE_KEYS = (
    ("page", "total_pages"),
    ("page", "totalPages"),
    ("page", "pages"),
    ("current_page", "last_page"),
)


def _container(body: Any, name: str) -> dict[str, Any] | None:
    node = body.get(name) if name else body
    return node if isinstance(node, dict) else None


def _detect_offset(body: Any) -> BasePaginator | None:
    for name in _OFFSET_CONTAINERS:
        node = _container(body, name)
        if node is None:
            continue
        prefix = f"{name}." if name else ""
        total_key = next((k for k in _TOTAL_KEYS if _as_int(node.get(k)) is not None), None)
        if total_key is not None:
            for offset_key, limit_key in _OFFSET_KEYS:
                offset, limit = _as_int(node.get(offset_key)), _as_int(node.get(limit_key))
                if offset is not None and limit is not None and limit > 0:
                    return OffsetPaginator(
                        limit=limit,
                        offset=offset,
                        offset_param=offset_key,
                        limit_param=limit_key,
                        total_path=prefix + total_key,
                    )
        for page_key, pages_key in _PAGE_KEYS:
            page, pages = _as_int(node.get(page_key)), _as_int(node.get(pages_key))
            # Only page 0 or 1 tells the numbering base; anything else is too ambiguous.
            if page in (0, 1) and pages is not None:
                return PageNumberPaginator(
                    base_page=page, page_param=page_key, total_path=prefix + pages_key
                )
    return None


_FIELD_RULES = _field_rules()
_PAGING_RELS = {"next", "prev", "previous", "first", "last"}
_ABSENT = object()


def detect_paginator(
    response: requests.Response, body: Any, records: list[Any] | None = None
) -> BasePaginator:
    """Choose a paginator from the first page, by the strongest evidence first.

    Order: a Link header (rel=next, or any Link header on a single last page); a next-URL
    field in the body; HubSpot's `paging.next.after`; Stripe's `has_more` list; a cursor
    field; an echoed offset/limit or page number beside a total; else one page.

    The paginator returned has not seen `response` yet: the client calls
    `update_state(response, body, records)` on it next, exactly as for page two onwards,
    and must not call `init_request` (the first request is already sent).
    """
    records = records if records is not None else []
    rels = {rel for link in response.links.values() for rel in str(link.get("rel", "")).split()}
    if rels & _PAGING_RELS:
        # GitHub and Shopify send Link headers; on the last page they lack rel=next but
        # still name prev/first, which marks the endpoint as header-paginated.
        return HeaderLinkPaginator()
    if isinstance(body, dict):
        for rule in _FIELD_RULES:
            value = rule.path.first(body, _ABSENT)
            if value is _ABSENT or not rule.accepts(value):
                continue
            paginator = rule.make(rule.path.expression, body, records)
            if paginator is not None:
                return paginator
        paginator = _detect_offset(body)
        if paginator is not None:
            return paginator
    return SinglePagePaginator()
