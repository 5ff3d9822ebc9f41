"""When to retry a request, how long to wait, and how fast to send requests at all."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests

DEFAULT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Above this, an `x-ratelimit-reset` value is an epoch timestamp, below it a delta in seconds
# (some APIs send one, some the other under the same name).
_EPOCH_THRESHOLD = 1_000_000_000

_RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,  # includes ConnectTimeout
    requests.Timeout,  # ReadTimeout
    requests.exceptions.ChunkedEncodingError,
)


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, honouring the server's own wait hints.

    Attempt n (1-based) that failed waits `backoff_factor * 2**(n-1)` seconds (capped at
    `max_backoff`) plus up to `jitter` times that, unless the response says how long to wait:
    `Retry-After` (seconds or HTTP date), `x-ratelimit-reset` (epoch seconds),
    `ratelimit-reset` (seconds). A GitHub-style 403 with `x-ratelimit-remaining: 0` is a rate
    limit and is retried too. A server-requested wait longer than `max_retry_after` is not
    waited out: the request fails at once with a clear message instead of hanging for hours.
    `sleep` and `clock` (wall clock, for epoch resets) are injectable for tests.
    """

    max_attempts: int = 5
    backoff_factor: float = 0.5
    max_backoff: float = 60.0
    retry_statuses: Collection[int] = field(default_factory=lambda: set(DEFAULT_RETRY_STATUSES))
    jitter: float = 0.5
    max_retry_after: float = 900.0
    retry_connection_errors: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.retry_statuses = frozenset(self.retry_statuses)

    @classmethod
    def create(cls, spec: RetryPolicy | Mapping[str, Any] | int | bool | None) -> RetryPolicy:
        """A policy from an instance, a dict, an int (max attempts) or None/True (defaults).

        Dicts take the field names above, or the connector spelling
        `{"max_retries": 3, "retry_on": [429, 503]}` (max_retries counts retries, not attempts).
        False disables retries.
        """
        if isinstance(spec, RetryPolicy):
            return spec
        if spec is None or spec is True:
            return cls()
        if spec is False:
            return cls(max_attempts=1)
        if isinstance(spec, int):
            return cls(max_attempts=spec)
        options = dict(spec)
        if "max_retries" in options:
            options["max_attempts"] = int(options.pop("max_retries")) + 1
        if "retry_on" in options:
            options["retry_statuses"] = options.pop("retry_on")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown retry option(s) {unknown}; known: {sorted(known)}")
        return cls(**options)

    def is_rate_limited(self, response: requests.Response) -> bool:
        """A 403 that is really a rate limit (GitHub: remaining 0, or a Retry-After)."""
        if response.status_code != 403:
            return False
        headers = response.headers
        return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers

    def should_retry_response(self, response: requests.Response) -> bool:
        """True when the status is worth another attempt."""
        return response.status_code in self.retry_statuses or self.is_rate_limited(response)

    def should_retry_exception(self, exc: BaseException) -> bool:
        """True for connection errors and timeouts (when enabled)."""
        return self.retry_connection_errors and isinstance(exc, _RETRYABLE_EXCEPTIONS)

    def backoff(self, attempt: int) -> float:
        """Computed wait after failed attempt number `attempt` (1-based), jitter included."""
        base = min(self.max_backoff, self.backoff_factor * 2.0 ** (attempt - 1))
        if self.jitter > 0:
            base += random.uniform(0, base * self.jitter)
        return min(self.max_backoff, base)

    def server_wait(self, response: requests.Response) -> float | None:
        """Seconds the server asks us to wait, from its headers; None when it does not say."""
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after:
            wait = self._parse_retry_after(retry_after.strip())
            if wait is not None:
                return wait
        for name in ("x-ratelimit-reset", "x-rate-limit-reset"):
            value = _number(headers.get(name))
            if value is not None and self._is_limit_hit(response):
                return max(0.0, value - self.clock()) if value > _EPOCH_THRESHOLD else value
        value = _number(headers.get("ratelimit-reset"))
        if value is not None and self._is_limit_hit(response):
            return max(0.0, value)
        return None

    def _is_limit_hit(self, response: requests.Response) -> bool:
        # Reset headers ride on every response of many APIs; they only mean "wait" on a
        # rate-limit status or when nothing is left.
        remaining = response.headers.get("x-ratelimit-remaining") or response.headers.get(
            "ratelimit-remaining"
        )
        return response.status_code in (429, 403, 503) or remaining == "0"

    def _parse_retry_after(self, value: str) -> float | None:
        number = _number(value)
        if number is not None:
            return max(0.0, number)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - self.clock())

    def delay(self, attempt: int, response: requests.Response | None = None) -> float:
        """Wait before the next attempt: the server's hint if any, else backoff.

        Raises `TooLongWait` when the server asks for more than `max_retry_after`.
        """
        if response is not None:
            wait = self.server_wait(response)
            if wait is not None:
                if wait > self.max_retry_after:
                    raise TooLongWait(wait)
                return wait
        return self.backoff(attempt)


class TooLongWait(Exception):
    """The server asked for a wait longer than the policy's `max_retry_after`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"server asked to wait {seconds:.0f} s")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class RateLimiter:
    """A thread-safe token bucket: at most `requests_per_second` on average, bursts of `burst`.

    Share one instance between clients (or threads) to cap their combined rate. A caller
    that finds the bucket empty reserves the next token and sleeps outside the lock, so
    waiting callers are served in arrival order.
    """

    def __init__(
        self,
        requests_per_second: float,
        burst: int = 1,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(requests_per_second)
        self.burst = burst
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    @classmethod
    def create(cls, spec: RateLimiter | float | Mapping[str, Any] | None) -> RateLimiter | None:
        """A limiter from an instance, a rate, or `{"requests_per_second": x, "burst": n}`."""
        if spec is None or isinstance(spec, RateLimiter):
            return spec
        if isinstance(spec, int | float):
            return cls(spec)
        options = dict(spec)
        return cls(float(options["requests_per_second"]), int(options.get("burst", 1)))

    def acquire(self) -> float:
        """Take one token, sleeping until it is available. Returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1  # may go negative: that is a reservation of a future token
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
