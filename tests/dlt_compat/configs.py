"""dlt RESTAPIConfig dicts written from dlt 1.31's documentation, one resource per feature.

This module is plain Python: it is imported by the tests (rest-assets' venv) and by
`dlt_runner.py` (a venv with dlt 1.31), so it imports neither rest_assets nor (at module
level) dlt. Each case names the dlt parameter or feature it exercises, how the loopback
API (`api.py`) behaves for it, and the requests and rows dlt's documented semantics give;
`ours` holds rest-assets' requests where they differ on purpose (see docs/migration.md).

A case's resource requests paths under `/c/<case>/`, so one server tells the cases apart.
"""

from __future__ import annotations

import json
from typing import Any

ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 8)]
ALL_IDS = [item["id"] for item in ITEMS]


def case(
    param: str,
    paginator: Any,
    server: dict[str, Any],
    requests: list[str],
    ids: list[int] | None = None,
    ours: list[str] | None = None,
    **endpoint: Any,
) -> dict[str, Any]:
    """One case: `requests` as `METHOD ?sorted-query {body}` (see `api.summary`)."""
    return {
        "param": param,
        "endpoint": {"paginator": paginator, **endpoint},
        "server": server,
        "requests": requests,
        "ours": ours if ours is not None else requests,
        "ids": ALL_IDS if ids is None else ids,
    }


def _pages(*numbers: int, name: str = "page") -> list[str]:
    return [f"GET ?{name}={n}" for n in numbers]


def _offsets(
    *offsets: int, limit: int = 3, names: tuple[str, str] = ("offset", "limit")
) -> list[str]:
    o, li = names
    return [f"GET ?{'&'.join(sorted([f'{o}={n}', f'{li}={limit}']))}" for n in offsets]


# --- §1 of the fact sheet: every paginator parameter of dlt 1.31 --------------------------

PAGES = {"kind": "pages"}
OFFSETS = {"kind": "offset"}
CURSORS = {"kind": "cursor"}

