"""RestClient against real LocalAPI servers: URLs, env refs, retries, actions, origins, logs."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import (
    HTTPConnectionError,
    HTTPStatusError,
    MissingEnvVarError,
    ResponseFormatError,
)
from rest_assets.http.auth import APIKeyAuth, BearerTokenAuth
from rest_assets.http.client import RestClient
from rest_assets.http.env import EnvResolver, references
from rest_assets.http.origins import origin_of
from rest_assets.http.paginators import BasePaginator
from rest_assets.http.request import RequestSpec
from rest_assets.http.retry import RateLimiter, RetryPolicy
from rest_assets.http.urls import join_url

CANARY = "canary-Zq81-secret-value"


class PageParamPaginator(BasePaginator):
    """A tiny page=N paginator, so these tests do not depend on paginators.py details."""

    def __init__(self) -> None:
        super().__init__()
        self.page = 1

    def init_request(self, request: RequestSpec) -> None:
        request.params["page"] = self.page

    def update_state(self, response: requests.Response, body: Any, records: list[Any]) -> None:
        self.has_next_page = bool(body and body.get("more"))

    def update_request(self, request: RequestSpec) -> None:
        self.page += 1
        request.params["page"] = self.page


@pytest.fixture
def servers() -> Iterator[Callable[[], LocalAPI]]:
    started: list[LocalAPI] = []

    def start() -> LocalAPI:
        api = LocalAPI().start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def api(servers: Callable[[], LocalAPI]) -> LocalAPI:
    return servers()


def paged(total_pages: int, per_page: int = 2) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        page = int(request.arg("page", "1") or 1)
        start = (page - 1) * per_page
        records = [{"id": i} for i in range(start, start + per_page)]
        return Response({"data": records, "more": page < total_pages})

    return handler


class Sleeps:
    """An injectable sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fast_retry(attempts: int = 3) -> tuple[RetryPolicy, Sleeps]:
    sleeps = Sleeps()
    return RetryPolicy(max_attempts=attempts, jitter=0, sleep=sleeps), sleeps


def records_of(client: RestClient, path: str = "", **kwargs: Any) -> list[Any]:
    return [record for page in client.paginate(path, **kwargs) for record in page.records]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- URLs and request building -------------------------------------------------------------


def test_join_url_keeps_base_path_and_uses_full_urls_as_is() -> None:
    assert join_url("https://h/api/v2", "users") == "https://h/api/v2/users"
    assert join_url("https://h/api/v2/", "/users") == "https://h/api/v2/users"
    assert join_url("https://h/api/v2", "") == "https://h/api/v2"
    assert join_url("https://h/api", "https://other/x?y=1") == "https://other/x?y=1"
    assert origin_of("https://H.example/x") == ("https", "h.example", 443)
    assert origin_of("http://h:8080/x") == ("http", "h", 8080)


def test_paginates_all_pages_with_base_path(api: LocalAPI) -> None:
    api.route("GET", "/api/v2/users", paged(3))
    client = RestClient(f"{api.url}/api/v2", paginator=PageParamPaginator())

    pages = list(client.paginate("users", resource="users"))

    assert [p.number for p in pages] == [1, 2, 3]
    assert [r["id"] for p in pages for r in p.records] == [0, 1, 2, 3, 4, 5]
    assert [r.arg("page") for r in api.requests_to("/api/v2/users")] == ["1", "2", "3"]
    assert pages[0].request.params["page"] == 1  # a snapshot, not the mutated request
    assert client.stats.pages == 3
    assert client.stats.requests == 3
    assert client.stats.retries == 0
    assert client.stats.bytes == sum(len(p.response.content) for p in pages)


def test_paginator_instance_is_copied_per_call(api: LocalAPI) -> None:
    api.route("GET", "/items", paged(2))
    shared = PageParamPaginator()
    client = RestClient(api.url, paginator=shared)

    first = records_of(client, "items")
    second = records_of(client, "items")

    assert first == second
    assert len(first) == 4
    assert shared.page == 1  # the configured instance never moved


def test_max_pages_stops_early(api: LocalAPI) -> None:
    api.route("GET", "/items", paged(10))
    client = RestClient(api.url, paginator=PageParamPaginator())

    pages = list(client.paginate("items", max_pages=2))

    assert len(pages) == 2
    assert len(api.requests_to("/items")) == 2


