"""Paginators that count: an offset or a page number growing by a fixed step."""

from __future__ import annotations

import copy
from typing import Any

import requests

from rest_assets.http.paginators.base import (
    BasePaginator,
    as_bool,
    as_int,
    check_name,
    config_of,
    describe_call,
    keys_hint,
    path_text,
    read_has_more,
    set_body_path,
    set_param,
)
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import compile_path

# The stop conditions' constructor defaults, shared by offset and page_number.
_STOP_DEFAULTS: dict[str, Any] = {
    "total_path": "total",
    "stop_after_empty_page": True,
    "has_more_path": None,
}


class RangePaginator(BasePaginator):
    """A number (offset or page) that grows by a fixed step until a stop condition holds.

    Stop conditions, checked after every page, as in dlt 1.31: an empty page
    (`stop_after_empty_page`, checked first); has_more false (`has_more_path`, AND-ed with
    the others); the number reaching the total; the number reaching the maximum (exclusive:
    that number is never requested). Unlike dlt, the last total seen is remembered, so a
    total that only page one carries, or that turns null, neither stops nor breaks
    pagination (dlt raises).
    """

    def __init__(  # noqa: PLR0913 - dlt's range paginator parameters
        self,
        *,
        name: str,
        param: str | None,
        body_path: str | None,
        param_names: tuple[str, str],
        start: int,
        step: int,
        base: int,
        maximum: int | None,
        total_path: str | None,
        stop_after_empty_page: bool,
        has_more_path: str | None,
    ) -> None:
        super().__init__()
        param_name, body_name = param_names
        check_name(name, param_name, param)
        check_name(name, body_name, body_path)
        if param is not None and body_path is not None:
            raise ValueError(f"{name}: give either {param_name} or {body_name}, not both")
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
        self._total_seen = False

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.current = self.start
        self.total = None
        self._total_seen = False
        self._write(request)

    def _write(self, request: RequestSpec) -> None:
        if self.body_path is not None:
            set_body_path(request, self.body_path, self.current)
        else:
            set_param(request, self.param or "", self.current)

    def update_request(self, request: RequestSpec) -> None:
        self._write(request)

    def _read_total(self, body: Any) -> int | None:
        if self.total_path is not None:
            total = as_int(self.total_path.first(body))
            if total is not None and total >= 0:
                self.total = total
                self._total_seen = True
            elif not self._total_seen:
                self._total_seen = True  # say it once
                self.notes.append(
                    f"{self.describe()}: total_path {self.total_path.expression!r} is not an "
                    f"integer in the first page{keys_hint(body)}; pagination ends at an empty "
                    "or short page instead (set total_path: null to say there is none)"
                )
        return self.total

    def _advance(
        self, body: Any, records: list[Any], total: int | None, has_more: bool | None
    ) -> int:
        """How far the number moves after this page (offset: may follow an API's cap)."""
        return self.step

    def _short_page(self, records: list[Any]) -> bool:
        """Whether this page proves it is the last one without a total (offset only)."""
        return False

    def _stop_config(self) -> dict[str, Any]:
        return {
            "total_path": path_text(self.total_path),
            "stop_after_empty_page": self.stop_after_empty_page,
            "has_more_path": path_text(self.has_more_path),
        }

    def planned_requests(self, request: RequestSpec, limit: int | None = None) -> list[RequestSpec]:
        """The requests of every remaining page, when the total is known (else [])."""
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
            return as_bool(self.has_more_path.first(body)) is False
        return False

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if self.stop_after_empty_page and not records:
            self.has_next_page = False
            return
        total = self._read_total(body)
        has_more = None
        if self.has_more_path is not None:
            has_more = read_has_more(self, self.has_more_path, body)
        self.current += self._advance(body, records, total, has_more)
        self.has_next_page = not (
            has_more is False
            or (total is not None and self.current >= total + self.base)
            or (self.maximum is not None and self.current >= self.maximum)
            or (total is None and has_more is None and self._short_page(records))
        )