PAGINATOR_CASES: dict[str, dict[str, Any]] = {
    # PageNumberPaginator(base_page=0, page=None, page_param=None, total_path="total",
    #                     maximum_page=None, stop_after_empty_page=True, *, has_more_path=None,
    #                     page_body_path=None)
    "pn_defaults": case("page_number (defaults)", {"type": "page_number"}, PAGES, _pages(0, 1, 2)),
    "pn_string": case('"page_number" shorthand', "page_number", PAGES, _pages(0, 1, 2)),
    "pn_base_page": case(
        "page_number.base_page",
        {"type": "page_number", "base_page": 1},
        {**PAGES, "base": 1},
        _pages(1, 2, 3),
    ),
    "pn_page": case(
        "page_number.page",
        {"type": "page_number", "base_page": 1, "page": 2},
        {**PAGES, "base": 1},
        _pages(2, 3),
        ids=[4, 5, 6, 7],
    ),
    "pn_page_param": case(
        "page_number.page_param",
        {"type": "page_number", "page_param": "p"},
        {**PAGES, "page_from": "query:p"},
        _pages(0, 1, 2, name="p"),
    ),
    "pn_page_body_path": case(
        "page_number.page_body_path",
        {"type": "page_number", "page_body_path": "paging.page"},
        {**PAGES, "page_from": "body:paging.page"},
        [f'POST ? {{"paging": {{"page": {n}}}, "q": "x"}}' for n in (0, 1, 2)],
        method="POST",
        json={"q": "x"},
    ),
    "pn_total_path": case(
        "page_number.total_path",
        {"type": "page_number", "total_path": "meta.pages"},
        {**PAGES, "total_at": "meta.pages"},
        _pages(0, 1, 2),
    ),
    "pn_total_path_null": case(
        "page_number.total_path: null (stop at the empty page)",
        {"type": "page_number", "total_path": None},
        {**PAGES, "total_at": None},
        _pages(0, 1, 2, 3),
    ),
    "pn_maximum_page": case(
        "page_number.maximum_page (exclusive)",
        {"type": "page_number", "base_page": 1, "maximum_page": 3, "total_path": None},
        {**PAGES, "base": 1, "total_at": None},
        _pages(1, 2),
        ids=[1, 2, 3, 4, 5, 6],
    ),
    "pn_stop_after_empty_page": case(
        "page_number.stop_after_empty_page: false",
        {
            "type": "page_number",
            "total_path": None,
            "maximum_page": 3,
            "stop_after_empty_page": False,
        },
        {**PAGES, "total_at": None, "only_first_page": True},
        _pages(0, 1, 2),
        ids=[1, 2, 3],
    ),
    "pn_has_more_path": case(
        "page_number.has_more_path (bool)",
        {"type": "page_number", "total_path": None, "has_more_path": "has_more"},
        {**PAGES, "total_at": None},
        _pages(0, 1, 2),
    ),
    "pn_has_more_path_text": case(
        "page_number.has_more_path (text true/false)",
        {"type": "page_number", "total_path": None, "has_more_path": "meta.more"},
        {**PAGES, "total_at": None},
        _pages(0, 1, 2),
    ),
    # OffsetPaginator(limit, offset=0, offset_param=None, limit_param=None, total_path="total",
    #                 maximum_offset=None, stop_after_empty_page=True, *, has_more_path=None,
    #                 offset_body_path=None, limit_body_path=None)
    "off_limit": case("offset.limit", {"type": "offset", "limit": 3}, OFFSETS, _offsets(0, 3, 6)),
    "off_offset": case(
        "offset.offset",
        {"type": "offset", "limit": 3, "offset": 2},
        OFFSETS,
        _offsets(2, 5),
        ids=[3, 4, 5, 6, 7],
    ),
    "off_params": case(
        "offset.offset_param / limit_param",
        {"type": "offset", "limit": 3, "offset_param": "skip", "limit_param": "take"},
        {**OFFSETS, "offset_from": "query:skip", "limit_from": "query:take"},
        _offsets(0, 3, 6, names=("skip", "take")),
    ),
    "off_body_paths": case(
        "offset.offset_body_path / limit_body_path",
        {
            "type": "offset",
            "limit": 3,
            "offset_body_path": "page.offset",
            "limit_body_path": "page.limit",
        },
        {**OFFSETS, "offset_from": "body:page.offset", "limit_from": "body:page.limit"},
        [f'POST ? {{"page": {{"limit": 3, "offset": {n}}}, "q": "x"}}' for n in (0, 3, 6)],
        method="POST",
        json={"q": "x"},
    ),
    "off_total_path": case(
        "offset.total_path",
        {"type": "offset", "limit": 3, "total_path": "meta.count"},
        {**OFFSETS, "total_at": "meta.count"},
        _offsets(0, 3, 6),
    ),
    "off_total_path_null": case(
        "offset.total_path: null",
        {"type": "offset", "limit": 3, "total_path": None},
        {**OFFSETS, "total_at": None},
        _offsets(0, 3, 6, 9),
        # a short page after full ones is the last: no extra empty request
        ours=_offsets(0, 3, 6),
    ),
    "off_maximum_offset": case(
        "offset.maximum_offset (exclusive)",
        {"type": "offset", "limit": 3, "maximum_offset": 5},
        OFFSETS,
        _offsets(0, 3),
        ids=[1, 2, 3, 4, 5, 6],
    ),
    "off_stop_after_empty_page": case(
        "offset.stop_after_empty_page: false",
        {
            "type": "offset",
            "limit": 3,
            "total_path": None,
            "maximum_offset": 9,
            "stop_after_empty_page": False,
        },
        {**OFFSETS, "total_at": None},
        _offsets(0, 3, 6),
    ),
    "off_has_more_path": case(
        "offset.has_more_path",
        {"type": "offset", "limit": 3, "total_path": None, "has_more_path": "has_more"},
        {**OFFSETS, "total_at": None},
        _offsets(0, 3, 6),
    ),
    # JSONResponseCursorPaginator(cursor_path="cursors.next", cursor_param=None,
    #     cursor_body_path=None, *, stop_after_empty_page=False, has_more_path=None)
    "cur_defaults": case(
        "cursor (defaults: cursors.next -> cursor)",
        {"type": "cursor"},
        CURSORS,
        ["GET ?", "GET ?cursor=c3", "GET ?cursor=c6"],
    ),
    "cur_path_param": case(
        "cursor.cursor_path / cursor_param",
        {"type": "cursor", "cursor_path": "paging.after", "cursor_param": "after"},
        {**CURSORS, "next_at": "paging.after", "cursor_from": "query:after"},
        ["GET ?", "GET ?after=c3", "GET ?after=c6"],
    ),
    "cur_body_path": case(
        "cursor.cursor_body_path",
        {"type": "cursor", "cursor_path": "next", "cursor_body_path": "after"},
        {**CURSORS, "next_at": "next", "cursor_from": "body:after"},
        ['POST ? {"q": 1}', 'POST ? {"after": "c3", "q": 1}', 'POST ? {"after": "c6", "q": 1}'],
        method="POST",
        json={"q": 1},
    ),
    "cur_stop_after_empty_page": case(
        "cursor.stop_after_empty_page (an export API whose cursor stays set)",
        {"type": "cursor", "stop_after_empty_page": True},
        {**CURSORS, "cursor_stays": True},
        ["GET ?", "GET ?cursor=c3", "GET ?cursor=c6", "GET ?cursor=c9"],
    ),
    "cur_has_more_path": case(
        "cursor.has_more_path (GraphQL pageInfo)",
        {
            "type": "cursor",
            "cursor_path": "pageInfo.endCursor",
            "cursor_param": "after",
            "has_more_path": "pageInfo.hasNextPage",
        },
        {**CURSORS, "graphql": True, "cursor_from": "query:after"},
        ["GET ?", "GET ?after=c3", "GET ?after=c6"],
    ),
    # HeaderLinkPaginator(links_next_key="next"), JSONLinkPaginator(next_url_path="next")
    "hl_defaults": case(
        '"header_link" shorthand',
        "header_link",
        {"kind": "header_link"},
        ["GET ?", "GET ?p=1", "GET ?p=2"],
        data_selector=None,
    ),
    "hl_links_next_key": case(
        "header_link.links_next_key",
        {"type": "header_link", "links_next_key": "next_page"},
        {"kind": "header_link", "rel": "next_page"},
        ["GET ?", "GET ?p=1", "GET ?p=2"],
        data_selector=None,
    ),
    "jl_next_url_path": case(
        "json_link.next_url_path (params travel in the next URL)",
        {"type": "json_link", "next_url_path": "paging.next"},
        {"kind": "json_link", "next_at": "paging.next"},
        ["GET ?per_page=3", "GET ?p=1&per_page=3", "GET ?p=2&per_page=3"],
        params={"per_page": 3},
    ),
    "jl_string": case(
        '"json_link" shorthand (next)',
        "json_link",
        {"kind": "json_link", "next_at": "next"},
        ["GET ?", "GET ?p=1", "GET ?p=2"],
    ),
    "jl_json_response": case(
        "json_response (deprecated alias of json_link)",
        {"type": "json_response", "next_url_path": "next"},
        {"kind": "json_link", "next_at": "next"},
        ["GET ?", "GET ?p=1", "GET ?p=2"],
    ),
    # HeaderCursorPaginator(cursor_key="next", cursor_param="cursor")
    "hc_defaults": case(
        '"header_cursor" shorthand (header next -> cursor)',
        "header_cursor",
        {"kind": "header_cursor"},
        ["GET ?", "GET ?cursor=c3", "GET ?cursor=c6"],
    ),
    "hc_key_param": case(
        "header_cursor.cursor_key / cursor_param",
        {"type": "header_cursor", "cursor_key": "X-Next-Cursor", "cursor_param": "from"},
        {"kind": "header_cursor", "header": "X-Next-Cursor", "cursor_from": "query:from"},
        ["GET ?", "GET ?from=c3", "GET ?from=c6"],
    ),
    # SinglePagePaginator, and auto-detection
    "single_page": case('"single_page" shorthand', "single_page", PAGES, ["GET ?"], ids=[1, 2, 3]),
    "auto": case(
        "auto (a `next` URL in the body: json_link detected)",
        None,
        {"kind": "json_link", "next_at": "next"},
        ["GET ?", "GET ?p=1", "GET ?p=2"],
        data_selector=None,
    ),
}


