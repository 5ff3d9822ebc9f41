"""Paginator parameters dlt 1.31 refuses or reads strictly, and where rest-assets differs on
purpose (docs/migration.md): the errors name the parameter and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import ResponseFormatError
from rest_assets.http.client import RestClient
from rest_assets.http.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    create_paginator,
)


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with LocalAPI() as server:
        yield server


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: PageNumberPaginator(page_param="p", page_body_path="a.p"),
            "or page_body_path, not",
        ),
        (lambda: PageNumberPaginator(page_param=""), "page_param must not be empty"),
        (lambda: OffsetPaginator(limit=3, offset_param=" "), "offset_param must not be empty"),
        (
            lambda: OffsetPaginator(limit=3, limit_param="l", limit_body_path="a"),
            "or limit_body_path",
        ),
        (lambda: OffsetPaginator(limit=0), "limit must be a positive integer"),
        (
            lambda: JSONResponseCursorPaginator(cursor_param="c", cursor_body_path="a"),
            "or cursor_body",
        ),
        (
            lambda: PageNumberPaginator(total_path=None, stop_after_empty_page=False),
            "would ever stop",
        ),
        (lambda: create_paginator("offset"), r"needs parameters.*\{type: offset, limit: 100\}"),
        (lambda: create_paginator({"type": "offset"}), "limit"),
        (lambda: create_paginator({"next_url_path": "next"}), "a paginator needs a 'type'"),
        (lambda: create_paginator({"type": "auto", "limit": 3}), "'auto' takes no parameters"),
        (lambda: create_paginator("bogus"), "unknown paginator type 'bogus'"),
        (lambda: create_paginator({"type": "offset", "limit": 3, "foo": 1}), "does not take foo"),
    ],
)
def test_refused_with_the_parameter_named(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_string_shorthands_build_defaults() -> None:
    for name in (
        "json_link",
        "json_response",
        "header_link",
        "header_cursor",
        "single_page",
        "cursor",
        "page_number",
    ):
        assert create_paginator(name) is not None, name
    assert create_paginator("auto") is None
    assert create_paginator("page_number").to_config() == {"type": "page_number"}  # type: ignore[union-attr]


def _body(body: Any, headers: dict[str, str] | None = None) -> Any:
    return lambda request: Response(body, headers=headers or {})


def test_has_more_missing_or_not_a_flag_fails_naming_the_path(api: LocalAPI) -> None:
    api.route("GET", "/missing", _body({"data": [1]}))
    api.route("GET", "/odd", _body({"data": [1], "more": "perhaps"}))
    client = RestClient(api.url, retry=1)
    paginator = {"type": "page_number", "total_path": None, "has_more_path": "more"}
    with pytest.raises(
        ResponseFormatError,
        match=r"resource 'r': GET .*/missing.*has_more_path 'more' is not in the response "
        r"\(its top-level keys: data\)",
    ):
        list(client.paginate("missing", paginator=paginator, data_selector="data", resource="r"))
    with pytest.raises(ResponseFormatError, match="holds 'perhaps', not a boolean"):
        list(client.paginate("odd", paginator=paginator, data_selector="data"))


def test_has_more_takes_numbers_too(api: LocalAPI) -> None:
    # dlt refuses 1/0; APIs that send them mean true/false
    def pages(request: Request) -> Response:
        page = int(request.arg("page") or 0)
        return Response({"data": [page], "more": 1 if page < 2 else 0})

    api.route("GET", "/n", pages)
    client = RestClient(api.url, retry=1)
    paginator = {"type": "page_number", "total_path": None, "has_more_path": "more"}
    assert len(list(client.paginate("n", paginator=paginator, data_selector="data"))) == 3


@pytest.mark.parametrize("falsy", [None, "", 0, False])
def test_any_falsy_cursor_ends_as_in_dlt(api: LocalAPI, falsy: Any) -> None:
    def pages(request: Request) -> Response:
        return Response({"data": [1], "next": "c1" if request.arg("cursor") is None else falsy})

    api.route("GET", "/c", pages)
    client = RestClient(api.url, retry=1)
    pages_ = list(
        client.paginate(
            "c", paginator={"type": "cursor", "cursor_path": "next"}, data_selector="data"
        )
    )
    assert len(pages_) == 2


def test_a_cursor_that_is_an_object_is_an_error(api: LocalAPI) -> None:
    api.route("GET", "/c", _body({"data": [1], "next": {"after": "x"}}))
    client = RestClient(api.url, retry=1)
    with pytest.raises(
        ResponseFormatError,
        match=r"the cursor is dict .* point the cursor at the string or number inside it",
    ):
        list(
            client.paginate(
                "c", paginator={"type": "cursor", "cursor_path": "next"}, data_selector="data"
            )
        )


def test_empty_header_cursor_and_empty_next_link_end_the_walk(api: LocalAPI) -> None:
    # dlt sends `cursor=` for an empty header, and fails with MissingSchema on a "" link
    api.route("GET", "/h", _body({"data": [1]}, {"next": ""}))
    api.route("GET", "/j", _body({"data": [1], "next": ""}))
    client = RestClient(api.url, retry=1)
    assert len(list(client.paginate("h", paginator="header_cursor", data_selector="data"))) == 1
    assert len(list(client.paginate("j", paginator="json_link", data_selector="data"))) == 1


def test_to_config_round_trips_the_new_parameters() -> None:
    cursor = JSONResponseCursorPaginator(
        "page.end", "after", stop_after_empty_page=True, has_more_path="page.more"
    )
    assert cursor.to_config() == {
        "type": "cursor", "cursor_path": "page.end", "cursor_param": "after",
        "stop_after_empty_page": True, "has_more_path": "page.more",
    }  # fmt: skip
    assert create_paginator(cursor.to_config()).to_config() == cursor.to_config()  # type: ignore[union-attr]
    offset = OffsetPaginator(limit=50, response_limit_path="meta.maxResults")
    assert offset.to_config() == {
        "type": "offset",
        "limit": 50,
        "response_limit_path": "meta.maxResults",
    }
