"""The values that flow through the HTTP engine: the request a paginator may change between
pages, a response with its body, and the page the client yields."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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

    def snapshot(self) -> RequestSpec:
        """A copy that later changes (the paginator's, on the next page) do not reach."""
        return RequestSpec(
            method=self.method,
            url=self.url,
            params=dict(self.params),
            json=copy.deepcopy(self.json),
            data=copy.deepcopy(self.data),
            headers=dict(self.headers),
        )


@dataclass(frozen=True)
class Reply:
    """A response and its body, read whole within the client's limits.

    `body` is the decoded bytes; `response` has the same bytes as its stream, so
    `response.content` works too (response actions and custom paginators use it).
    """

    response: requests.Response
    body: bytes


class Fetched(NamedTuple):
    """One page as the paginator sees it: the response, the parsed body, the records."""

    response: requests.Response
    body: Any
    records: list[Any]


@dataclass
class Page:
    """One page of records and what it took to get it."""

    records: list[Any]
    response: requests.Response
    request: RequestSpec
    number: int