def _resource(name: str, spec: dict[str, Any], shape: str = "list") -> dict[str, Any]:
    endpoint = {"path": f"c/{name}/{shape}", "data_selector": "data", **spec["endpoint"]}
    for key in [k for k, v in endpoint.items() if v is None]:
        del endpoint[key]  # None means "leave it to the default / auto-detection"
    return {"name": name, "endpoint": endpoint}


def paginators_config(base_url: str) -> dict[str, Any]:
    """One source, one resource per paginator case (RESTAPIConfig as dlt takes it)."""
    return {
        "client": {"base_url": base_url},
        "resources": [_resource(name, spec) for name, spec in PAGINATOR_CASES.items()],
    }


# --- §3 path placeholders from plain params, §5 `path: ""` ---------------------------------


def placeholders_config(base_url: str) -> dict[str, Any]:
    """Plain params filling path placeholders, also from resource_defaults and mixed with
    a parent reference; their params leave the query string."""
    return {
        "client": {"base_url": base_url},
        "resource_defaults": {"endpoint": {"params": {"org": "dlt-hub", "per_page": 5}}},
        "resources": [
            {
                "name": "issues",
                "endpoint": {
                    "path": "c/ph/repos/{org}/{repo}/issues",
                    "params": {"repo": "dlt", "state": "all"},
                    "data_selector": "data",
                    "paginator": "single_page",
                },
            },
            {
                "name": "comments",
                "endpoint": {
                    "path": "c/ph/repos/{org}/{repo}/issues/{resources.issues.number}/comments",
                    "params": {"repo": "dlt", "n": 10, "extra": "{resources.issues.id}"},
                    "data_selector": "data",
                    "paginator": "single_page",
                },
            },
            {
                "name": "numbered",
                "endpoint": {
                    "path": "c/ph/n/{num}/items",
                    "params": {"num": 10},
                    "data_selector": "data",
                    "paginator": "single_page",
                },
            },
        ],
    }


