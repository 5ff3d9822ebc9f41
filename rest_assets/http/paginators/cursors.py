"""Paginators that send back a cursor: from the body, from a header, or the last record's id."""

from __future__ import annotations

from typing import Any

import requests

from rest_assets.http.paginators.base import (
    BasePaginator,
    LoopGuard,
    as_bool,
    check_name,
    config_of,
    describe_call,
    path_text,
    read_has_more,
    set_body_path,
    set_param,
    shown_value,
)
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import compile_path


class CursorPaginator(BasePaginator):
    """Sends a cursor taken from the response as a query parameter or a JSON body field."""

    _what = "cursor"
    _name = "cursor"

    def __init__(self, cursor_param: str | None, cursor_body_path: str | None) -> None:
        super().__init__()
        check_name(self._name, "cursor_param", cursor_param)
        check_name(self._name, "cursor_body_path", cursor_body_path)
        if cursor_param is not None and cursor_body_path is not None:
            raise ValueError(
                f"{self._name}: give either cursor_param or cursor_body_path, not both"
            )
        self.cursor_param = cursor_param if cursor_body_path is None else None
        self.cursor_body_path = cursor_body_path
        self.cursor: Any = None
        self._guard = LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.cursor = None
        self._guard.reset()

    def _accept(self, cursor: Any, more: bool = True) -> None:
        """Take the next cursor; `more` False (an empty page, has_more false) ends anyway."""
        # dlt's rule: any falsy cursor (missing, null, "", 0, false) ends pagination
        if isinstance(cursor, dict | list) and cursor:
            raise ValueError(
                f"{self.describe()}: the cursor is {type(cursor).__name__} "
                f"{shown_value(cursor)}, not a value to send back; point the cursor at the "
                "string or number inside it"
            )
        if not cursor or not more:
            self.cursor = None
            self.has_next_page = False
            return
        self._guard.check(self, cursor, self._what, shown_value(cursor))
        self.cursor = cursor
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.cursor is None:
            return
        if self.cursor_body_path is not None:
            set_body_path(request, self.cursor_body_path, self.cursor)
        else:
            set_param(request, self.cursor_param or "cursor", self.cursor)


class JSONResponseCursorPaginator(CursorPaginator):
    """The cursor is in the JSON body at `cursor_path`; it is sent back as the query
    parameter `cursor_param` (default "cursor") or written into the JSON request body at
    the dotted `cursor_body_path` (for POST search endpoints). Not both.

    As in dlt 1.31: a falsy cursor (missing, null, "", 0, false) ends pagination;
    `stop_after_empty_page` (default False here) ends it at a page without records even
    when the cursor is still set (export APIs), checked after the cursor is read;
    `has_more_path` names a flag AND-ed with the cursor (GraphQL `pageInfo.hasNextPage`
    next to an `endCursor` that stays set on the last page).
    """

    _name = "cursor"

    def __init__(
        self,
        cursor_path: str = "cursors.next",
        cursor_param: str | None = None,
        cursor_body_path: str | None = None,
        *,
        stop_after_empty_page: bool = False,
        has_more_path: str | None = None,
    ) -> None:
        super().__init__(
            cursor_param if cursor_param is not None or cursor_body_path else "cursor",
            cursor_body_path,
        )
        self.cursor_path = compile_path(cursor_path)
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = compile_path(has_more_path) if has_more_path else None

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        found = self.cursor_path.find(body) if body is not None else []
        cursor = found[0] if found else None
        more = bool(cursor)
        if more and self.stop_after_empty_page and not records:
            more = False
        elif more and self.has_more_path is not None:
            more = read_has_more(self, self.has_more_path, body)
        self._accept(cursor, more)

    def to_config(self) -> dict[str, Any]:
        values: dict[str, Any] = {"cursor_path": self.cursor_path.expression}
        if self.cursor_body_path is not None:
            values["cursor_body_path"] = self.cursor_body_path
        else:
            values["cursor_param"] = self.cursor_param
        values["stop_after_empty_page"] = self.stop_after_empty_page
        values["has_more_path"] = path_text(self.has_more_path)
        return config_of(
            "cursor",
            values,
            {
                "cursor_path": "cursors.next",
                "cursor_param": "cursor",
                "stop_after_empty_page": False,
                "has_more_path": None,
            },
        )

    def describe(self) -> str:
        return describe_call(
            "cursor",
            cursor_path=self.cursor_path.expression,
            cursor_param=self.cursor_param,
            cursor_body_path=self.cursor_body_path,
            stop_after_empty_page=self.stop_after_empty_page or None,
            has_more_path=path_text(self.has_more_path),
        )


class HeaderCursorPaginator(CursorPaginator):
    """The cursor is in the response header `cursor_key`; it is sent back as the query
    parameter `cursor_param`."""

    _name = "header_cursor"

    def __init__(self, cursor_key: str = "next", cursor_param: str = "cursor") -> None:
        super().__init__(cursor_param, None)
        self.cursor_key = cursor_key

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        value = response.headers.get(self.cursor_key)
        self._accept(value.strip() if value else None)

    def to_config(self) -> dict[str, Any]:
        return config_of(
            "header_cursor",
            {"cursor_key": self.cursor_key, "cursor_param": self.cursor_param},
            {"cursor_key": "next", "cursor_param": "cursor"},
        )

    def describe(self) -> str:
        return describe_call(
            "header_cursor", cursor_key=self.cursor_key, cursor_param=self.cursor_param
        )


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
        self._guard = LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.cursor = None
        self._guard.reset()

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if not records or not as_bool(self.has_more_path.first(body)):
            self.has_next_page = False
            return
        cursor = self.id_path.first(records[-1])
        if cursor is None or cursor == "":
            self.has_next_page = False
            return
        self._guard.check(self, cursor, "last record id", shown_value(cursor))
        self.cursor = cursor
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.cursor is not None:
            set_param(request, self.cursor_param, self.cursor)

    def to_config(self) -> dict[str, Any]:
        return config_of(
            "stripe",
            {
                "cursor_param": self.cursor_param,
                "id_path": self.id_path.expression,
                "has_more_path": self.has_more_path.expression,
            },
            {"cursor_param": "starting_after", "id_path": "id", "has_more_path": "has_more"},
        )

    def describe(self) -> str:
        return describe_call(
            "stripe",
            cursor_param=self.cursor_param,
            id_path=self.id_path.expression,
            has_more_path=self.has_more_path.expression,
        )
