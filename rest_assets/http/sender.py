"""BatchSender: the write direction. Sends batches of records to an endpoint as JSON.

Each batch is one request (a JSON array, or `{body_key: [...]}`) carrying an
`Idempotency-Key` derived from the batch's content, so a re-run that sends the same rows in
the same batches is recognised by APIs that deduplicate on that header. Auth, `${VAR}`
resolution, retries, the rate limiter and redaction are the same pieces RestClient uses.
Writes are never redirected: a 3xx is an error, so a body and credentials go only where the
config says.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson
import requests
import requests.auth

from rest_assets.errors import HTTPConnectionError, HTTPStatusError
from rest_assets.http.auth import AuthBase, create_auth
from rest_assets.http.client import join_url
from rest_assets.http.env import EnvResolver
from rest_assets.http.redact import PROCESS_REDACTOR, Redactor, redact_url
from rest_assets.http.retry import RateLimiter, RetryPolicy, TooLongWait

logger = logging.getLogger("rest_assets.http")

Record = Mapping[str, Any]


@dataclass
class SendStats:
    """What a send did: rows and batches delivered, requests made (retries included)."""

    rows: int = 0
    batches: int = 0
    requests: int = 0
    retries: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def batch_key(body: bytes, scope: str = "") -> str:
    """A stable key for one batch: sha256 of a scope (method and URL) and the exact body."""
    digest = hashlib.sha256()
    digest.update(scope.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def encode_batch(rows: list[Record], body_key: str | None = None) -> bytes:
    """The request body of a batch; dates become ISO strings, decimals and others strings."""
    payload: Any = {body_key: rows} if body_key else rows
    return orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS)


class BatchSender:
    """Sends records to one API in batches.

    - `base_url`, `headers`, `auth`, `env`: as for RestClient (`${VAR}` resolved per request).
    - `retry`: a RetryPolicy/dict/int; retried statuses and connection errors are re-sent
      with the same Idempotency-Key, so a request that reached the server before the
      connection dropped is not applied twice by an API that honours the key.
    - `rate_limit`: a RateLimiter (share one to cap combined rate) or requests/s.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | Mapping[str, Any] | str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = 60.0,
        retry: RetryPolicy | Mapping[str, Any] | int | bool | None = None,
        rate_limit: RateLimiter | float | Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        show_error_body: bool = False,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers or {})
        self.env = env
        self.auth = create_auth(auth, env)
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = RetryPolicy.create(retry)
        self.rate_limiter = RateLimiter.create(rate_limit)
        self.show_error_body = show_error_body
        self.stats = SendStats()
        self.redactor = Redactor()

    def send(
        self,
        path: str,
        batches: Iterable[list[Record]],
        *,
        method: str = "POST",
        body_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_header: str | None = "Idempotency-Key",
        name: str = "",
        on_batch: Callable[[SendStats], None] | None = None,
    ) -> SendStats:
        """Send every non-empty batch in order; stop at the first batch that fails for good.

        `on_batch` is called with the running stats after each delivered batch (progress).
        """
        resolver = EnvResolver(self.env)
        url = join_url(resolver.resolve(self.base_url, "base_url"), resolver.resolve(path, "path"))
        sent_headers = {
            "Content-Type": "application/json",
            **resolver.resolve_deep(self.headers, "headers"),
            **resolver.resolve_deep(dict(headers or {}), "headers"),
        }
        self._remember(resolver.resolved_values)
        if isinstance(self.auth, AuthBase):
            self._remember(self.auth.secret_values())
        scope = f"{method.upper()} {redact_url(url)}"
        for rows in batches:
            if not rows:
                continue
            body = encode_batch(rows, body_key)
            batch_headers = dict(sent_headers)
            if idempotency_header:
                batch_headers[idempotency_header] = batch_key(body, scope)
            self._deliver(method.upper(), url, body, batch_headers, name)
            self.stats.rows += len(rows)
            self.stats.batches += 1
            self.stats.bytes += len(body)
            if on_batch is not None:
                on_batch(self.stats)
        return self.stats

    def close(self) -> None:
        """Close the session if the sender created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> BatchSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _deliver(
        self, method: str, url: str, body: bytes, headers: dict[str, str], name: str
    ) -> requests.Response:
        policy = self.retry
        shown = self._redact(redact_url(url))
        prefix = f"{name}: " if name else ""
        attempt = 0
        while True:
            attempt += 1
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            started = time.perf_counter()
            try:
                self.stats.requests += 1
                response = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    auth=self.auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if policy.should_retry_exception(exc) and attempt < policy.max_attempts:
                    self._wait(policy.backoff(attempt), attempt, method, shown, type(exc).__name__)
                    continue
                raise HTTPConnectionError(
                    self._redact(
                        f"{prefix}{method} {shown} failed after {attempt} attempt(s): "
                        f"{type(exc).__name__}"
                    ),
                    None,
                    shown,
                ) from None  # the cause's text may hold the raw URL: never chain it
            if isinstance(self.auth, AuthBase):
                self._remember(self.auth.secret_values())
            if logger.isEnabledFor(logging.DEBUG):
                elapsed_ms = (time.perf_counter() - started) * 1000
                logger.debug(
                    self._redact(
                        f"{prefix}{method} {redact_url(url)} ({len(body)} bytes) -> "
                        f"{response.status_code} in {elapsed_ms:.0f} ms"
                    )
                )
            if response.status_code < 300:
                return response
            if response.status_code < 400:
                raise HTTPStatusError(
                    self._redact(
                        f"{prefix}{method} {shown} was answered with a redirect "
                        f"({response.status_code}); writes are not redirected, configure the "
                        "final URL"
                    ),
                    response.status_code,
                    shown,
                )
            if policy.should_retry_response(response) and attempt < policy.max_attempts:
                try:
                    delay = policy.delay(attempt, response)
                except TooLongWait as wait:
                    raise self._error(method, shown, response, attempt, prefix, wait) from None
                self._wait(delay, attempt, method, shown, f"status {response.status_code}")
                continue
            raise self._error(method, shown, response, attempt, prefix)

    def _error(
        self,
        method: str,
        shown: str,
        response: requests.Response,
        attempt: int,
        prefix: str,
        wait: TooLongWait | None = None,
    ) -> HTTPStatusError:
        message = (
            f"{prefix}{method} {shown} failed with status {response.status_code} after "
            f"{attempt} attempt(s)"
        )
        if wait is not None:
            message += f"; the server asks to wait {wait.seconds:.0f} s"
        if self.show_error_body:
            message += f"; response body: {response.text[:500]}"
        return HTTPStatusError(self._redact(message), response.status_code, shown)

    def _wait(self, delay: float, attempt: int, method: str, shown: str, reason: str) -> None:
        logger.warning(
            self._redact(
                f"{method} {shown} failed ({reason}); retry {attempt}/"
                f"{self.retry.max_attempts - 1} in {delay:.2f} s"
            )
        )
        self.stats.retries += 1
        self.retry.sleep(delay)

    def _remember(self, values: Iterable[str]) -> None:
        values = list(values)
        if values:
            self.redactor.add(*values)
            PROCESS_REDACTOR.add(*values)

    def _redact(self, text: str) -> str:
        return self.redactor.redact(text)
