"""Walking the pages of one endpoint: fetch a page, let the paginator judge it, yield, move on.

The walk knows nothing of HTTP: `fetch` brings one page (response, parsed body, records)
or None when a response action said "ignore". Once page one is in, a paginator that can
name every remaining page (`BasePaginator.planned_requests`) lets them be fetched
`page_concurrency` at a time (`pages_ahead`).

Two guards no paginator can talk its way past (beyond dlt, whose cursor and link
paginators can loop forever): `max_empty_pages` consecutive pages without records while the
paginator still says "more" end the walk with a WARNING, and `max_pages` caps the walk
(DEFAULT_MAX_PAGES unless the caller says otherwise; reaching the default is a WARNING).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator

from rest_assets.errors import PaginationLoopError, ResponseFormatError
from rest_assets.http.context import CallContext
from rest_assets.http.messages import prefix
from rest_assets.http.pages_ahead import FetchOne, fetch_ahead
from rest_assets.http.paginators import BasePaginator, PaginatorSpec, create_paginator
from rest_assets.http.redact import redact_url
from rest_assets.http.request import Fetched, Page, RequestSpec
from rest_assets.http.selectors import DataSelector

logger = logging.getLogger("rest_assets.http")

# The default cap on the pages of one walk: far beyond real APIs (100,000 pages of 100 are
# 10 million records), but finite.
DEFAULT_MAX_PAGES = 100_000
# Consecutive empty pages, while the paginator still says "more", that end a walk.
DEFAULT_MAX_EMPTY_PAGES = 3


def fresh_paginator(spec: PaginatorSpec) -> BasePaginator | None:
    """A paginator of its own for one walk (state never leaks between walks); None: detect."""
    if spec is None:
        return None
    pager = create_paginator(spec)
    if pager is not None and pager is spec:  # create_paginator copies; make sure
        pager = copy.deepcopy(pager)
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
        note: Callable[[str], None] | None = None,
    ) -> None:
        """`fetch` brings a page, `detect` picks a paginator from page one when none is
        configured, `widen_pool(width)` makes room for pages fetched ahead, `note(text)`
        logs what a paginator wants said once (default: an INFO line every time)."""
        self._fetch = fetch
        self._detect = detect
        self._context = context
        self._widen_pool = widen_pool
        self._note = note or self._log_note

    def _log_note(self, text: str) -> None:
        logger.info(self._context.redact(f"{prefix(self._context.resource)}{text}"))

    def pages(
        self,
        request: RequestSpec,
        pager: BasePaginator | None,
        *,
        max_pages: int | None = DEFAULT_MAX_PAGES,
        page_concurrency: int = 1,
        max_empty_pages: int | None = DEFAULT_MAX_EMPTY_PAGES,
    ) -> Iterator[Page]:
        """Yield pages until the paginator says stop, `max_pages` pages were yielded or
        `max_empty_pages` empty pages came in a row (None: no such limit); `pager` None
        detects one from page one."""
        if pager is not None:
            pager.init_request(request)
            self._drain_notes(pager)
        number = 0
        empty_run = 0
        while True:
            fetched = self._fetch(request)
            if fetched is None:
                return
            if pager is None:
                pager = self._detect(fetched)
            self._update(pager, fetched, request)
            self._drain_notes(pager)
            number += 1
            empty_run = 0 if fetched.records else empty_run + 1
            self._context.stats.add(pages=1)
            yield Page(
                records=fetched.records,
                response=fetched.response,
                request=request.snapshot(),  # the paginator changes `request` next
                number=number,
            )
            if not pager.has_next_page:
                return
            if max_empty_pages is not None and empty_run >= max_empty_pages:
                logger.warning(
                    self._context.redact(
                        f"{prefix(self._context.resource)}stopped after {empty_run} empty pages "
                        f"in a row although {pager.describe()} still reported a next page; "
                        "set endpoint.max_empty_pages to allow more (null: no limit)"
                    )
                )
                return
            if max_pages is not None and number >= max_pages:
                self._stop_at_max_pages(max_pages)
                return
            if number == 1 and page_concurrency > 1:
                limit = None if max_pages is None else max_pages - 1
                planned = pager.planned_requests(request, limit)
                if planned:
                    yield from self._ahead(planned, pager, page_concurrency)
                    return
            pager.update_request(request)

    def _stop_at_max_pages(self, max_pages: int) -> None:
        where = prefix(self._context.resource)
        if max_pages == DEFAULT_MAX_PAGES:
            # the default cap is a guard against endless pagination, not a choice
            logger.warning(
                self._context.redact(
                    f"{where}stopped after {max_pages} pages, the default max_pages, although "
                    "the paginator reported a next page; set endpoint.max_pages higher (or "
                    "null for no limit) if the API really has more"
                )
            )
        else:
            logger.info(self._context.redact(f"{where}stopped after max_pages={max_pages}"))

    def _drain_notes(self, pager: BasePaginator) -> None:
        notes = getattr(pager, "notes", None)  # a subclass may not call our __init__
        if notes:
            for text in notes:
                self._note(text)
            notes.clear()

    def _update(self, pager: BasePaginator, fetched: Fetched, request: RequestSpec) -> None:
        context = self._context
        try:
            pager.update_state(fetched.response, fetched.body, fetched.records)
        except PaginationLoopError as exc:
            # the paginator knows the loop, not which resource and request hit it
            raise PaginationLoopError(
                context.redact(
                    f"{prefix(context.resource)}{request.method} "
                    f"{redact_url(fetched.response.url)}: {exc}"
                )
            ) from None
        except ValueError as exc:
            # a response the paginator cannot read (has_more missing, a cursor object)
            raise ResponseFormatError(
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
