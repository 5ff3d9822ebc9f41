"""Paginators that follow a next-page URL the response names (in the body or a Link header)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from rest_assets.http.paginators.base import (
    BasePaginator,
    LoopGuard,
    config_of,
    describe_call,
    normalize_url,
    safe_url,
)
from rest_assets.http.request import RequestSpec
from rest_assets.http.selectors import compile_path


class NextURLPaginator(BasePaginator):
    """Follows a next-page URL taken from the response (body or headers).

    Relative URLs are resolved against the URL of the page that named them. A next URL with
    a query string replaces the request URL *and* its query parameters: the link already
    carries the parameters the API wants (GitHub, Shopify and Graph links do), and
    re-sending the originals would duplicate them (Shopify rejects extra params next to
    page_info). A next URL without a query string keeps the original parameters.
    """

    _what = "next URL"

    def __init__(self) -> None:
        super().__init__()
        self.next_url: str | None = None
        self._guard = LoopGuard()

    def init_request(self, request: RequestSpec) -> None:
        self.has_next_page = True
        self.next_url = None
        self._guard.reset()

    @abstractmethod
    def _find_next(self, response: requests.Response, body: Any) -> Any:
        """The raw next reference in the response, or None."""

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        if response.url:
            self._guard.add(normalize_url(response.url))
        raw = self._find_next(response, body)
        if not isinstance(raw, str) or not raw.strip():
            self.next_url = None
            self.has_next_page = False
            return
        url = urljoin(response.url, raw.strip()) if response.url else raw.strip()
        self._guard.check(self, normalize_url(url), self._what, safe_url(url))
        self.next_url = url
        self.has_next_page = True

    def update_request(self, request: RequestSpec) -> None:
        if self.next_url is None:
            return
        request.url = urljoin(request.url, self.next_url)
        if urlsplit(request.url).query:
            request.params = {}


class JSONLinkPaginator(NextURLPaginator):
    """The next page URL is in the JSON body at `next_url_path` (JSONPath, default "next").

    Keys with dots or `@` need bracket quoting, e.g. Microsoft Graph's
    `"['@odata.nextLink']"`. A missing, null or empty value ends pagination.
    """

    def __init__(self, next_url_path: str = "next") -> None:
        super().__init__()
        self.next_url_path = compile_path(next_url_path)

    def _find_next(self, response: requests.Response, body: Any) -> Any:
        return self.next_url_path.first(body)

    def to_config(self) -> dict[str, Any]:
        return config_of(
            "json_link", {"next_url_path": self.next_url_path.expression}, {"next_url_path": "next"}
        )

    def describe(self) -> str:
        return describe_call("json_link", next_url_path=self.next_url_path.expression)


class HeaderLinkPaginator(NextURLPaginator):
    """The next page URL is in the RFC 8288 `Link` header under rel `links_next_key`."""

    def __init__(self, links_next_key: str = "next") -> None:
        super().__init__()
        self.links_next_key = links_next_key

    def _find_next(self, response: requests.Response, body: Any) -> Any:
        links = response.links
        link = links.get(self.links_next_key)
        if link is None:
            # rel may hold several space-separated relation types (rel="next last").
            for candidate in links.values():
                if self.links_next_key in str(candidate.get("rel", "")).split():
                    link = candidate
                    break
        return link.get("url") if link else None

    def to_config(self) -> dict[str, Any]:
        return config_of(
            "header_link", {"links_next_key": self.links_next_key}, {"links_next_key": "next"}
        )

    def describe(self) -> str:
        return describe_call("header_link", links_next_key=self.links_next_key)