def test_full_url_in_path_is_used_as_is(servers: Callable[[], LocalAPI]) -> None:
    base, other = servers(), servers()
    other.route("GET", "/elsewhere", lambda r: Response([{"id": 1}]))
    client = RestClient(f"{base.url}/api", auth=BearerTokenAuth("tok-full-url"))

    assert records_of(client, f"{other.url}/elsewhere?x=1") == [{"id": 1}]
    sent = other.requests_to("/elsewhere")[0]
    assert sent.arg("x") == "1"
    # The configured endpoint URL is configuration, so it gets the credentials.
    assert sent.header("Authorization") == "Bearer tok-full-url"
    assert base.requests == []


def test_post_with_json_body(api: LocalAPI) -> None:
    api.route("POST", "/search", lambda r: Response({"results": [{"q": r.json()["query"]}]}))
    client = RestClient(api.url, env={"QUERY": "shoes"})

    records = records_of(
        client,
        "search",
        method="post",
        json={"query": "${QUERY}", "size": 5},
        paginator={"type": "single_page"},
    )

    assert records == [{"q": "shoes"}]
    sent = api.requests_to("/search", "POST")[0]
    assert sent.json() == {"query": "shoes", "size": 5}
    assert sent.header("Content-Type") == "application/json"


def test_headers_merge_and_env_refs_resolved_at_request_time(api: LocalAPI) -> None:
    api.route("GET", "/things", lambda r: Response([{"ok": True}]))
    env = {"KEY": "key-one", "Q": "red"}
    client = RestClient(
        api.url,
        headers={"X-Version": "1", "X-Key": "${KEY}", "Accept": "application/json"},
        env=env,
    )
    env["KEY"] = "key-two"  # resolved when the request is built, not when configured

    records_of(client, "things", headers={"x-version": "2"}, params={"q": "${Q}", "lit": "$${X}"})

    sent = api.requests_to("/things")[0]
    assert sent.header("X-Version") == "2"
    assert [k for k in sent.headers if k.lower() == "x-version"] == ["x-version"]
    assert sent.header("X-Key") == "key-two"
    assert sent.arg("q") == "red"
    assert sent.arg("lit") == "${X}"


def test_missing_env_var_fails_before_any_request(api: LocalAPI) -> None:
    client = RestClient(api.url, headers={"X-Key": "${NOT_SET_ANYWHERE_123}"}, env={})

    with pytest.raises(MissingEnvVarError) as err:
        list(client.paginate("things"))

    assert err.value.name == "NOT_SET_ANYWHERE_123"
    assert "NOT_SET_ANYWHERE_123" in str(err.value)
    assert "headers.X-Key" in str(err.value)
    assert api.requests == []


def test_env_resolver_functions() -> None:
    env = {"A": "alpha", "B": "beta"}
    assert EnvResolver(env).resolve("${A}-${B}/${A}") == "alpha-beta/alpha"
    assert EnvResolver(env).resolve("cost: $${A} $5") == "cost: ${A} $5"
    assert EnvResolver(env).resolve_deep({"x": ["${A}", {"y": "${B}"}], "n": 3}) == {
        "x": ["alpha", {"y": "beta"}],
        "n": 3,
    }
    assert references({"h": "${A} ${C}", "l": ["${A}"]}) == ["A", "C"]
    resolver = EnvResolver(env)
    resolver.resolve_deep({"k": "${B}"})
    assert resolver.resolved_values == {"beta"}
    with pytest.raises(MissingEnvVarError, match="MISSING_ONE") as err:
        EnvResolver(env).resolve_deep({"auth": {"token": "${MISSING_ONE}"}}, where="client")
    assert "client.auth.token" in str(err.value)


# -- response handling -------------------------------------------------------------------------


def test_response_action_ignore_404_yields_nothing(api: LocalAPI) -> None:
    client = RestClient(api.url, retry=fast_retry()[0])

    pages = list(
        client.paginate("missing", response_actions=[{"status_code": 404, "action": "ignore"}])
    )

    assert pages == []
    assert len(api.requests_to("/missing")) == 1
    with pytest.raises(HTTPStatusError) as err:
        list(client.paginate("missing", resource="gone"))
    assert err.value.status == 404
    assert "after 1 attempt" in str(err.value)  # a 404 is not retried
    assert len(api.requests_to("/missing")) == 2


def test_response_action_ignore_by_content_stops_later_page(api: LocalAPI) -> None:
    def handler(request: Request) -> Response:
        if request.arg("page") == "2":
            return Response({"error": "Page limit reached"}, 400)
        return paged(5)(request)

    api.route("GET", "/items", handler)
    client = RestClient(api.url, paginator=PageParamPaginator())

    pages = list(
        client.paginate(
            "items", response_actions=[{"content": "limit reached", "action": "ignore"}]
        )
    )

    assert [p.number for p in pages] == [1]


