"""The HTTP engine: no Dagster, no DuckDB. `RestClient.paginate()` is the escape hatch.

A call goes through small layers, each holding one rule (outermost first):
`attempts` (retries, one re-auth after a 401) -> `actions` (response actions) ->
`redirects` (every hop checked against the trusted origins, `origins`) -> `hop` (one
request on the wire, its body read within the limits, `body`). `pagination` walks the
pages with a paginator (`paginators`, chosen by `detector` when none is configured) and a
data selector (`selectors`); `pages_ahead` fetches pages in parallel through the ordered
window of `ordered_pool`. `sensitive` is the one policy of credential names, used by
`redact` (logs, errors) and `origins` (stripping for other origins).

What other layers use is exported here.
"""

from rest_assets.http.actions import ResponseAction
from rest_assets.http.auth import AUTH_TYPES, AuthBase, create_auth, register_auth
from rest_assets.http.client import RestClient
from rest_assets.http.detector import detect_paginator
from rest_assets.http.ordered_pool import ordered_map
from rest_assets.http.paginators import (
    PAGINATORS,
    BasePaginator,
    create_paginator,
    register_paginator,
)
from rest_assets.http.redact import Redactor, redact_url
from rest_assets.http.request import Page, RequestSpec
from rest_assets.http.retry import RateLimiter, RetryPolicy
from rest_assets.http.selectors import DataSelector
from rest_assets.http.sender import BatchSender
from rest_assets.http.sensitive import is_sensitive_name
from rest_assets.http.sessions import widen_pool
from rest_assets.http.stats import ClientStats

__all__ = [
    "AUTH_TYPES",
    "PAGINATORS",
    "AuthBase",
    "BasePaginator",
    "BatchSender",
    "ClientStats",
    "DataSelector",
    "Page",
    "RateLimiter",
    "Redactor",
    "RequestSpec",
    "ResponseAction",
    "RestClient",
    "RetryPolicy",
    "create_auth",
    "create_paginator",
    "detect_paginator",
    "is_sensitive_name",
    "ordered_map",
    "redact_url",
    "register_auth",
    "register_paginator",
    "widen_pool",
]
