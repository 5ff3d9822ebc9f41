"""Following redirects ourselves, so that every hop gets the origin rules.

requests would re-send credentials to a redirect target on the same host only, but it
knows nothing of our trusted origins, headers named like credentials or secrets resolved
from `${VAR}`. Each hop here (the first one included: a next-page link may point to a CDN)
is sent with credentials when its origin is trusted and stripped of them when not.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import requests.auth

from rest_assets.errors import HTTPStatusError
from rest_assets.http.hop import Hop, HopRequest
from rest_assets.http.messages import prefix
from rest_assets.http.origins import NO_AUTH, OriginRules
from rest_assets.http.redact import Redactor
from rest_assets.http.request import Reply, RequestSpec
from rest_assets.http.urls import shown_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


class Redirects:
    """Sends a request hop by hop until a response that is not a redirect."""

    def __init__(
        self,
        hop: Hop,
        origins: OriginRules,
        auth: requests.auth.AuthBase | None,
        redactor: Redactor,
        resource: str,
    ) -> None:
        self._hop = hop
        self._origins = origins
        self._auth = auth
        self._redactor = redactor
        self._resource = resource

    def send(self, request: RequestSpec, follow: bool = True) -> Reply:
        """The final response of `request`; without `follow`, the first one (a 3xx too)."""
        method, url = request.method, request.url
        params: dict[str, Any] = request.params
        json, data = request.json, request.data
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._hop.send(self._hop_request(method, url, params, json, data, request))
            response = reply.response
            location = response.headers.get("location")
            if not follow or response.status_code not in REDIRECT_STATUSES or not location:
                return reply
            url = urljoin(response.url, location)
            params = {}  # the Location header carries the complete query
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, json, data = "GET", None, None
            response.close()
        shown = shown_url(request.url, request.params, self._redactor.redact)
        raise HTTPStatusError(
            self._redactor.redact(
                f"{prefix(self._resource)}{request.method} {shown} "
                f"was redirected more than {MAX_REDIRECTS} times"
            ),
            None,
            shown,
        )

    def _hop_request(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        json: Any,
        data: Any,
        request: RequestSpec,
    ) -> HopRequest:
        if self._origins.is_trusted(url):
            return HopRequest(method, url, params, json, data, request.headers, self._auth, True)
        headers, safe_params, safe_url = self._origins.strip(request.headers, params, url)
        return HopRequest(method, safe_url, safe_params, json, data, headers, NO_AUTH, False)