def test_callable_response_action_can_replace_the_response(api: LocalAPI) -> None:
    api.route("GET", "/items", lambda r: Response({"data": [{"id": 1, "email": "a@b.c"}]}))
    seen: list[int] = []

    def strip_email(response: requests.Response) -> requests.Response:
        response._content = response.content.replace(b'"email":"a@b.c"', b'"email":null')
        return response

    def observe(response: requests.Response) -> None:
        seen.append(response.status_code)

    client = RestClient(api.url, paginator="single_page")
    records = records_of(
        client, "items", response_actions=[observe, {"status_code": 200, "action": strip_email}]
    )

    assert records == [{"id": 1, "email": None}]
    assert seen == [200]


def test_non_json_body_names_the_content_type(api: LocalAPI) -> None:
    api.route(
        "GET",
        "/page",
        lambda r: Response(b"<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    )
    client = RestClient(api.url)

    with pytest.raises(ResponseFormatError, match="text/html") as err:
        list(client.paginate("page", resource="pages"))
    assert "resource 'pages'" in str(err.value)
    assert "maintenance" not in str(err.value)  # bodies only with show_error_body


def test_auto_detected_paginator_is_logged_once_per_resource(
    api: LocalAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: Request) -> Response:
        if request.arg("page") == "2":
            return Response({"results": [{"id": 2}], "next": None})
        return Response({"results": [{"id": 1}], "next": f"{api.url}/posts?page=2"})

    api.route("GET", "/posts", handler)
    client = RestClient(api.url)
    caplog.set_level(logging.INFO, logger="rest_assets.http")

    first = records_of(client, "posts", resource="posts")
    second = records_of(client, "posts", resource="posts")

    assert first == second == [{"id": 1}, {"id": 2}]
    detections = [r for r in caplog.records if "auto-detected paginator" in r.getMessage()]
    assert len(detections) == 1
    assert "posts" in detections[0].getMessage()
    assert "json_link" in detections[0].getMessage()
    assert detections[0].levelno == logging.WARNING


# -- retries -------------------------------------------------------------------------------------


def test_500_then_recovery(api: LocalAPI) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        return Response({"error": "boom"}, 500) if calls["n"] == 1 else Response([{"id": 1}])

    api.route("GET", "/flaky", handler)
    policy, sleeps = fast_retry()
    client = RestClient(api.url, retry=policy)

    assert records_of(client, "flaky") == [{"id": 1}]
    assert len(api.requests_to("/flaky")) == 2
    assert client.stats.retries == 1
    assert client.stats.requests == 2
    assert sleeps.calls == [0.5]  # backoff_factor * 2**0, no jitter


def test_5xx_forever_names_resource_redacted_url_and_status(api: LocalAPI) -> None:
    api.route("GET", "/issues", lambda r: Response({"error": "down"}, 500))
    policy, sleeps = fast_retry(attempts=5)
    client = RestClient(
        api.url,
        auth=APIKeyAuth(name="api_key", api_key=CANARY, location="query"),
        retry=policy,
    )

    with pytest.raises(HTTPStatusError) as err:
        list(client.paginate("issues", params={"page": 2}, resource="issues"))

    message = str(err.value)
    assert message.startswith(
        f"resource 'issues': GET {api.url}/issues?page=2&api_key=*** failed with status 500"
    )
    assert message.endswith("after 5 attempts")
    assert CANARY not in message and CANARY not in err.value.url
    assert err.value.status == 500
    assert len(api.requests_to("/issues")) == 5
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0]


def test_show_error_body_adds_a_redacted_truncated_body(api: LocalAPI) -> None:
    api.route(
        "GET", "/bad", lambda r: Response({"error": f"bad key {CANARY}", "pad": "x" * 2000}, 400)
    )
    client = RestClient(api.url, auth=BearerTokenAuth(CANARY), show_error_body=True)

    with pytest.raises(HTTPStatusError) as err:
        list(client.paginate("bad"))

    assert "bad key ***" in str(err.value)
    assert CANARY not in str(err.value)
    assert len(str(err.value)) < 800


def test_429_retry_after_is_really_waited(api: LocalAPI) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response({"error": "slow down"}, 429, headers={"Retry-After": "1"})
        return Response({"data": [{"id": 7}]})

    api.route("GET", "/limited", handler)
    waited: list[float] = []

    def real_sleep(seconds: float) -> None:
        waited.append(seconds)
        time.sleep(seconds)

    client = RestClient(api.url, retry=RetryPolicy(sleep=real_sleep))

    assert records_of(client, "limited") == [{"id": 7}]
    assert len(api.requests_to("/limited")) == 2
    assert waited == [1.0]  # the header's value, not the jittered backoff


def test_github_403_rate_limit_waits_until_reset(api: LocalAPI) -> None:
    now = 1_700_000_000.0
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 42)}
            return Response({"message": "API rate limit exceeded"}, 403, headers=headers)
        return Response([{"id": 1}])

    api.route("GET", "/repos", handler)
    sleeps = Sleeps()
    client = RestClient(api.url, retry=RetryPolicy(sleep=sleeps, clock=lambda: now))

    assert records_of(client, "repos") == [{"id": 1}]
    assert sleeps.calls == [42.0]
    assert len(api.requests_to("/repos")) == 2