class OffsetPaginator(RangePaginator):
    """offset/limit pagination, dlt's parameters and defaults. `limit` is sent on every
    request; `total_path` (default "total") names the item count; total_path=None relies
    on `maximum_offset`, `has_more_path` and empty pages.

    Beyond dlt: an API that caps the page size below `limit` loses no records. The offset
    advances by the page size the response states (`response_limit_path`, else a top-level
    key named like `limit_param`, e.g. `{"limit": 50}`), else, when the total (or has_more)
    proves more records follow, by the records received; a note says so once. Without any
    of those, a short first page is probed with one more request, and a page shorter than
    the pages before it is the last one.
    """

    def __init__(  # noqa: PLR0913 - dlt's offset paginator parameters
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
        response_limit_path: str | None = None,
    ) -> None:
        if as_int(limit) is None or int(limit) <= 0:
            raise ValueError(f"offset: limit must be a positive integer, got {limit!r}")
        check_name("offset", "limit_param", limit_param)
        check_name("offset", "limit_body_path", limit_body_path)
        if limit_param is not None and limit_body_path is not None:
            raise ValueError("offset: give either limit_param or limit_body_path, not both")
        super().__init__(
            name="offset",
            param=offset_param if offset_param is not None or offset_body_path else "offset",
            body_path=offset_body_path,
            param_names=("offset_param", "offset_body_path"),
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
        self.response_limit_path = (
            compile_path(response_limit_path) if response_limit_path else None
        )
        self._largest = 0  # the largest page seen so far in this walk
        self._capped = False  # a cap was reported

    def init_request(self, request: RequestSpec) -> None:
        self.step = self.limit
        self._largest = 0
        self._capped = False
        super().init_request(request)

    def _write(self, request: RequestSpec) -> None:
        super()._write(request)
        if self.limit_body_path is not None:
            set_body_path(request, self.limit_body_path, self.limit)
        else:
            set_param(request, self.limit_param or "limit", self.limit)

    def _stated_limit(self, body: Any) -> int | None:
        """The page size the response says it used, if it says."""
        if self.response_limit_path is not None:
            return as_int(self.response_limit_path.first(body))
        if self.limit_body_path is None and isinstance(body, dict) and self.limit_param:
            return as_int(body.get(self.limit_param))
        return None

    def _advance(
        self, body: Any, records: list[Any], total: int | None, has_more: bool | None
    ) -> int:
        received = len(records)
        stated = self._stated_limit(body)
        largest_before, self._largest = self._largest, max(self._largest, received)
        if stated is not None and 0 < stated < self.limit and received <= stated:
            self._cap(stated, "says so in its response")
        elif 0 < received < self.limit:
            if has_more is not None:
                more, proven = has_more, True
            elif total is not None:
                more, proven = self.current + received < total, True
            else:
                # a short page: the last one, or an API that caps the size? The next
                # request tells (a page as long as this one confirms the cap).
                more, proven = received >= largest_before, received == largest_before
            if more:
                self._cap(received, "returned fewer records than asked", report=proven)
        return self.step

    def _cap(self, size: int, how: str, report: bool = True) -> None:
        self.step = size
        if report and not self._capped:
            self._capped = True
            self.notes.append(
                f"the API {how}: {size} records per page where limit={self.limit} was asked; "
                f"the offset advances by {size} so that no record is skipped"
            )

    def _short_page(self, records: list[Any]) -> bool:
        return len(records) < self.step

    def to_config(self) -> dict[str, Any]:
        values: dict[str, Any] = {"limit": self.limit, "offset": self.start}
        if self.body_path is not None:
            values["offset_body_path"] = self.body_path
        else:
            values["offset_param"] = self.param
        if self.limit_body_path is not None:
            values["limit_body_path"] = self.limit_body_path
        else:
            values["limit_param"] = self.limit_param
        values.update(self._stop_config())
        values["maximum_offset"] = self.maximum
        values["response_limit_path"] = path_text(self.response_limit_path)
        return config_of(
            "offset",
            values,
            {
                **_STOP_DEFAULTS,
                "offset": 0,
                "offset_param": "offset",
                "limit_param": "limit",
                "maximum_offset": None,
                "response_limit_path": None,
            },
        )

    def describe(self) -> str:
        return describe_call(
            "offset",
            limit=self.limit,
            offset=self.start or None,
            offset_param=self.param if self.body_path is None else None,
            offset_body_path=self.body_path,
            limit_param=self.limit_param if self.limit_body_path is None else None,
            limit_body_path=self.limit_body_path,
            total_path=path_text(self.total_path),
            maximum_offset=self.maximum,
            has_more_path=path_text(self.has_more_path),
            response_limit_path=path_text(self.response_limit_path),
        )


class PageNumberPaginator(RangePaginator):
    """Page-number pagination starting at `page` (default `base_page`, 0 unless set), dlt's
    parameters and defaults. `total_path` (default "total") names the number of pages
    (stop once the page number reaches total + base_page); pagination stops once the page
    number reaches `maximum_page` (that page is not requested: base_page=1, maximum_page=3
    asks for pages 1 and 2)."""

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
            param_names=("page_param", "page_body_path"),
            start=base_page if page is None else page,
            step=1,
            base=base_page,
            maximum=maximum_page,
            total_path=total_path,
            stop_after_empty_page=stop_after_empty_page,
            has_more_path=has_more_path,
        )
        self.base_page = base_page

    def to_config(self) -> dict[str, Any]:
        values: dict[str, Any] = {"base_page": self.base_page, "page": self.start}
        if self.body_path is not None:
            values["page_body_path"] = self.body_path
        else:
            values["page_param"] = self.param
        values.update(self._stop_config())
        values["maximum_page"] = self.maximum
        defaults = {
            **_STOP_DEFAULTS,
            "base_page": 0,
            "page": self.base_page,
            "page_param": "page",
            "maximum_page": None,
        }
        return config_of("page_number", values, defaults)

    def describe(self) -> str:
        return describe_call(
            "page_number",
            base_page=self.base_page,
            page=self.start if self.start != self.base_page else None,
            page_param=self.param if self.body_path is None else None,
            page_body_path=self.body_path,
            total_path=path_text(self.total_path),
            maximum_page=self.maximum,
            has_more_path=path_text(self.has_more_path),
        )
