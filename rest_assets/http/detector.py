"""Choosing a paginator from the first page of an endpoint (the `auto` paginator).

Heuristics apart from the paginator classes (as dlt keeps `detector.py` apart from
`paginators.py`): each rule looks for the evidence one API family leaves in a first page
and builds the paginator that family needs. `rest-assets inspect` uses the same rules, so
what it suggests is what `auto` would do at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from rest_assets.http.paginators import (
    BasePaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
    StripePaginator,
)
from rest_assets.http.paginators.base import as_int
from rest_assets.http.selectors import JSONPath, compile_path

__all__ = ["detect_paginator"]

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
        total_key = next((k for k in _TOTAL_KEYS if as_int(node.get(k)) is not None), None)
        if total_key is not None:
            for offset_key, limit_key in _OFFSET_KEYS:
                offset, limit = as_int(node.get(offset_key)), as_int(node.get(limit_key))
                if offset is not None and limit is not None and limit > 0:
                    return OffsetPaginator(
                        limit=limit,
                        offset=offset,
                        offset_param=offset_key,
                        limit_param=limit_key,
                        total_path=prefix + total_key,
                    )
        for page_key, pages_key in _PAGE_KEYS:
            page, pages = as_int(node.get(page_key)), as_int(node.get(pages_key))
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
