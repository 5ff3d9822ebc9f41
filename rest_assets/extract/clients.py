"""The HTTP clients of one source, sharing its rate limit.

`requests_per_second` is a promise about the API, so every client made for a source (its
resources fetched at the same time, its outputs) takes turns on one limiter. The limiter
belongs to the definitions that were built from the config, not to the process: a changed
rate takes effect the next time definitions load, and two sets of definitions do not share
a bucket.
"""

from __future__ import annotations

from rest_assets.config.models import SourceConfig
from rest_assets.extract.records import auth_spec, paginator_spec
from rest_assets.http.client import RestClient
from rest_assets.http.retry import RateLimiter, RetryPolicy


class SourceClients:
    """Makes `RestClient`s for one source: its base URL, auth, retries and shared limiter."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        rate = source.client.rate_limit.requests_per_second
        self.rate_limiter: RateLimiter | None = RateLimiter(rate) if rate else None

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retries as the source's `rate_limit` section configures them."""
        rate_limit = self.source.client.rate_limit
        return RetryPolicy(
            max_attempts=rate_limit.max_retries + 1, retry_statuses=set(rate_limit.retry_on)
        )

    def client(self, timeout: float | None = None) -> RestClient:
        """A new client; auth and `${VAR}`s are resolved at request time.

        `timeout` (an endpoint's own) overrides the client's.
        """
        client = self.source.client
        return RestClient(
            base_url=client.base_url,
            headers=client.headers,
            auth=auth_spec(client.auth),
            paginator=paginator_spec(client.paginator),
            session=client.session,
            timeout=timeout or client.timeout,
            retry=self.retry_policy,
            rate_limit=self.rate_limiter,
            show_error_body=client.show_error_body,
            max_response_bytes=client.max_response_bytes,
            max_response_seconds=client.max_response_seconds,
        )
