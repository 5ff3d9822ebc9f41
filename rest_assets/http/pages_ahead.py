"""Fetching the pages of one endpoint in parallel when page one says how many there are.

dlt fetches one page after another (dlt issue 2844). When the paginator can name every
remaining page once page one is in (offset or page number with a total), `fetch_ahead`
sends those requests on a bounded thread pool and yields the pages strictly in order, so the
records land exactly as a sequential run would land them. At most `2 * width` pages are in
flight or waiting, so memory stays bounded by the window, not by the number of pages.
A page that proves to be the last (empty, or has_more false) ends the walk: the requests
after it are cancelled (or their pages dropped). The first failure fails the walk after the
pages before it were yielded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from requests.adapters import HTTPAdapter

from rest_assets.http.request import Page, RequestSpec

# (request) -> (response, body, records), or None when a response action said "ignore"
FetchOne = Callable[[RequestSpec], "tuple[Any, Any, list[Any]] | None"]


def widen_pool(session: Any, width: int) -> None:
    """Let `session` keep `width` connections per host (requests keeps 10 by default)."""
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, HTTPAdapter) and getattr(adapter, "_pool_maxsize", 0) < width:
            session.mount(
                prefix,
                HTTPAdapter(
                    pool_connections=getattr(adapter, "_pool_connections", 10),
                    pool_maxsize=width,
                    max_retries=adapter.max_retries,
                ),
            )


def fetch_ahead(
    planned: list[RequestSpec],
    fetch: FetchOne,
    ends_here: Callable[[Any, list[Any]], bool],
    width: int,
    first_number: int,
) -> Iterator[Page]:
    """Pages of `planned` requests fetched `width` at a time, yielded in request order."""
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="rest-assets-pages")
    window: deque[tuple[RequestSpec, Future[Any]]] = deque()
    todo = iter(planned)
    number = first_number
    try:
        while True:
            while len(window) < 2 * width:
                spec = next(todo, None)
                if spec is None:
                    break
                window.append((spec, pool.submit(fetch, spec)))
            if not window:
                return
            spec, future = window.popleft()
            result = future.result()
            if result is None:  # ignored by a response action: nothing more
                return
            response, body, records = result
            number += 1
            yield Page(records=records, response=response, request=spec, number=number)
            if ends_here(body, records):
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
