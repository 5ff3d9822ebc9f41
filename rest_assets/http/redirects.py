"""Following redirects ourselves, so that every hop gets the origin rules.

requests would re-send credentials to a redirect target on the same host only, but it
knows nothing of our trusted origins, headers named like credentials or secrets resolved
from `${VAR}`. Each hop here (the first one included: a next-page link may point to a CDN)
is sent with credentials when its origin is trusted and stripped of them when not.
"""

from __future__ import annotations

from urllib.parse import urljoin

import requests.auth

from rest_assets.errors import HTTPStatusError
from rest_assets.http.context import CallContext
from rest_assets.http.hop import Hop, HopRequest
from rest_assets.http.messages import prefix
from rest_assets.http.origins import NO_AUTH, OriginRules
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
        context: CallContext,
    ) -> None:
        self._hop = hop
        self._origins = origins
        self._auth = auth
        self._context = context

    def send(self, request: RequestSpec, follow: bool = True) -> Reply:
        """The final response of `request`; without `follow`, the first one (a 3xx too)."""
        current = request
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._hop.send(self._hop_request(current))
            response = reply.response
            location = response.headers.get("location")
            if not follow or response.status_code not in REDIRECT_STATUSES or not location:
                return reply
            current = _redirected(current, response.status_code, urljoin(response.url, location))
            response.close()
        context = self._context
        shown = shown_url(request.url, request.params, context.redact)
        raise HTTPStatusError(
            context.redact(
                f"{prefix(context.resource)}{request.method} {shown} "
                f"was redirected more than {MAX_REDIRECTS} times"
            ),
            None,
            shown,
        )

    def _hop_request(self, current: RequestSpec) -> HopRequest:
        method, url, params = current.method, current.url, current.params
        json, data, headers = current.json, current.data, current.headers
        if self._origins.is_trusted(url):
            return HopRequest(method, url, params, json, data, headers, self._auth, True)
        safe_headers, safe_params, safe_url = self._origins.strip(headers, params, url)
        return HopRequest(method, safe_url, safe_params, json, data, safe_headers, NO_AUTH, False)


def _redirected(current: RequestSpec, status: int, location: str) -> RequestSpec:
    """The request a redirect asks for: a 303 (and a 301/302 after a POST) becomes a GET
    without a body; the Location header carries the complete query."""
    if status == 303 or (status in (301, 302) and current.method == "POST"):
        return RequestSpec("GET", location, {}, None, None, current.headers)
    return RequestSpec(current.method, location, {}, current.json, current.data, current.headers)
