"""Paginators against a real local HTTP server that mimics documented API shapes."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import PaginationLoopError, RestAssetsError
from rest_assets.http.detector import detect_paginator
from rest_assets.http.paginators import (
    PAGINATORS,
    BasePaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
    StripePaginator,
    create_paginator,
    register_paginator,
    safe_url,
)
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import DataSelector

ITEMS = [{"id": f"it_{n:03d}", "n": n} for n in range(7)]


@pytest.fixture
def pg_api() -> Iterator[LocalAPI]:
    with LocalAPI() as api:
        yield api


def drive(
    api: LocalAPI,
    path: str,
    paginator: BasePaginator | None,
    selector: str | None = None,
    method: str = "GET",
    params: dict[str, Any] | None = None,
    json: Any = None,
    max_pages: int = 50,
) -> tuple[list[Any], BasePaginator]:
    """A minimal client loop over the paginator protocol; returns all records and the paginator."""
    select = DataSelector(selector)
    request = RequestSpec(method, api.url + path, dict(params or {}), json)
    if paginator is not None:
        paginator.init_request(request)
    records: list[Any] = []
    with requests.Session() as session:
        for _ in range(max_pages):
            response = session.request(
                request.method, request.url, params=request.params, json=request.json
            )
            response.raise_for_status()
            body = response.json()
            page = select.select(body)
            records.extend(page)
            if paginator is None:
                paginator = detect_paginator(response, body, page)
            paginator.update_state(response, body, page)
            if not paginator.has_next_page:
                return records, paginator
            paginator.update_request(request)
    raise AssertionError(f"no end after {max_pages} pages")


def arg_int(req: Request, name: str, default: int) -> int:
    value = req.arg(name)
    return int(value) if value is not None else default


def ids(records: list[dict[str, Any]]) -> list[Any]:
    return [r["id"] for r in records]


EXPECTED_IDS = ids(ITEMS)


# --- API emulations ----------------------------------------------------------------------


def github_issues(api: LocalAPI) -> Callable[[Request], Response]:
    """GitHub REST: bare list body, absolute URLs in Link with next/last/prev/first rels."""

    def handler(req: Request) -> Response:
        per_page, page = arg_int(req, "per_page", 30), arg_int(req, "page", 1)
        last = max(1, -(-len(ITEMS) // per_page))
        base = f"{api.url}{req.path}"

        def link(p: int, rel: str) -> str:
            query = urlencode({"state": "all", "per_page": per_page, "page": p})
            return f'<{base}?{query}>; rel="{rel}"'

        rels = []
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            rels += [link(page - 1, "prev"), link(1, "first")]
        headers = {"Link": ", ".join(rels)} if rels else {}
        return Response(ITEMS[(page - 1) * per_page : page * per_page], headers=headers)

    return handler


@pytest.mark.parametrize("spec", [None, "header_link", {"type": "header_link"}])
def test_github_link_header(pg_api: LocalAPI, spec: Any) -> None:
    pg_api.route("GET", "/repos/o/r/issues", github_issues(pg_api))
    records, paginator = drive(
        pg_api,
        "/repos/o/r/issues",
        create_paginator(spec),
        params={"state": "all", "per_page": 3},
    )
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, HeaderLinkPaginator)
    sent = pg_api.requests_to("/repos/o/r/issues")
    assert len(sent) == 3
    # Following the link must not add the original params a second time.
    assert all(r.query["per_page"] == ["3"] and r.query["state"] == ["all"] for r in sent)
    assert [r.arg("page") for r in sent] == [None, "2", "3"]


def test_github_single_page_without_link_header_is_single_page(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/repos/o/r/issues", github_issues(pg_api))
    records, paginator = drive(pg_api, "/repos/o/r/issues", None, params={"per_page": 100})
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, SinglePagePaginator)
    assert len(pg_api.requests) == 1


def test_shopify_page_info_links_drop_original_params(pg_api: LocalAPI) -> None:
    """Shopify: Link rel=next/previous with page_info; other filters may not be re-sent."""

    def handler(req: Request) -> Response:
        limit = arg_int(req, "limit", 50)
        start = arg_int(req, "page_info", 0)  # opaque on Shopify; an index here
        if req.arg("page_info") is not None and req.arg("status") is not None:
            return Response({"errors": "page_info cannot be combined with status"}, 400)
        base = f"{pg_api.url}{req.path}"
        rels = []
        if start + limit < len(ITEMS):
            rels.append(f'<{base}?limit={limit}&page_info={start + limit}>; rel="next"')
        if start:
            rels.append(f'<{base}?limit={limit}&page_info={max(0, start - limit)}>; rel="previous"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        return Response({"products": ITEMS[start : start + limit]}, headers=headers)

    pg_api.route("GET", "/admin/api/2024-01/products.json", handler)
    records, paginator = drive(
        pg_api, "/admin/api/2024-01/products.json", None, params={"limit": 2, "status": "active"}
    )
    assert ids(records) == EXPECTED_IDS
    assert paginator.describe() == "header_link(links_next_key='next')"
    assert len(pg_api.requests) == -(-len(ITEMS) // 2)


def stripe_list(req: Request) -> Response:
    limit = arg_int(req, "limit", 10)
    after = req.arg("starting_after")
    start = 0 if after is None else EXPECTED_IDS.index(after) + 1
    chunk = ITEMS[start : start + limit]
    return Response(
        {
            "object": "list",
            "url": "/v1/customers",
            "has_more": start + limit < len(ITEMS),
            "data": chunk,
        }
    )


def test_stripe_has_more_starting_after_detected(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/v1/customers", stripe_list)
    records, paginator = drive(pg_api, "/v1/customers", None, params={"limit": 3})
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, StripePaginator)
    sent = pg_api.requests_to("/v1/customers")
    # each next page starts after the last id of the page before
    assert [r.arg("starting_after") for r in sent] == [None, EXPECTED_IDS[2], EXPECTED_IDS[5]]
    assert all(r.arg("limit") == "3" for r in sent)


def test_stripe_first_page_is_last(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/v1/customers", stripe_list)
    records, paginator = drive(pg_api, "/v1/customers", None, params={"limit": 100})
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, StripePaginator) and not paginator.has_next_page
    assert len(pg_api.requests) == 1


def hubspot_contacts(req: Request) -> Response:
    limit = arg_int(req, "limit", 10)
    start = arg_int(req, "after", 0)
    body: dict[str, Any] = {"results": ITEMS[start : start + limit]}
    if start + limit < len(ITEMS):
        after = str(start + limit)
        body["paging"] = {
            "next": {"after": after, "link": f"https://api.hubapi.com/x?after={after}"}
        }
    return Response(body)


def test_hubspot_paging_next_after(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/crm/v3/objects/contacts", hubspot_contacts)
    records, paginator = drive(pg_api, "/crm/v3/objects/contacts", None, params={"limit": 3})
    assert ids(records) == EXPECTED_IDS
    assert paginator.describe() == "cursor(cursor_path='paging.next.after', cursor_param='after')"
    sent = pg_api.requests_to("/crm/v3/objects/contacts")
    assert [r.arg("after") for r in sent] == [None, "3", "6"]
    assert all(r.query["limit"] == ["3"] for r in sent)


def graph_users(api: LocalAPI) -> Callable[[Request], Response]:
    """Microsoft Graph: records under `value`, opaque `@odata.nextLink` with $skiptoken."""

    def handler(req: Request) -> Response:
        top = arg_int(req, "$top", 100)
        start = arg_int(req, "$skiptoken", 0)
        body: dict[str, Any] = {
            "@odata.context": f"{api.url}/v1.0/$metadata#users",
            "value": ITEMS[start : start + top],
        }
        if start + top < len(ITEMS):
            query = urlencode({"$top": top, "$skiptoken": start + top})
            body["@odata.nextLink"] = f"{api.url}/v1.0/users?{query}"
        return Response(body)

    return handler


@pytest.mark.parametrize(
    "spec", [None, {"type": "json_link", "next_url_path": "['@odata.nextLink']"}]
)
def test_graph_odata_next_link(pg_api: LocalAPI, spec: Any) -> None:
    pg_api.route("GET", "/v1.0/users", graph_users(pg_api))
    records, paginator = drive(pg_api, "/v1.0/users", create_paginator(spec), params={"$top": 2})
    assert ids(records) == EXPECTED_IDS
    assert paginator.describe() == "json_link(next_url_path=\"['@odata.nextLink']\")"
    sent = pg_api.requests_to("/v1.0/users")
    assert len(sent) == 4 and all(r.query["$top"] == ["2"] for r in sent)


def pokeapi(api: LocalAPI) -> Callable[[Request], Response]:
    """PokeAPI: {count, next, previous, results}; next/previous are absolute URLs or null."""

    def handler(req: Request) -> Response:
        offset, limit = arg_int(req, "offset", 0), arg_int(req, "limit", 20)

        def url(o: int) -> str:
            return f"{api.url}{req.path}?offset={o}&limit={limit}"

        return Response(
            {
                "count": len(ITEMS),
                "next": url(offset + limit) if offset + limit < len(ITEMS) else None,
                "previous": url(max(0, offset - limit)) if offset else None,
                "results": ITEMS[offset : offset + limit],
            }
        )

    return handler


def test_pokeapi_next_urls_detected(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/api/v2/pokemon", pokeapi(pg_api))
    records, paginator = drive(pg_api, "/api/v2/pokemon", None, params={"limit": 3})
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, JSONLinkPaginator)
    sent = pg_api.requests_to("/api/v2/pokemon")
    assert [r.arg("offset") for r in sent] == [None, "3", "6"]
    assert all(r.query["limit"] == ["3"] for r in sent)


def test_pokeapi_as_offset_with_count_total(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/api/v2/pokemon", pokeapi(pg_api))
    paginator = create_paginator({"type": "offset", "limit": 3, "total_path": "count"})
    records, _ = drive(pg_api, "/api/v2/pokemon", paginator)
    assert ids(records) == EXPECTED_IDS
    assert [r.arg("offset") for r in pg_api.requests] == ["0", "3", "6"]


def test_first_page_is_last_with_null_next(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/api/v2/pokemon", pokeapi(pg_api))
    records, paginator = drive(pg_api, "/api/v2/pokemon", None, params={"limit": 50})
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, JSONLinkPaginator) and not paginator.has_next_page
    assert len(pg_api.requests) == 1


# --- offset and page number ----------------------------------------------------------------


def offset_api(total: str = "always", has_more: bool = False) -> Callable[[Request], Response]:
    """offset/limit API; `total` is "always", "first" (page one only), "null" or "never"."""

    def handler(req: Request) -> Response:
        offset, limit = arg_int(req, "offset", 0), arg_int(req, "limit", 10)
        body: dict[str, Any] = {"items": ITEMS[offset : offset + limit]}
        if total == "always" or (total == "first" and offset == 0):
            body["total"] = len(ITEMS)
        elif total == "null":
            body["total"] = None
        if has_more:
            body["meta"] = {"has_more": offset + limit < len(ITEMS)}
        return Response(body)

    return handler


@pytest.mark.parametrize("total", ["always", "first", "null"])
def test_offset_total_missing_or_null_on_later_pages(pg_api: LocalAPI, total: str) -> None:
    pg_api.route("GET", "/items", offset_api(total))
    records, _ = drive(pg_api, "/items", OffsetPaginator(limit=2))
    assert ids(records) == EXPECTED_IDS
    # 7 items / 2 per page: 4 requests whether the total is known (offset 8 >= 7) or the
    # short last page gives the end away; never an extra empty request, never an early stop.
    assert [r.arg("offset") for r in pg_api.requests] == ["0", "2", "4", "6"]
    assert all(r.arg("limit") == "2" for r in pg_api.requests)


def test_offset_full_pages_then_empty_page_stops(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/items", offset_api("never"))
    records, _ = drive(pg_api, "/items", OffsetPaginator(limit=7, total_path=None))
    assert ids(records) == EXPECTED_IDS
    assert [r.arg("offset") for r in pg_api.requests] == ["0", "7"]


def test_offset_maximum_offset(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/items", offset_api("always"))
    records, _ = drive(pg_api, "/items", OffsetPaginator(limit=2, maximum_offset=4))
    assert ids(records) == EXPECTED_IDS[:4]
    assert [r.arg("offset") for r in pg_api.requests] == ["0", "2"]


def test_offset_has_more_path_stops_without_extra_request(pg_api: LocalAPI) -> None:
    # 7 items in pages of 7 and 1: has_more false on the last *full* page must stop.
    pg_api.route("GET", "/items", offset_api("never", has_more=True))
    paginator = OffsetPaginator(limit=7, total_path=None, has_more_path="meta.has_more")
    records, _ = drive(pg_api, "/items", paginator)
    assert ids(records) == EXPECTED_IDS
    assert len(pg_api.requests) == 1


def test_offset_in_post_body(pg_api: LocalAPI) -> None:
    def search(req: Request) -> Response:
        body = req.json()
        offset, limit = body["page"]["from"], body["page"]["size"]
        return Response({"hits": ITEMS[offset : offset + limit], "total": len(ITEMS)})

    pg_api.route("POST", "/search", search)
    original = {"query": {"match": "x"}, "page": {"sort": "id"}}
    sent_json = copy.deepcopy(original)
    paginator = create_paginator(
        {
            "type": "offset",
            "limit": 3,
            "offset_body_path": "page.from",
            "limit_body_path": "page.size",
        }
    )
    records, _ = drive(pg_api, "/search", paginator, method="POST", json=sent_json, selector="hits")
    assert ids(records) == EXPECTED_IDS
    bodies = [r.json() for r in pg_api.requests]
    assert [b["page"]["from"] for b in bodies] == [0, 3, 6]
    assert all(b["query"] == original["query"] and b["page"]["sort"] == "id" for b in bodies)
    assert all(not r.query for r in pg_api.requests)
    assert sent_json == original  # the caller's body is never mutated


def page_api(total: str, base: int = 1, per_page: int = 3) -> Callable[[Request], Response]:
    pages = -(-len(ITEMS) // per_page)

    def handler(req: Request) -> Response:
        page = arg_int(req, "page", base)
        start = (page - base) * per_page
        body: dict[str, Any] = {"data": ITEMS[start : start + per_page]}
        if total == "always" or (total == "first" and page == base):
            body["total_pages"] = pages
        elif total == "null":
            body["total_pages"] = None
        body["has_more"] = start + per_page < len(ITEMS)
        return Response(body)

    return handler


@pytest.mark.parametrize("total", ["always", "first"])
def test_page_number_total_only_on_page_one(pg_api: LocalAPI, total: str) -> None:
    pg_api.route("GET", "/pages", page_api(total))
    paginator = PageNumberPaginator(base_page=1, total_path="total_pages")
    records, _ = drive(pg_api, "/pages", paginator)
    assert ids(records) == EXPECTED_IDS
    assert [r.arg("page") for r in pg_api.requests] == ["1", "2", "3"]


def test_page_number_null_total_stops_after_empty_page(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/pages", page_api("null", base=0))
    paginator = create_paginator({"type": "page_number", "total_path": "total_pages"})
    records, _ = drive(pg_api, "/pages", paginator)
    assert ids(records) == EXPECTED_IDS
    # without a total, only the empty 4th page tells the end
    assert [r.arg("page") for r in pg_api.requests] == ["0", "1", "2", "3"]


def test_page_number_has_more_path(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/pages", page_api("never"))
    paginator = PageNumberPaginator(base_page=1, total_path=None, has_more_path="has_more")
    records, _ = drive(pg_api, "/pages", paginator)
    assert ids(records) == EXPECTED_IDS
    assert len(pg_api.requests) == 3


def test_page_number_maximum_page_and_start_page(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/pages", page_api("always", per_page=1))
    paginator = PageNumberPaginator(base_page=1, page=2, maximum_page=5, page_param="page")
    records, _ = drive(pg_api, "/pages", paginator)
    # starts at page 2; stops once page 5 is reached (page 5 itself is not requested)
    assert ids(records) == EXPECTED_IDS[1:4]
    assert [r.arg("page") for r in pg_api.requests] == ["2", "3", "4"]


def test_stop_after_empty_page_false_runs_to_maximum(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/pages", page_api("never", base=0, per_page=7))
    paginator = PageNumberPaginator(total_path=None, maximum_page=3, stop_after_empty_page=False)
    records, _ = drive(pg_api, "/pages", paginator)
    assert ids(records) == EXPECTED_IDS
    assert [r.arg("page") for r in pg_api.requests] == ["0", "1", "2"]


def test_range_paginator_without_any_stop_condition_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing would ever stop"):
        PageNumberPaginator(total_path=None, stop_after_empty_page=False)
    with pytest.raises(ValueError, match="limit"):
        OffsetPaginator(limit=0)
    with pytest.raises(ValueError, match="not both"):
        OffsetPaginator(limit=1, offset_param="o", offset_body_path="a.o")


# --- cursors ------------------------------------------------------------------------------


def test_cursor_in_post_body(pg_api: LocalAPI) -> None:
    def search(req: Request) -> Response:
        cursor = req.json().get("paging", {}).get("cursor")
        start = int(cursor.removeprefix("tok")) if cursor else 0
        token = f"tok{start + 3}" if start + 3 < len(ITEMS) else None
        return Response({"hits": ITEMS[start : start + 3], "next": {"token": token}})

    pg_api.route("POST", "/v2/search", search)
    paginator = create_paginator(
        {"type": "cursor", "cursor_path": "next.token", "cursor_body_path": "paging.cursor"}
    )
    original = {"query": "x", "paging": {"size": 3}}
    sent_json = copy.deepcopy(original)
    records, _ = drive(pg_api, "/v2/search", paginator, method="POST", json=sent_json)
    assert ids(records) == EXPECTED_IDS
    sent = pg_api.requests_to("/v2/search", "POST")
    assert [r.json()["paging"].get("cursor") for r in sent] == [None, "tok3", "tok6"]
    assert all(r.json()["query"] == "x" and r.json()["paging"]["size"] == 3 for r in sent)
    assert all(not r.query for r in sent)
    assert sent_json == original  # the caller's body is never mutated


def test_cursor_param_defaults_and_conflict() -> None:
    assert JSONResponseCursorPaginator().cursor_param == "cursor"
    assert JSONResponseCursorPaginator(cursor_body_path="a.b").cursor_param is None
    with pytest.raises(ValueError, match="not both"):
        JSONResponseCursorPaginator(cursor_param="c", cursor_body_path="a.b")


def test_header_cursor(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        start = int(req.arg("page_cursor") or 0)
        headers = {"X-Next-Cursor": str(start + 3)} if start + 3 < len(ITEMS) else {}
        return Response(ITEMS[start : start + 3], headers=headers)

    pg_api.route("GET", "/events", handler)
    paginator = create_paginator(
        {"type": "header_cursor", "cursor_key": "X-Next-Cursor", "cursor_param": "page_cursor"}
    )
    records, _ = drive(pg_api, "/events", paginator, params={"kind": "all"})
    assert ids(records) == EXPECTED_IDS
    assert [r.arg("page_cursor") for r in pg_api.requests] == [None, "3", "6"]
    assert all(r.arg("kind") == "all" for r in pg_api.requests)


@pytest.mark.parametrize(
    ("field", "param"),
    [
        ("next_cursor", "cursor"),
        ("next_page_token", "page_token"),
        ("nextPageToken", "pageToken"),
        ("cursor", "cursor"),
    ],
)
def test_cursor_fields_detected(pg_api: LocalAPI, field: str, param: str) -> None:
    def handler(req: Request) -> Response:
        start = int(req.arg(param) or 0)
        nxt = str(start + 3) if start + 3 < len(ITEMS) else None
        return Response({"items": ITEMS[start : start + 3], field: nxt})

    pg_api.route("GET", "/list", handler)
    records, paginator = drive(pg_api, "/list", None)
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, JSONResponseCursorPaginator)
    assert paginator.cursor_param == param
    assert [r.arg(param) for r in pg_api.requests] == [None, "3", "6"]


def test_offset_echoed_in_body_detected(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        offset, limit = arg_int(req, "offset", 0), arg_int(req, "limit", 3)
        meta = {"total": len(ITEMS), "offset": offset, "limit": limit}
        return Response({"data": ITEMS[offset : offset + limit], "meta": meta})

    pg_api.route("GET", "/things", handler)
    records, paginator = drive(pg_api, "/things", None)
    assert ids(records) == EXPECTED_IDS
    assert (
        paginator.describe()
        == "offset(limit=3, offset_param='offset', limit_param='limit', "
        + ("total_path='meta.total')")
    )
    assert [r.arg("offset") for r in pg_api.requests] == [None, "3", "6"]


def test_page_number_echoed_in_body_detected(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        page = arg_int(req, "page", 1)
        body = {"data": ITEMS[(page - 1) * 3 : page * 3], "page": page, "total_pages": 3}
        return Response(body)

    pg_api.route("GET", "/pages", handler)
    records, paginator = drive(pg_api, "/pages", None)
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, PageNumberPaginator)
    assert [r.arg("page") for r in pg_api.requests] == [None, "2", "3"]


# --- links: relative URLs and loops -------------------------------------------------------


@pytest.mark.parametrize("spec", [None, {"type": "json_link", "next_url_path": "links.next"}])
@pytest.mark.parametrize("style", ["absolute_path", "query_only", "relative"])
def test_relative_next_links_resolve_against_current_url(
    pg_api: LocalAPI, style: str, spec: Any
) -> None:
    def handler(req: Request) -> Response:
        page = arg_int(req, "p", 0)
        nxt: str | None = None
        if (page + 1) * 3 < len(ITEMS):
            nxt = {
                "absolute_path": f"/api/list?p={page + 1}",
                "query_only": f"?p={page + 1}",
                "relative": f"list?p={page + 1}",
            }[style]
        return Response({"data": ITEMS[page * 3 : page * 3 + 3], "links": {"next": nxt}})

    pg_api.route("GET", "/api/list", handler)
    paginator = create_paginator(spec)
    records, paginator = drive(pg_api, "/api/list", paginator, params={"p": 0})
    assert ids(records) == EXPECTED_IDS
    assert paginator.describe() == "json_link(next_url_path='links.next')"
    assert [(r.path, r.query.get("p")) for r in pg_api.requests] == [
        ("/api/list", ["0"]),
        ("/api/list", ["1"]),
        ("/api/list", ["2"]),
    ]


def test_next_link_without_query_keeps_original_params(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        page = int(req.path.rsplit("/", 1)[-1])
        nxt = f"{pg_api.url}/feed/{page + 1}" if (page + 1) * 3 < len(ITEMS) else None
        return Response({"data": ITEMS[page * 3 : page * 3 + 3], "next": nxt})

    pg_api.route("GET", "/feed/", handler, prefix=True)
    records, _ = drive(pg_api, "/feed/0", JSONLinkPaginator(), params={"lang": "en"})
    assert ids(records) == EXPECTED_IDS
    assert [(r.path, r.arg("lang")) for r in pg_api.requests] == [
        ("/feed/0", "en"),
        ("/feed/1", "en"),
        ("/feed/2", "en"),
    ]


def test_looping_next_link_raises_without_leaking_query(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        page = arg_int(req, "page", 1)
        back = 1 if page == 2 else page + 1  # page 2 points back at page 1
        return Response({"data": ITEMS[:1], "next": f"{pg_api.url}/loop?key=s3cr3t&page={back}"})

    pg_api.route("GET", "/loop", handler)
    with pytest.raises(PaginationLoopError) as caught:
        drive(pg_api, "/loop", JSONLinkPaginator(), params={"page": 1, "key": "s3cr3t"})
    message = str(caught.value)
    assert "json_link(next_url_path='next')" in message
    assert f"{pg_api.url}/loop" in message
    assert "s3cr3t" not in message and "page=" not in message
    assert isinstance(caught.value, RestAssetsError)
    # page 1 then page 2, whose next link names page 1 (query in another order) again
    assert [r.arg("page") for r in pg_api.requests] == ["1", "2"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:pw@api.example.com:8443/v1/x?token=abc#f", "https://api.example.com:8443/v1/x"),
        ("http://[::1]:8080/a?b=c", "http://[::1]:8080/a"),
        ("https://api.example.com/plain", "https://api.example.com/plain"),
    ],
)
def test_safe_url_hides_credentials_and_query(url: str, shown: str) -> None:
    text = safe_url(url)
    assert text.startswith(shown)
    assert "pw" not in text and "abc" not in text and "token" not in text
    assert len(safe_url("https://h/" + "p" * 500)) <= 120


def test_self_link_loop_detected_on_first_page(pg_api: LocalAPI) -> None:
    pg_api.route(
        "GET",
        "/self",
        lambda req: Response(ITEMS[:2], headers={"Link": f'<{pg_api.url}/self?a=1>; rel="next"'}),
    )
    with pytest.raises(PaginationLoopError, match="header_link"):
        drive(pg_api, "/self", None, params={"a": 1})
    assert len(pg_api.requests) == 1


def test_repeated_cursor_raises_with_truncated_value(pg_api: LocalAPI) -> None:
    token = "x" * 500
    pg_api.route("GET", "/c", lambda req: Response({"data": ITEMS[:1], "cursors": {"next": token}}))
    with pytest.raises(PaginationLoopError) as caught:
        drive(pg_api, "/c", create_paginator("cursor"))
    message = str(caught.value)
    assert "cursor(cursor_path='cursors.next', cursor_param='cursor')" in message
    assert "xxx" in message and token not in message and len(message) < 400
    assert len(pg_api.requests) == 2


def test_stripe_repeated_last_id_raises(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/v1/charges", lambda req: Response({"data": ITEMS[:2], "has_more": True}))
    with pytest.raises(PaginationLoopError, match="stripe"):
        drive(pg_api, "/v1/charges", None)


# --- registry -----------------------------------------------------------------------------


def test_create_paginator_from_specs() -> None:
    assert create_paginator(None) is None
    assert create_paginator("auto") is None
    assert create_paginator({"type": "auto"}) is None
    assert isinstance(create_paginator("single_page"), SinglePagePaginator)
    offset = create_paginator(
        {
            "type": "offset",
            "limit": 50,
            "offset": 10,
            "offset_param": "skip",
            "limit_param": "take",
            "total_path": None,
            "maximum_offset": 500,
            "stop_after_empty_page": False,
        }
    )
    assert offset.describe() == (
        "offset(limit=50, offset=10, offset_param='skip', limit_param='take', maximum_offset=500)"
    )
    page = create_paginator(
        {"type": "page_number", "base_page": 1, "page_param": "p", "total_path": "meta.pages"}
    )
    assert page.describe() == ("page_number(base_page=1, page_param='p', total_path='meta.pages')")
    assert create_paginator({"type": "header_link", "links_next_key": "nxt"}).describe() == (
        "header_link(links_next_key='nxt')"
    )


def test_create_paginator_copies_instances() -> None:
    template = OffsetPaginator(limit=5)
    first, second = create_paginator(template), create_paginator(template)
    assert first is not template and first is not second
    request = RequestSpec("GET", "http://127.0.0.1/x")
    first.init_request(request)
    first.update_state(requests.Response(), {"total": 100}, [1] * 5)
    assert first.current == 5 and template.current == 0 and second.current == 0


def test_create_paginator_errors_name_what_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"known types: .*json_link.*offset"):
        create_paginator({"type": "nope"})
    with pytest.raises(ValueError, match="accepted parameters: next_url_path"):
        create_paginator({"type": "json_link", "next_url": "x"})
    with pytest.raises(ValueError, match="limit"):
        create_paginator("offset")
    with pytest.raises(ValueError, match="type"):
        create_paginator({"next_url_path": "x"})


def test_register_paginator(pg_api: LocalAPI) -> None:
    class EveryOther(PageNumberPaginator):
        def __init__(self, step_param: str = "page") -> None:
            super().__init__(page_param=step_param, total_path=None)
            self.step = 2

    register_paginator("pg_every_other", EveryOther)
    try:
        pg_api.route("GET", "/pages", page_api("never", base=0, per_page=1))
        paginator = create_paginator({"type": "pg_every_other", "step_param": "page"})
        records, _ = drive(pg_api, "/pages", paginator)
        assert ids(records) == EXPECTED_IDS[::2]
        with pytest.raises(TypeError):
            register_paginator("bad", dict)  # type: ignore[arg-type]
    finally:
        PAGINATORS.pop("pg_every_other", None)


def test_detect_without_json_body_is_single_page(pg_api: LocalAPI) -> None:
    pg_api.route("GET", "/csv", lambda req: Response(b"a,b\n1,2\n"))
    response = requests.get(pg_api.url + "/csv", timeout=10)
    assert isinstance(detect_paginator(response, None, []), SinglePagePaginator)


def test_unrelated_link_header_does_not_hide_json_link(pg_api: LocalAPI) -> None:
    def handler(req: Request) -> Response:
        page = arg_int(req, "page", 0)
        nxt = f"/docs?page={page + 1}" if page < 2 else None
        headers = {"Link": '<https://example.com/schema>; rel="describedby"'}
        return Response({"next": nxt, "results": ITEMS[page * 3 : page * 3 + 3]}, headers=headers)

    pg_api.route("GET", "/docs", handler)
    records, paginator = drive(pg_api, "/docs", None)
    assert ids(records) == EXPECTED_IDS
    assert isinstance(paginator, JSONLinkPaginator)


@pytest.mark.parametrize("name", sorted(set(PAGINATORS) - {"offset"}))
def test_every_registered_paginator_copies_and_pickles(name: str) -> None:
    paginator = create_paginator(name)
    assert paginator is not None
    for clone in (copy.deepcopy(paginator), pickle.loads(pickle.dumps(paginator))):
        assert type(clone) is type(paginator)
        assert clone.describe() == paginator.describe()


# --- to_config: the config each paginator came from ---------------------------------------

ROUND_TRIP = [
    SinglePagePaginator(),
    JSONLinkPaginator(),
    JSONLinkPaginator("['@odata.nextLink']"),
    HeaderLinkPaginator(),
    HeaderLinkPaginator("nxt"),
    JSONResponseCursorPaginator(),
    JSONResponseCursorPaginator("meta.next", cursor_param="after"),
    JSONResponseCursorPaginator("next", cursor_body_path="query.cursor"),
    HeaderCursorPaginator(),
    HeaderCursorPaginator("X-Next", "from"),
    StripePaginator(),
    StripePaginator("after", "uid", "more"),
    OffsetPaginator(limit=10),
    OffsetPaginator(
        limit=50,
        offset=10,
        offset_param="skip",
        limit_param="take",
        total_path=None,
        maximum_offset=500,
        stop_after_empty_page=False,
    ),
    OffsetPaginator(
        limit=5, offset_body_path="page.offset", limit_body_path="page.size", has_more_path="more"
    ),
    PageNumberPaginator(),
    PageNumberPaginator(
        base_page=1, page=3, page_param="p", total_path="meta.pages", maximum_page=9
    ),
    PageNumberPaginator(page_body_path="paging.page", total_path=None, has_more_path="more"),
]


def _settings(paginator: BasePaginator) -> dict[str, Any]:
    """Everything a paginator was configured with (compiled paths by their expression)."""
    return {
        name: getattr(value, "expression", value)
        for name, value in vars(paginator).items()
        if not name.startswith("_")
    }


def test_round_trip_covers_every_registered_paginator_class() -> None:
    assert {type(p) for p in ROUND_TRIP} == set(PAGINATORS.values())


@pytest.mark.parametrize("paginator", ROUND_TRIP, ids=repr)
def test_to_config_builds_an_equal_paginator(paginator: BasePaginator) -> None:
    config = paginator.to_config()
    rebuilt = create_paginator(config)
    assert type(rebuilt) is type(paginator)
    assert _settings(rebuilt) == _settings(paginator)
    assert rebuilt.to_config() == config
    assert rebuilt.describe() == paginator.describe()


def test_to_config_leaves_defaults_out() -> None:
    assert JSONLinkPaginator().to_config() == {"type": "json_link"}
    assert OffsetPaginator(limit=10).to_config() == {"type": "offset", "limit": 10}
    assert PageNumberPaginator(base_page=1, page=1).to_config() == {
        "type": "page_number",
        "base_page": 1,
    }
    assert OffsetPaginator(limit=5, total_path=None, maximum_offset=20).to_config() == {
        "type": "offset",
        "limit": 5,
        "total_path": None,
        "maximum_offset": 20,
    }


class _OwnPaginator(BasePaginator):
    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        self.has_next_page = False

    def update_request(self, request: RequestSpec) -> None:
        return None


def test_base_paginator_declares_the_optional_methods() -> None:
    own = _OwnPaginator()
    request = RequestSpec("GET", "http://127.0.0.1/x")
    assert own.planned_requests(request, None) == []  # default: pages follow one by one
    assert own.ends_here({}, []) is False
    with pytest.raises(NotImplementedError, match="_OwnPaginator"):
        own.to_config()


def test_range_paginators_plan_the_remaining_pages_from_the_total() -> None:
    offset = OffsetPaginator(limit=10)
    request = RequestSpec("GET", "http://127.0.0.1/x")
    offset.init_request(request)
    assert offset.planned_requests(request) == []  # no total seen yet
    offset.update_state(requests.Response(), {"total": 35}, [{}] * 10)
    planned = offset.planned_requests(request)
    assert [spec.params["offset"] for spec in planned] == [10, 20, 30]
    assert [spec.params["offset"] for spec in offset.planned_requests(request, 2)] == [10, 20]
    assert offset.current == 10  # planning left the paginator's state alone
    assert offset.ends_here({}, []) and not offset.ends_here({}, [{}])
