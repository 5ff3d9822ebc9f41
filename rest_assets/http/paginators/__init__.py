"""Paginators: each turns a response into the next request, or says there is none.

The parameters and their defaults follow dlt's rest_api paginators, so a dlt `RESTAPIConfig`
paginator dict works unchanged with `create_paginator`, and every built-in paginator gives
that dict back with `to_config()`. Everything here runs once per page; only the Stripe
paginator looks at a record (the last one). Choosing a paginator from a first page is
`rest_assets.http.detector`'s job.

- `base`: the protocol (`BasePaginator`), the single-page paginator, shared helpers
- `links`: next-page URLs (`json_link`, `header_link`)
- `cursors`: cursors (`cursor`, `header_cursor`, `stripe`)
- `ranges`: counters (`offset`, `page_number`)
- `registry`: `PAGINATORS`, `register_paginator`, `create_paginator`
"""

from rest_assets.http.paginators.base import BasePaginator, SinglePagePaginator, safe_url
from rest_assets.http.paginators.cursors import (
    HeaderCursorPaginator,
    JSONResponseCursorPaginator,
    StripePaginator,
)
from rest_assets.http.paginators.links import HeaderLinkPaginator, JSONLinkPaginator
from rest_assets.http.paginators.ranges import OffsetPaginator, PageNumberPaginator
from rest_assets.http.paginators.registry import (
    PAGINATORS,
    PaginatorSpec,
    create_paginator,
    register_paginator,
)

__all__ = [
    "PAGINATORS",
    "BasePaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "PaginatorSpec",
    "SinglePagePaginator",
    "StripePaginator",
    "create_paginator",
    "register_paginator",
    "safe_url",
]