def path_empty_config(base_url: str) -> dict[str, Any]:
    """`path: ""` requests the base URL itself."""
    return {
        "client": {"base_url": f"{base_url}/c/root/list"},
        "resources": [
            {
                "name": "root",
                "endpoint": {"path": "", "data_selector": "data", "paginator": "single_page"},
            }
        ],
    }


# --- §4 response actions ------------------------------------------------------------------


def add_seen(response: Any) -> None:
    """Changes the response in place (works in dlt, which drops return values)."""
    body = json.loads(response.content)
    for row in body.get("data", []):
        row["seen"] = row.get("seen", "") + "a"
    response._content = json.dumps(body).encode()


def add_b(response: Any) -> None:
    body = json.loads(response.content)
    for row in body.get("data", []):
        row["seen"] = row.get("seen", "") + "b"
    response._content = json.dumps(body).encode()


def add_c(response: Any) -> None:
    body = json.loads(response.content)
    for row in body.get("data", []):
        row["seen"] = row.get("seen", "") + "c"
    response._content = json.dumps(body).encode()


def actions_config(base_url: str) -> dict[str, Any]:
    """Every shape of response action dlt 1.31 takes."""

    def resource(name: str, actions: list[Any], shape: str = "list", **endpoint: Any) -> Any:
        return {
            "name": name,
            "endpoint": {
                "path": f"c/{name}/{shape}",
                "data_selector": "data",
                "paginator": {"type": "page_number", "total_path": None},
                "response_actions": actions,
                **endpoint,
            },
        }

    return {
        "client": {"base_url": base_url},
        "resources": [
            # a bare callable: every response
            resource("ra_bare", [add_seen]),
            # {action: fn} without status_code/content: every response
            resource("ra_action_only", [{"action": add_seen}]),
            # all matching entries run, in order; a list of callables runs in order
            resource("ra_order", [add_seen, {"status_code": 200, "action": [add_b, add_c]}]),
            # status_code: 404 -> ignore (no rows, no error)
            resource("ra_ignore_404", [{"status_code": 404, "action": "ignore"}], shape="gone"),
            # content substring -> ignore ends the pagination: page 1 only
            resource(
                "ra_ignore_content",
                [{"content": "NOT_READY", "action": "ignore"}],
                shape="not_ready_after_first",
            ),
            # status and content together; a non-matching status leaves the response alone
            resource(
                "ra_status_and_content",
                [
                    {"status_code": 200, "content": "item 2", "action": add_seen},
                    {"status_code": 201, "action": add_b},
                ],
            ),
        ],
    }


# --- §2 incremental -----------------------------------------------------------------------


def stamp(n: int) -> str:
    return f"2024-01-{n:02d}T00:00:00Z"