def test_plain_403_is_not_retried(api: LocalAPI) -> None:
    api.route("GET", "/private", lambda r: Response({"message": "forbidden"}, 403))
    policy, sleeps = fast_retry()
    client = RestClient(api.url, retry=policy)

    with pytest.raises(HTTPStatusError, match="status 403 after 1 attempt"):
        list(client.paginate("private"))
    assert sleeps.calls == []


def test_rate_limit_wait_beyond_max_retry_after_fails_fast(api: LocalAPI) -> None:
    api.route("GET", "/x", lambda r: Response({}, 429, headers={"Retry-After": "7200"}))
    policy, sleeps = fast_retry()
    client = RestClient(api.url, retry=policy)

    with pytest.raises(HTTPStatusError, match="wait 7200 s, more than max_retry_after"):
        list(client.paginate("x", resource="x"))
    assert sleeps.calls == []
    assert len(api.requests) == 1


def test_connection_refused_retries_then_clear_error() -> None:
    port = free_port()
    policy, sleeps = fast_retry(attempts=3)
    client = RestClient(
        f"http://127.0.0.1:{port}",
        auth=APIKeyAuth("api_key", CANARY, "query"),
        retry=policy,
    )

    with pytest.raises(HTTPConnectionError) as err:
        list(client.paginate("issues", resource="issues"))

    message = str(err.value)
    assert message.startswith(f"resource 'issues': GET http://127.0.0.1:{port}/issues")
    assert "after 3 attempts" in message
    assert "ConnectionError" in message
    assert CANARY not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert sleeps.calls == [0.5, 1.0]
    assert client.stats.requests == 3


def test_read_timeout_is_retried(api: LocalAPI) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        return Response([{"id": 1}], delay=3.0 if calls["n"] == 1 else 0.0)

    api.route("GET", "/slow", handler)
    policy, sleeps = fast_retry()
    # a generous timeout: on a loaded machine only the stalled first answer may time out
    client = RestClient(api.url, retry=policy, timeout=1.0)

    assert records_of(client, "slow") == [{"id": 1}]
    assert len(sleeps.calls) >= 1  # the stalled first request was retried ...
    assert calls["n"] == len(sleeps.calls) + 1  # ... and every retry was one more request


# -- origins and secrets -------------------------------------------------------------------------


def link_pair(servers: Callable[[], LocalAPI]) -> tuple[LocalAPI, LocalAPI]:
    """`home` pages 1-2 then links to `foreign` for page 3."""
    home, foreign = servers(), servers()

    def home_handler(request: Request) -> Response:
        if request.arg("page") == "2":
            return Response({"data": [{"id": 2}], "next": f"{foreign.url}/cdn/page3?sig=abc"})
        return Response({"data": [{"id": 1}], "next": f"{home.url}/items?page=2"})

    home.route("GET", "/items", home_handler)
    foreign.route("GET", "/cdn/page3", lambda r: Response({"data": [{"id": 3}], "next": None}))
    return home, foreign


