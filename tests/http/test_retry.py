"""RetryPolicy decisions on real responses, and the RateLimiter token bucket."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
import requests

from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.http.retry import RateLimiter, RetryPolicy, TooLongWait

NOW = 1_700_000_000.0


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with LocalAPI() as server:

        def echo(request: Request) -> Response:
            # /status/<code>?h=Name:Value&h=... answers with that status and those headers.
            code = int(request.path.rsplit("/", 1)[1])
            headers = dict(item.split(":", 1) for item in request.query.get("h", []))
            return Response({}, code, headers=headers)

        server.route("GET", "/status/", echo, prefix=True)
        yield server


def response(api: LocalAPI, status: int, **headers: str) -> requests.Response:
    params = [("h", f"{name.replace('_', '-')}:{value}") for name, value in headers.items()]
    return requests.get(f"{api.url}/status/{status}", params=params, timeout=5)


def policy(**kwargs: object) -> RetryPolicy:
    return RetryPolicy(clock=lambda: NOW, jitter=0, **kwargs)  # type: ignore[arg-type]


def test_backoff_is_exponential_and_capped() -> None:
    p = RetryPolicy(backoff_factor=0.5, max_backoff=3, jitter=0)
    assert [p.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_jitter_stays_within_bounds() -> None:
    p = RetryPolicy(backoff_factor=1, max_backoff=100, jitter=0.5)
    delays = [p.backoff(3) for _ in range(200)]
    assert all(4.0 <= d <= 6.0 for d in delays)
    assert len(set(delays)) > 1


def test_retryable_statuses(api: LocalAPI) -> None:
    p = policy()
    for status in (429, 500, 502, 503, 504):
        assert p.should_retry_response(response(api, status))
    for status in (400, 401, 403, 404, 422):
        assert not p.should_retry_response(response(api, status))
    assert policy(retry_statuses={418}).should_retry_response(response(api, 418))


def test_retry_after_seconds_and_http_date(api: LocalAPI) -> None:
    p = policy()
    assert p.delay(1, response(api, 429, retry_after="3")) == 3.0
    date = formatdate(NOW + 20, usegmt=True)
    assert p.delay(1, response(api, 503, retry_after=date)) == pytest.approx(20.0)
    past = formatdate(NOW - 20, usegmt=True)
    assert p.delay(1, response(api, 503, retry_after=past)) == 0.0
    # An unparseable value falls back to backoff.
    assert p.delay(2, response(api, 503, retry_after="soon")) == 1.0


def test_rate_limit_reset_headers(api: LocalAPI) -> None:
    p = policy()
    epoch = response(api, 429, x_ratelimit_reset=str(int(NOW) + 15))
    assert p.delay(1, epoch) == 15.0
    delta = response(api, 429, ratelimit_reset="7")
    assert p.delay(1, delta) == 7.0
    # A reset header on a successful, non-exhausted response is no reason to wait.
    assert p.server_wait(response(api, 200, x_ratelimit_reset=str(int(NOW) + 15))) is None


def test_github_403_rate_limit_is_retried_until_reset(api: LocalAPI) -> None:
    p = policy()
    limited = response(api, 403, x_ratelimit_remaining="0", x_ratelimit_reset=str(int(NOW) + 60))
    assert p.should_retry_response(limited)
    assert p.delay(1, limited) == 60.0
    secondary = response(api, 403, retry_after="30")
    assert p.should_retry_response(secondary)
    assert not p.should_retry_response(response(api, 403, x_ratelimit_remaining="12"))


def test_too_long_server_wait_raises(api: LocalAPI) -> None:
    with pytest.raises(TooLongWait) as err:
        policy(max_retry_after=60).delay(1, response(api, 429, retry_after="3600"))
    assert err.value.seconds == 3600


def test_connection_errors_and_timeouts_are_retryable() -> None:
    p = RetryPolicy()
    assert p.should_retry_exception(requests.ConnectionError("refused"))
    assert p.should_retry_exception(requests.ReadTimeout("slow"))
    assert not p.should_retry_exception(requests.exceptions.InvalidURL("bad"))
    assert not RetryPolicy(retry_connection_errors=False).should_retry_exception(
        requests.ConnectionError("refused")
    )


def test_create_from_config_values() -> None:
    assert RetryPolicy.create(None) == RetryPolicy()
    assert RetryPolicy.create(False).max_attempts == 1
    assert RetryPolicy.create(3).max_attempts == 3
    connector = RetryPolicy.create({"max_retries": 3, "retry_on": [429, 503]})
    assert connector.max_attempts == 4
    assert connector.retry_statuses == frozenset({429, 503})
    with pytest.raises(ValueError, match="unknown retry option"):
        RetryPolicy.create({"retries": 2})
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_requests() -> None:
    fake = FakeTime()
    limiter = RateLimiter(4, sleep=fake.sleep, clock=fake.clock)

    waits = [limiter.acquire() for _ in range(5)]

    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25]
    fake.now += 10  # idle time refills only up to the burst size
    assert [limiter.acquire() for _ in range(2)] == [0.0, 0.25]


def test_rate_limiter_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, burst=3, sleep=fake.sleep, clock=fake.clock)
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_rate_limiter_reserves_slots_for_concurrent_callers() -> None:
    limiter = RateLimiter(50)
    waits: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def take() -> None:
        barrier.wait()
        waited = limiter.acquire()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=take) for _ in range(10)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Ten callers at once through a 50/s bucket of burst 1: nine 20 ms intervals at least,
    # and every caller got its own slot (no two waited for the same token).
    assert time.monotonic() - started >= 9 / 50
    ordered = sorted(waits)
    assert ordered[0] == 0.0
    assert all(later > earlier for earlier, later in itertools.pairwise(ordered))


def test_rate_limiter_create() -> None:
    assert RateLimiter.create(None) is None
    shared = RateLimiter(5)
    assert RateLimiter.create(shared) is shared
    assert RateLimiter.create(10).rate == 10
    assert RateLimiter.create({"requests_per_second": 3, "burst": 2}).burst == 2
    with pytest.raises(ValueError):
        RateLimiter(0)