def incremental_config(base_url: str) -> dict[str, Any]:
    """dlt's incremental options, one resource each; every resource appends."""

    def resource(name: str, incremental: Any = None, params: Any = None, **rest: Any) -> Any:
        endpoint: dict[str, Any] = {
            "path": f"c/{name}/events",
            "data_selector": "data",
            "paginator": "single_page",
            "params": {"since": "{incremental.start_value}"} if params is None else params,
        }
        if incremental is not None:
            endpoint["incremental"] = incremental
        return {
            "name": name,
            "primary_key": "id",
            "write_disposition": "append",
            "endpoint": endpoint,
            **rest,
        }

    inc = {"cursor_path": "updated_at", "initial_value": stamp(2)}
    return {
        "client": {"base_url": base_url},
        "resources": [
            resource("inc_placeholder", inc),
            resource(
                "inc_start_end_param",
                {**inc, "start_param": "from", "end_param": "to", "end_value": stamp(9)},
                params={},
            ),
            resource(
                "inc_legacy_param",
                params={
                    "since": {
                        "type": "incremental",
                        "cursor_path": "updated_at",
                        "initial_value": stamp(2),
                    }
                },
            ),
            resource("inc_range_start_open", {**inc, "range_start": "open"}),
            resource(
                "inc_range_end_closed",
                {**inc, "end_value": stamp(4), "range_end": "closed"},
            ),
            resource("inc_range_end_open", {**inc, "end_value": stamp(4)}),
            resource("inc_lag", {**inc, "lag": 86400}),
            resource(
                "inc_missing_include",
                {**inc, "on_cursor_value_missing": "include"},
                params={},
            ),
            resource(
                "inc_missing_exclude",
                {**inc, "on_cursor_value_missing": "exclude"},
                params={},
            ),
            resource(
                "inc_convert",
                {**inc, "start_param": "from", "convert": to_date},
                params={},
            ),
            resource(
                "inc_min",
                {"cursor_path": "updated_at", "initial_value": stamp(6), "last_value_func": "min"},
                params={"before": "{incremental.start_value}"},
            ),
            resource(
                "inc_row_order_desc",
                {"cursor_path": "updated_at", "initial_value": stamp(3), "row_order": "desc"},
                params={},
            ),
            resource(
                "inc_no_initial",
                {"cursor_path": "updated_at", "start_param": "since"},
                params={},
            ),
            # `{incremental.end_value}` without an end_value: dlt sends the text "None"
            resource(
                "inc_end_unset",
                inc,
                params={"since": "{incremental.start_value}", "to": "{incremental.end_value}"},
            ),
        ],
    }


def to_date(value: Any) -> Any:
    """An incremental `convert`: an ISO timestamp as its date."""
    return str(value)[:10]


# --- §3 dlt's own objects (needs dlt; imported lazily) -------------------------------------


def dlt_objects_config(base_url: str) -> dict[str, Any]:
    """dlt paginator instances (a built-in and a custom subclass), a
    dlt.sources.incremental in params, and a @dlt.resource parent with selected=False."""
    import dlt
    from dlt.sources.helpers.rest_client.paginators import (
        BasePaginator,
        JSONResponseCursorPaginator,
        OffsetPaginator,
    )

    class QueryParamPaginator(BasePaginator):  # dlt docs' "custom paginator" example
        def __init__(self, page_param: str = "page", initial_page: int = 1) -> None:
            super().__init__()
            self.page_param = page_param
            self.page = initial_page

        def init_request(self, request: Any) -> None:
            self.update_request(request)

        def update_state(self, response: Any, data: Any = None) -> None:
            self.page += 1
            if not response.json().get("data"):
                self._has_next_page = False

        def update_request(self, request: Any) -> None:
            if request.params is None:
                request.params = {}
            request.params[self.page_param] = self.page

    @dlt.resource(selected=False)
    def seeds() -> Any:
        yield [{"key": "a"}, {"key": "b"}]

    return {
        "client": {"base_url": base_url},
        "resources": [
            {
                "name": "obj_offset",
                "endpoint": {
                    "path": "c/obj_offset/list",
                    "data_selector": "data",
                    "paginator": OffsetPaginator(limit=3, total_path="total"),
                },
            },
            {
                "name": "obj_cursor",
                "endpoint": {
                    "path": "c/obj_cursor/list",
                    "data_selector": "data",
                    "paginator": JSONResponseCursorPaginator(cursor_path="cursors.next"),
                },
            },
            {
                "name": "obj_custom",
                "endpoint": {
                    "path": "c/obj_custom/list",
                    "data_selector": "data",
                    "paginator": QueryParamPaginator(page_param="page", initial_page=1),
                },
            },
            {
                "name": "obj_incremental",
                "primary_key": "id",
                "write_disposition": "append",
                "endpoint": {
                    "path": "c/obj_incremental/events",
                    "data_selector": "data",
                    "paginator": "single_page",
                    "params": {
                        "since": dlt.sources.incremental("updated_at", initial_value=stamp(2))
                    },
                },
            },
            seeds,
            {
                "name": "obj_child",
                "endpoint": {
                    "path": "c/obj_child/seed/{resources.seeds.key}",
                    "data_selector": "data",
                    "paginator": "single_page",
                },
            },
        ],
    }


# the sources the tests run, by name: (factory, dlt objects needed in the config)
SOURCES = {
    "paginators": paginators_config,
    "placeholders": placeholders_config,
    "path_empty": path_empty_config,
    "actions": actions_config,
    "incremental": incremental_config,
    "dlt_objects": dlt_objects_config,
}