@pytest.mark.parametrize(
    "auth",
    [
        BearerTokenAuth(CANARY),
        APIKeyAuth(name="api_key", api_key=CANARY, location="query"),
        {"type": "api_key", "name": "X-Api-Key", "api_key": "${SECRET}"},
    ],
    ids=["bearer", "api_key-query", "api_key-header-env"],
)
def test_next_link_to_other_origin_gets_no_credentials(
    servers: Callable[[], LocalAPI], auth: Any
) -> None:
    home, foreign = link_pair(servers)
    client = RestClient(
        home.url,
        auth=auth,
        headers={"X-Custom-Token": "${SECRET}", "X-Trace": "yes"},
        paginator={"type": "json_link", "next_url_path": "next"},
        env={"SECRET": CANARY},
    )

    assert [r["id"] for r in records_of(client, "items", params={"token": "${SECRET}"})] == [
        1,
        2,
        3,
    ]

    home_requests = home.requests_to("/items")
    assert len(home_requests) == 2
    for sent in home_requests:
        credentials = [sent.header("Authorization"), sent.arg("api_key"), sent.header("X-Api-Key")]
        assert any(value and CANARY in value for value in credentials)
        assert sent.header("X-Custom-Token") == CANARY
    (away,) = foreign.requests_to("/cdn/page3")
    assert away.header("Authorization") is None
    assert away.header("X-Api-Key") is None
    assert away.header("X-Custom-Token") is None
    assert "api_key" not in away.query and "token" not in away.query
    assert away.arg("sig") == "abc"
    assert away.header("X-Trace") == "yes"
    assert CANARY not in repr(away)


def test_redirect_to_other_origin_drops_credentials(servers: Callable[[], LocalAPI]) -> None:
    home, foreign = servers(), servers()
    home.route(
        "GET", "/export", lambda r: Response({}, 302, headers={"Location": f"{foreign.url}/blob"})
    )
    foreign.route("GET", "/blob", lambda r: Response([{"id": 1}]))
    client = RestClient(home.url, auth=BearerTokenAuth(CANARY))

    assert records_of(client, "export") == [{"id": 1}]
    assert home.requests_to("/export")[0].header("Authorization") == f"Bearer {CANARY}"
    assert foreign.requests_to("/blob")[0].header("Authorization") is None


def test_canary_secret_never_in_logs_or_errors(
    api: LocalAPI, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response({"data": [{"id": 1}], "more": True})
        return Response({"error": f"echo {request.arg('api_key')}"}, 503)

    api.route("GET", "/issues", handler)
    caplog.set_level(logging.DEBUG)  # root: urllib3's request lines included
    policy, _ = fast_retry(attempts=2)
    client = RestClient(
        api.url,
        auth={"type": "api_key", "name": "api_key", "api_key": "${API_KEY}", "location": "query"},
        headers={"X-Other": "${OTHER}"},
        paginator=PageParamPaginator(),
        retry=policy,
        env={"API_KEY": CANARY, "OTHER": "other-secret-9f3"},
        show_error_body=True,
    )

    with pytest.raises(HTTPStatusError) as err:
        list(client.paginate("issues", resource="issues"))

    assert api.requests_to("/issues")[0].arg("api_key") == CANARY  # it was really sent
    debug_lines = [
        r.getMessage() for r in caplog.records if r.name == "rest_assets.http" and r.levelno == 10
    ]
    assert len(debug_lines) == 3
    assert "GET" in debug_lines[0] and "api_key=***" in debug_lines[0]
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    assert CANARY not in caplog.text
    assert "other-secret-9f3" not in caplog.text
    assert CANARY not in str(err.value) and CANARY not in err.value.url
    assert "echo ***" in str(err.value)


def test_rate_limiter_shared_across_threads_and_clients(servers: Callable[[], LocalAPI]) -> None:
    api = servers()
    api.route("GET", "/tick", lambda r: Response([{"ok": 1}]))
    limiter = RateLimiter(requests_per_second=20)
    clients = [RestClient(api.url, rate_limit=limiter) for _ in range(2)]
    per_thread = 5

    def work(client: RestClient) -> None:
        for _ in range(per_thread):
            records_of(client, "tick")

    threads = [threading.Thread(target=work, args=(c,)) for c in clients for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    total = len(threads) * per_thread
    assert len(api.requests_to("/tick")) == total
    assert sum(c.stats.requests for c in clients) == total
    # 20 requests through a 20/s bucket of burst 1 need at least 19 intervals of 50 ms.
    assert elapsed >= (total - 1) / 20


def test_env_ref_in_base_url(api: LocalAPI) -> None:
    api.route("GET", "/v3/items", lambda r: Response([{"id": 1}]))
    client = RestClient(
        "${API_BASE}/v3",
        auth=BearerTokenAuth("${TOKEN}"),
        env={"API_BASE": api.url, "TOKEN": "env-token-1"},
    )

    assert records_of(client, "items") == [{"id": 1}]
    assert api.requests_to("/v3/items")[0].header("Authorization") == "Bearer env-token-1"
    # The resolved base URL is a location, not a secret; the token is a secret.
    assert client.redact(f"{api.url}/v3 env-token-1") == f"{api.url}/v3 ***"
