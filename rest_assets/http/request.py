"""The request a paginator may change between pages, and the page the client yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class RequestSpec:
    """A request before it is sent. Paginators mutate it to move to the next page.

    `url` is absolute. `params`, `json` and `headers` hold resolved values (secrets included),
    so never log this object; log `rest_assets.http.redact` output instead.
    """

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    """One page of records and what it took to get it."""

    records: list[Any]
    response: requests.Response
    request: RequestSpec
    number: int
