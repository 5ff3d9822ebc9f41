"""One sensitive-name policy: a name masked in logs is a name never sent to another origin.

Two real LocalAPI servers on loopback, on different ports: `home` is the configured origin,
`foreign` another one that a next-page link points to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from rest_assets.demo.server import LocalAPI, Response
from rest_assets.http.client import RestClient
from rest_assets.http.redact import LIBRARY_LOGGERS, RedactingFilter, redact_url
from rest_assets.http.sensitive import is_sensitive_name
from rest_assets.wizard import WizardError, check_no_literal_secrets

LITERAL = "literal-Kq27-not-a-reference"


@pytest.fixture
def home() -> Iterator[LocalAPI]:
    with LocalAPI() as api:
        yield api


@pytest.fixture
def foreign() -> Iterator[LocalAPI]:
    with LocalAPI() as api:
        yield api


def test_literal_x_auth_token_is_masked_in_logs_and_never_sent_to_another_origin(
    home: LocalAPI, foreign: LocalAPI, caplog: pytest.LogCaptureFixture
) -> None:
    assert home.port != foreign.port
    home.route(
        "GET",
        "/items",
        lambda r: Response({"data": [{"id": 1}], "next": f"{foreign.url}/cdn/page2"}),
    )
    foreign.route("GET", "/cdn/page2", lambda r: Response({"data": [{"id": 2}], "next": None}))
    client = RestClient(
        home.url, headers={"x_auth_token": LITERAL, "X-Trace": "yes"}, paginator="json_link"
    )
    caplog.set_level(logging.DEBUG, logger="rest_assets.http")

    pages = client.paginate("items", params={"x_auth_token": LITERAL, "page_size": 2})

    assert [r["id"] for page in pages for r in page.records] == [1, 2]
    (sent,) = home.requests_to("/items")
    assert sent.header("x_auth_token") == LITERAL and sent.arg("x_auth_token") == LITERAL
    (away,) = foreign.requests_to("/cdn/page2")
    assert away.header("x_auth_token") is None
    assert "x_auth_token" not in away.query
    assert LITERAL not in repr(away)
    assert away.arg("page_size") == "2" and away.header("X-Trace") == "yes"
    # the same name is masked in the log lines, by the same policy
    assert LITERAL not in caplog.text
    assert "x_auth_token=***" in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        "x_auth_token", "X-Auth-Token", "Authorization", "X-Api-Key", "apiKey", "XAPIKEY",
        "api_key", "sig", "client_id", "username", "db_password", "passwd", "Cookie",
        "X-Session-Id", "x-amz-signature", "credentials",
    ],
)  # fmt: skip
def test_one_policy_for_logs_foreign_origins_and_the_wizard(name: str) -> None:
    assert is_sensitive_name(name)
    assert redact_url(f"https://h/p?{name}=VALUE1&page=2") == f"https://h/p?{name}=***&page=2"
    with pytest.raises(WizardError, match="credential"):
        check_no_literal_secrets({name: "VALUE1"}, {})
    with pytest.raises(WizardError, match="credential"):
        check_no_literal_secrets({}, {name: "VALUE1"})
    check_no_literal_secrets({name: "${MY_VAR}"}, {name: "${MY_VAR}"})  # a reference is fine


@pytest.mark.parametrize("name", ["page", "per_page", "cursor", "monkey", "X-Trace", "keyword"])
def test_ordinary_names_pass_everywhere(name: str) -> None:
    assert not is_sensitive_name(name)
    check_no_literal_secrets({name: "v"}, {name: "v"})


def test_clients_never_stack_filters_on_urllib3_loggers() -> None:
    def filters(name: str) -> int:
        return sum(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters)

    RestClient("http://127.0.0.1:1").close()
    RestClient("http://127.0.0.1:1").close()
    assert all(filters(name) == 1 for name in LIBRARY_LOGGERS)

    # The installation looks at the loggers themselves, not at a flag: a filter removed
    # (say by a logging reconfiguration) is put back once, by the next client.
    pool = logging.getLogger("urllib3.connectionpool")
    for found in [f for f in pool.filters if isinstance(f, RedactingFilter)]:
        pool.removeFilter(found)
    assert filters("urllib3.connectionpool") == 0
    RestClient("http://127.0.0.1:1").close()
    RestClient("http://127.0.0.1:1").close()
    assert all(filters(name) == 1 for name in LIBRARY_LOGGERS)
