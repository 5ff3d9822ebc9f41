"""Keep secrets out of logs and error messages.

`redact_url` masks sensitive query parameters and drops `user:password@`; a `Redactor`
masks known secret values (tokens, keys, resolved `${VAR}` values) anywhere in a text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "***"

SENSITIVE_PARAMS = frozenset(
    {
        "api_key",
        "token",
        "key",
        "access_token",
        "apikey",
        "api-key",
        "access-token",
        "secret",
        "password",
        "pwd",
        "client_secret",
        "username",
        "client_id",
        "sig",
        "signature",
        "auth",
    }
)
_SENSITIVE_PARTS = ("token", "secret", "password")

# `name=value` pairs in free text (an URL inside an exception message, a form body).
_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&\s#'\"<>,;)]*)")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")

MIN_SECRET_LENGTH = 4


def is_sensitive_param(name: str) -> bool:
    """True for query parameter names whose values must never be shown."""
    lowered = name.lower()
    return lowered in SENSITIVE_PARAMS or any(part in lowered for part in _SENSITIVE_PARTS)


def redact_query(query: str) -> str:
    """Mask the values of sensitive parameters in a query string, keeping everything else."""
    if not query:
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and is_sensitive_param(unquote_plus(name)):
            pair = f"{name}={MASK}"
        parts.append(pair)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """`url` with sensitive query values replaced by *** and any `user:password@` removed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_pairs(url)
    netloc = parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, redact_query(parts.query), parts.fragment))


def _redact_pairs(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        if match.group("value") and is_sensitive_param(match.group("name")):
            return f"{match.group('name')}={MASK}"
        return match.group(0)

    return _PAIR.sub(mask, text)


def redact_text(text: str) -> str:
    """Redact every URL found in `text` and sensitive `name=value` pairs elsewhere."""
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _redact_pairs(text)


class Redactor:
    """Masks known secret values anywhere in a string.

    Values shorter than 4 characters are ignored: masking "a" or "1" would shred every
    message while protecting nothing. URL-encoded forms of each value are masked too, since
    secrets often travel in query strings. Thread-safe.
    """

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._ordered: list[str] = []
        self.add(*values)

    def add(self, *values: str | None) -> None:
        """Remember more secret values (None and short values are skipped)."""
        fresh = set()
        for value in values:
            if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
                continue
            fresh.update({value, quote(value, safe=""), quote_plus(value)})
        with self._lock:
            if fresh - self._values:
                self._values |= fresh
                # Longest first so that a secret containing another is masked whole.
                self._ordered = sorted(self._values, key=len, reverse=True)

    @property
    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)

    def redact(self, text: str) -> str:
        """`text` with known secrets, sensitive query values and URL credentials masked."""
        with self._lock:
            ordered = self._ordered
        for value in ordered:
            if value in text:
                text = text.replace(value, MASK)
        return redact_text(text)

    __call__ = redact


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's final message with a Redactor.

    Installed on urllib3's loggers, whose DEBUG lines print request paths with their query
    strings (API keys included) and which our code does not format itself.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the emitter's problem, not ours
            return True
        record.msg = self.redactor.redact(message)
        record.args = ()
        return True


# Secrets seen by any client in this process, for loggers shared by all of them.
PROCESS_REDACTOR = Redactor()
_LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response")
_installed = False
_install_lock = threading.Lock()


def install_library_log_redaction() -> None:
    """Redact urllib3's log lines with PROCESS_REDACTOR (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        for name in _LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(RedactingFilter(PROCESS_REDACTOR))
        _installed = True
