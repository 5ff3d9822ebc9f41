"""dlt's own paginators (`dlt.sources.helpers.rest_client.paginators`) driven by our client.

A dlt paginator works on a `requests.Request`: `init_request(request)` once, then per
response `update_state(response, data)` followed by `update_request(request)`, until
`has_next_page` is False. `DltPaginator` keeps one such Request for the walk, mirrors it
into our `RequestSpec` before each send, and calls the dlt methods in dlt's order (dlt's
`RESTClient.paginate` calls `update_request` after every page, the last one included), so
built-in and custom subclasses behave as they do in dlt.

dlt is never imported here: a dlt paginator can only exist if its module was imported by
whoever built it, so the check looks the module up in `sys.modules`.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import requests

from rest_assets.http.paginators.base import BasePaginator
from rest_assets.http.request import RequestSpec

DLT_PAGINATORS_MODULE = "dlt.sources.helpers.rest_client.paginators"


def _dlt_base() -> type | None:
    module = sys.modules.get(DLT_PAGINATORS_MODULE)
    base = getattr(module, "BasePaginator", None) if module is not None else None
    return base if isinstance(base, type) else None


def is_dlt_paginator(value: object) -> bool:
    """Whether `value` is an instance of dlt's BasePaginator (any subclass)."""
    base = _dlt_base()
    return base is not None and isinstance(value, base)


def is_dlt_paginator_class(value: object) -> bool:
    """Whether `value` is dlt's BasePaginator or a subclass of it."""
    base = _dlt_base()
    return base is not None and isinstance(value, type) and issubclass(value, base)


class DltPaginator(BasePaginator):
    """Our paginator protocol over a dlt paginator instance (deep-copied: state of its own)."""

    def __init__(self, paginator: Any) -> None:
        super().__init__()
        self.inner = copy.deepcopy(paginator)
        self._request: requests.Request | None = None
        self._had_data = False

    def init_request(self, request: RequestSpec) -> None:
        self._had_data = request.data is not None
        self._request = requests.Request(
            method=request.method,
            url=request.url,
            headers=dict(request.headers),
            params=dict(request.params),
            json=copy.deepcopy(request.json),
            data=copy.deepcopy(request.data),
        )
        self.inner.init_request(self._request)
        self._mirror(request)
        self.has_next_page = bool(self.inner.has_next_page)

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if self._request is None:  # never initialised: the walk always does, callers may not
            self._request = requests.Request(method="GET", url=response.url)
        self.inner.update_state(response, records)
        self.inner.update_request(self._request)
        self.has_next_page = bool(self.inner.has_next_page)

    def update_request(self, request: RequestSpec) -> None:
        self._mirror(request)

    def _mirror(self, request: RequestSpec) -> None:
        """Copy what the dlt paginator may have changed into `request`."""
        source = self._request
        if source is None:
            return
        request.url = str(source.url)
        params: Any = source.params
        request.params = dict(params) if isinstance(params, dict) else {}
        request.json = source.json
        # requests.Request turns data=None into []; keep "no body" as None
        data = source.data
        request.data = None if not self._had_data and data in ([], {}, None) else data
        request.headers = {str(k): str(v) for k, v in (source.headers or {}).items()}
        request.method = str(source.method or request.method).upper()

    def describe(self) -> str:
        return f"dlt {type(self.inner).__name__}"
