"""BatchSender: the write direction. Sends batches of records to an endpoint as JSON.

Each batch is one request (a JSON array, or `{body_key: [...]}`) carrying an
`Idempotency-Key` derived from the batch's content, so a re-run that sends the same rows in
the same batches is recognised by APIs that deduplicate on that header. Auth, `${VAR}`
resolution, retries, the rate limiter, response limits and redaction are RestClient's own:
each batch is one `RestClient.send()`. Writes are never redirected: a 3xx is an error, so a
body and credentials go only where the config says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import requests
import requests.auth

from rest_assets.http.client import RestClient
from rest_assets.http.redact import redact_url
from rest_assets.http.retry import RateLimiter, RetryPolicy

Record = Mapping[str, Any]


@dataclass
class SendStats:
    """What a send did: rows and batches delivered, requests made (retries included)."""

    rows: int = 0
    batches: int = 0
    requests: int = 0
    retries: int = 0
    bytes: int = 0


def batch_key(body: bytes, scope: str = "") -> str:
    """A stable key for one batch: sha256 of a scope (method and URL) and the exact body."""
    digest = hashlib.sha256()
    digest.update(scope.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def encode_batch(rows: Sequence[Record], body_key: str | None = None) -> bytes:
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

    def __init__(  # noqa: PLR0913 - the client settings of the config, one keyword each
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
        self.client = RestClient(
            base_url,
            headers=headers,
            auth=auth,
            session=session,
            timeout=timeout,
            retry=retry,
            rate_limit=rate_limit,
            env=env,
            show_error_body=show_error_body,
        )
        self.stats = SendStats()

    def send(
        self,
        path: str,
        batches: Iterable[Sequence[Record]],
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
        method = method.upper()
        # the key's scope is the resolved URL, without credentials a query might carry
        scope = f"{method} {redact_url(self.client.url_for(path))}"
        for rows in batches:
            if not rows:
                continue
            body = encode_batch(rows, body_key)
            batch_headers = dict(headers or {})
            if not any(k.lower() == "content-type" for k in [*self.client.headers, *batch_headers]):
                batch_headers["Content-Type"] = "application/json"
            if idempotency_header:
                batch_headers[idempotency_header] = batch_key(body, scope)
            try:
                self.client.send(
                    path,
                    method=method,
                    data=body,
                    headers=batch_headers,
                    resource=name,
                    follow_redirects=False,
                )
            finally:
                self.stats.requests = self.client.stats.requests
                self.stats.retries = self.client.stats.retries
            self.stats.rows += len(rows)
            self.stats.batches += 1
            self.stats.bytes += len(body)
            if on_batch is not None:
                on_batch(self.stats)
        return self.stats

    def close(self) -> None:
        """Close the session if the sender created it."""
        self.client.close()

    def __enter__(self) -> BatchSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
