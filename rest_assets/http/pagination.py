"""Walking the pages of one endpoint: fetch a page, let the paginator judge it, yield, move on.

The walk knows nothing of HTTP: `fetch` brings one page (response, parsed body, records)
or None when a response action said "ignore". Once page one is in, a paginator that can
name every remaining page (`BasePaginator.planned_requests`) lets them be fetched
`page_concurrency` at a time (`pages_ahead`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator

from rest_assets.errors import PaginationLoopError
from rest_assets.http.context import CallContext
from rest_assets.http.messages import prefix
from rest_assets.http.pages_ahead import FetchOne, fetch_ahead
from rest_assets.http.paginators import BasePaginator, PaginatorSpec, create_paginator
from rest_assets.http.redact import redact_url
from rest_assets.http.request import Fetched, Page, RequestSpec
from rest_assets.http.selectors import DataSelector

logger = logging.getLogger("rest_assets.http")


def fresh_paginator(spec: PaginatorSpec) -> BasePaginator | None:
    """A paginator of its own for one walk (state never leaks between walks); None: detect."""
    if spec is None:
        return None
    pager = create_paginator(spec)
    if pager is not None and pager is spec:  # create_paginator copies; make sure
        pager = copy.deepcopy(spec)
    return pager


def fresh_selector(spec: DataSelector | str | None) -> DataSelector:
    """A data selector of its own for one walk."""
    if isinstance(spec, DataSelector):
        # An auto-detecting selector remembers its choice: start from scratch each call.
        return copy.deepcopy(spec)
    return DataSelector(spec)


class PageWalk:
    """The pages of one endpoint, in order."""

    def __init__(
        self,
        fetch: FetchOne,
        detect: Callable[[Fetched], BasePaginator],
        context: CallContext,
        widen_pool: Callable[[int], None],
    ) -> None:
        """`fetch` brings a page, `detect` picks a paginator from page one when none is
        configured, `widen_pool(width)` makes room for pages fetched ahead."""
        self._fetch = fetch
        self._detect = detect
        self._context = context
        self._widen_pool = widen_pool

    def pages(
        self,
        request: RequestSpec,
        pager: BasePaginator | None,
        *,
        max_pages: int | None = None,
        page_concurrency: int = 1,
    ) -> Iterator[Page]:
        """Yield pages until the paginator says stop (or `max_pages`); `pager` None detects
        one from page one."""
        if pager is not None:
            pager.init_request(request)
        number = 0
        while True:
            fetched = self._fetch(request)
            if fetched is None:
                return
            if pager is None:
                pager = self._detect(fetched)
            self._update(pager, fetched, request)
            number += 1
            self._context.stats.add(pages=1)
            yield Page(
                records=fetched.records,
                response=fetched.response,
                request=request.snapshot(),  # the paginator changes `request` next
                number=number,
            )
            if not pager.has_next_page:
                return
            if max_pages is not None and number >= max_pages:
                logger.info(
                    self._context.redact(
                        f"{prefix(self._context.resource)}stopped after max_pages={max_pages}"
                    )
                )
                return
            if number == 1 and page_concurrency > 1:
                limit = None if max_pages is None else max_pages - 1
                planned = pager.planned_requests(request, limit)
                if planned:
                    yield from self._ahead(planned, pager, page_concurrency)
                    return
            pager.update_request(request)

    def _update(self, pager: BasePaginator, fetched: Fetched, request: RequestSpec) -> None:
        try:
            pager.update_state(fetched.response, fetched.body, fetched.records)
        except PaginationLoopError as exc:
            # the paginator knows the loop, not which resource and request hit it
            context = self._context
            raise PaginationLoopError(
                context.redact(
                    f"{prefix(context.resource)}{request.method} "
                    f"{redact_url(fetched.response.url)}: {exc}"
                )
            ) from None

    def _ahead(
        self, planned: list[RequestSpec], pager: BasePaginator, width: int
    ) -> Iterator[Page]:
        self._widen_pool(width)
        for page in fetch_ahead(planned, self._fetch, pager.ends_here, width, first_number=1):
            self._context.stats.add(pages=1)
            yield page
