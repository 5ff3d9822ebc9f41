"""Redaction of URLs, known secret values and library log lines."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from rest_assets.http.redact import (
    PROCESS_REDACTOR,
    Redactor,
    install_library_log_redaction,
    redact_text,
    redact_url,
)
from rest_assets.http.sensitive import is_sensitive_name


@pytest.mark.parametrize(
    "name",
    [
        "api_key", "token", "key", "access_token", "apikey", "api-key", "access-token",
        "secret", "password", "pwd", "client_secret", "username", "client_id", "sig",
        "signature", "auth", "API_KEY", "refresh_token", "x_secret_value", "db_password",
    ],
)  # fmt: skip
def test_sensitive_param_names(name: str) -> None:
    assert is_sensitive_name(name)
    assert redact_url(f"https://h/p?{name}=VALUE1&page=2") == f"https://h/p?{name}=***&page=2"


@pytest.mark.parametrize("name", ["page", "per_page", "q", "limit", "cursor", "monkey"])
def test_ordinary_params_are_kept(name: str) -> None:
    assert not is_sensitive_name(name)
    assert redact_url(f"https://h/p?{name}=v") == f"https://h/p?{name}=v"


def test_redact_url_strips_userinfo_and_keeps_shape() -> None:
    url = "https://user:pa55@api.example.com:8443/v1/items?page=2&api_key=abc&q=a%20b#frag"
    assert (
        redact_url(url) == "https://api.example.com:8443/v1/items?page=2&api_key=***&q=a%20b#frag"
    )
    assert redact_url("https://h/p") == "https://h/p"
    assert redact_url("https://h/p?token=") == "https://h/p?token="  # nothing to hide
    assert redact_url("https://h/p?Api%5FKey=zz") == "https://h/p?Api%5FKey=***"


def test_redact_text_finds_urls_and_pairs_inside_messages() -> None:
    message = (
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        "/issues?page=2&api_key=abc123 (Caused by NewConnectionError) at http://u:p@h/x?token=t1"
    )
    redacted = redact_text(message)
    assert "abc123" not in redacted and "t1" not in redacted and "u:p@" not in redacted
    assert "/issues?page=2&api_key=***" in redacted
    assert "http://h/x?token=***" in redacted


def test_redactor_masks_known_values_everywhere() -> None:
    redactor = Redactor(["tok+en/with=chars", "abc", None, "long-secret-value"])
    text = (
        "Authorization: Bearer long-secret-value; url=?x="
        + quote("tok+en/with=chars", safe="")
        + " raw tok+en/with=chars; abc stays"
    )
    redacted = redactor.redact(text)
    assert "long-secret-value" not in redacted
    assert "tok+en" not in redacted and "tok%2Ben" not in redacted
    assert "abc stays" in redacted  # shorter than 4 characters: ignored
    assert redacted.count("***") == 3


def test_redactor_masks_longest_value_first() -> None:
    redactor = Redactor(["secret", "secret-plus-more"])
    assert redactor.redact("v=secret-plus-more") == "v=***"
    redactor.add("later-added")
    assert redactor.redact("x later-added y") == "x *** y"
    assert "later-added" in redactor.values


def test_library_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_library_log_redaction()
    install_library_log_redaction()  # idempotent
    PROCESS_REDACTOR.add("plain-known-value-77")
    log = logging.getLogger("urllib3.connectionpool")
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")

    log.debug(
        '%s://%s:%s "%s %s %s" %s', "http", "h", 80, "GET", "/a?api_key=k9k9", "HTTP/1.1", 200
    )
    log.debug("header %s", "plain-known-value-77")

    assert "k9k9" not in caplog.text
    assert "/a?api_key=***" in caplog.text
    assert "plain-known-value-77" not in caplog.text
    filters = logging.getLogger("urllib3.connectionpool").filters
    assert sum(type(f).__name__ == "RedactingFilter" for f in filters) == 1
