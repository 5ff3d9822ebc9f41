"""One hop: one HTTP request on the wire and its body read within the limits.

No retries, no redirects, no origin decisions: the layers above (`attempts`, `redirects`)
make those and hand this one a `HopRequest` that is already safe to send where it goes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import requests
import requests.auth

from rest_assets.http.auth import AuthBase
from rest_assets.http.body import BodyLimits, BodySource, read_body
from rest_assets.http.context import CallContext
from rest_assets.http.redact import remember_secrets
from rest_assets.http.request import Reply
from rest_assets.http.retry import RateLimiter
from rest_assets.http.sessions import EnvironmentSettings

logger = logging.getLogger("rest_assets.http")


@dataclass(frozen=True)
class HopRequest:
    """A request as it goes on the wire to one URL.

    `headers` may map a name to None: that removes a header the session would add.
    `trusted` says the URL's origin may see credentials (the debug line says when not).
    """

    method: str
    url: str
    params: Mapping[str, Any]
    json: Any
    data: Any
    headers: Mapping[str, str | None]
    auth: requests.auth.AuthBase | None
    trusted: bool


@dataclass(frozen=True)
class HopSettings:
    """How every hop of a client is sent: socket timeout, body limits, shared rate limiter."""

    timeout: float | tuple[float, float]
    limits: BodyLimits
    rate_limiter: RateLimiter | None


class Hop:
    """Sends a HopRequest through the session (no redirects) and reads its body."""

    def __init__(
        self,
        session: requests.Session,
        settings: HopSettings,
        environment: EnvironmentSettings,
        context: CallContext,
    ) -> None:
        self._session = session
        self._settings = settings
        self._environment = environment
        self._context = context

    def send(self, hop: HopRequest) -> Reply:
        """The response of `hop` with its body, or the error that stopped reading it."""
        prepared = self._session.prepare_request(
            requests.Request(
                method=hop.method,
                url=hop.url,
                params=dict(hop.params),
                json=hop.json,
                data=hop.data,
                # None values are requests' documented way to drop a session header
                headers=cast("dict[str, str | bytes]", dict(hop.headers)),
                auth=hop.auth,
            )
        )
        if hop.trusted and isinstance(hop.auth, AuthBase):
            # after prepare: an OAuth2 token is fetched while the request is authenticated
            remember_secrets(self._context.redactor, hop.auth.secret_values())
        if self._settings.rate_limiter is not None:
            self._settings.rate_limiter.acquire()
        url = prepared.url or hop.url
        options = self._environment.for_url(url)
        options["stream"] = True  # read_body reads it, bounded in size and time
        started = time.perf_counter()
        try:
            response = self._session.send(
                prepared, timeout=self._settings.timeout, allow_redirects=False, **options
            )
        finally:
            self._context.stats.add(requests=1)
        source = BodySource(self._context.resource, hop.method, url, self._context.redact)
        try:
            body = read_body(response, self._settings.limits, source, started)
        except BaseException:
            response.close()  # the connection holds an unread body: never reuse it
            raise
        self._context.stats.add(bytes=len(body))
        if logger.isEnabledFor(logging.DEBUG):
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.debug(
                self._context.redact(
                    f"{source.where} -> {response.status_code} in {elapsed_ms:.0f} ms "
                    f"({len(body)} bytes)"
                    + ("" if hop.trusted else " [other origin: sent without credentials]")
                )
            )
        return Reply(response, body)
