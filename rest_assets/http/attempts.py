"""One logical request: retried on connection errors and retryable statuses, re-authenticated
once after a 401.

The outermost layer of a send (`attempts` -> `redirects` -> `hop`). Each attempt is one
call of `once()`, which follows the redirects and applies the response actions; this layer
judges the final status. A credential refresh (401 -> `auth.handle_unauthorized()` said
yes) is not a failed attempt: it happens once per logical request and does not count
against `max_attempts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
import requests.auth

from rest_assets.errors import HTTPConnectionError, HTTPStatusError
from rest_assets.http.context import CallContext
from rest_assets.http.messages import attempts, body_excerpt, exception_excerpt, prefix
from rest_assets.http.origins import OriginRules
from rest_assets.http.redact import redact_url
from rest_assets.http.request import Reply, RequestSpec
from rest_assets.http.retry import RetryPolicy, TooLongWait
from rest_assets.http.urls import shown_url

logger = logging.getLogger("rest_assets.http")


def may_refresh(auth: requests.auth.AuthBase | None) -> bool:
    """Ask `auth` for fresh credentials after a 401 (any auth with `handle_unauthorized`)."""
    handle: Callable[[], object] | None = getattr(auth, "handle_unauthorized", None)
    return handle is not None and bool(handle())


class Attempts:
    """Runs the attempts of one request under a RetryPolicy."""

    def __init__(
        self,
        policy: RetryPolicy,
        auth: requests.auth.AuthBase | None,
        origins: OriginRules,
        context: CallContext,
        *,
        show_error_body: bool = False,
    ) -> None:
        self._policy = policy
        self._auth = auth
        self._origins = origins
        self._context = context
        self._show_error_body = show_error_body

    def send(self, request: RequestSpec, once: Callable[[], Reply]) -> Reply:
        """The reply of the first attempt that succeeds (status below 400), or the error."""
        policy = self._policy
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            try:
                reply = once()
            except requests.RequestException as exc:
                if policy.should_retry_exception(exc) and attempt < policy.max_attempts:
                    self._wait(policy.backoff(attempt), attempt, request, type(exc).__name__)
                    continue
                raise self._connection_error(request, attempt, exc) from None
            response = reply.response
            if not reauthenticated and self._should_reauthenticate(response):
                reauthenticated = True
                self._log_reauthentication(request, response)
                attempt -= 1  # a credential refresh is not a failed attempt
                continue
            if response.status_code < 400:
                return reply
            if policy.should_retry_response(response) and attempt < policy.max_attempts:
                try:
                    delay = policy.delay(attempt, response)
                except TooLongWait as wait:
                    extra = (
                        f"; the server asks to wait {wait.seconds:.0f} s, more than "
                        f"max_retry_after={policy.max_retry_after:.0f} s"
                    )
                    raise self._status_error(request, response, attempt, extra) from None
                self._wait(delay, attempt, request, f"status {response.status_code}")
                continue
            raise self._status_error(request, response, attempt)

    def _should_reauthenticate(self, response: requests.Response) -> bool:
        return (
            response.status_code == 401
            and self._auth is not None
            and self._origins.is_trusted(response.url)
            and may_refresh(self._auth)
        )

    def _log_reauthentication(self, request: RequestSpec, response: requests.Response) -> None:
        context = self._context
        logger.info(
            context.redact(
                f"{prefix(context.resource)}{request.method} {redact_url(response.url)} "
                "returned 401; retrying once with fresh credentials"
            )
        )
        context.stats.add(retries=1)

    def _wait(self, delay: float, attempt: int, request: RequestSpec, reason: str) -> None:
        context = self._context
        logger.warning(
            context.redact(
                f"{prefix(context.resource)}{request.method} {self._shown(request)} failed "
                f"({reason}); retry {attempt}/{self._policy.max_attempts - 1} in {delay:.2f} s"
            )
        )
        context.stats.add(retries=1)
        self._policy.sleep(delay)

    def _connection_error(
        self, request: RequestSpec, attempt: int, exc: requests.RequestException
    ) -> HTTPConnectionError:
        context = self._context
        shown = self._shown(request)
        return HTTPConnectionError(
            context.redact(
                f"{prefix(context.resource)}{request.method} {shown} failed after "
                f"{attempts(attempt)}: {type(exc).__name__}: {exception_excerpt(str(exc))}"
            ),
            None,
            shown,
        )  # raised `from None`: the cause's text holds the raw URL

    def _status_error(
        self, request: RequestSpec, response: requests.Response, attempt: int, extra: str = ""
    ) -> HTTPStatusError:
        """The error for a final status of 400 or above, with the body when configured."""
        context = self._context
        url = redact_url(response.url or request.url)
        message = (
            f"{prefix(context.resource)}{request.method} {url} failed with status "
            f"{response.status_code} after {attempts(attempt)}{extra}"
        )
        if self._show_error_body:
            message += f"; response body: {body_excerpt(response.text)}"
        return HTTPStatusError(context.redact(message), response.status_code, context.redact(url))

    def _shown(self, request: RequestSpec) -> str:
        return shown_url(request.url, request.params, self._context.redact)
