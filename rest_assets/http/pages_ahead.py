"""Fetching the pages of one endpoint in parallel when page one says how many there are.

dlt fetches one page after another (dlt issue 2844). When the paginator can name every
remaining page once page one is in (`BasePaginator.planned_requests`: offset or page number
with a total), `fetch_ahead` sends those requests through a bounded ordered window
(`ordered_pool`) and yields the pages strictly in order, so the records land exactly as a
sequential run would land them. A page that proves to be the last
(`BasePaginator.ends_here`: empty, or has_more false) ends the walk: the requests after it
are cancelled (or their pages dropped). The first failure fails the walk after the pages
before it were yielded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

from rest_assets.http.ordered_pool import ordered_map
from rest_assets.http.request import Fetched, Page, RequestSpec

# (request) -> the fetched page, or None when a response action said "ignore"
FetchOne = Callable[[RequestSpec], "Fetched | None"]


def fetch_ahead(
    planned: list[RequestSpec],
    fetch: FetchOne,
    ends_here: Callable[[Any, list[Any]], bool],
    width: int,
    first_number: int,
) -> Iterator[Page]:
    """Pages of `planned` requests fetched `width` at a time, yielded in request order."""

    def fetch_one(spec: RequestSpec) -> tuple[RequestSpec, Fetched | None]:
        return spec, fetch(spec)

    number = first_number
    results = ordered_map(fetch_one, planned, width, thread_name_prefix="rest-assets-pages")
    with closing(results):
        for spec, fetched in results:
            if fetched is None:  # ignored by a response action: nothing more
                return
            number += 1
            yield Page(
                records=fetched.records, response=fetched.response, request=spec, number=number
            )
            if ends_here(fetched.body, fetched.records):
                return
