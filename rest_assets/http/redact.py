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

from rest_assets.http.sensitive import is_sensitive_name

MASK = "***"

# `name=value` pairs in free text (an URL inside an exception message, a form body).
_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&\s#'\"<>,;)]*)")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")

MIN_SECRET_LENGTH = 4


def redact_query(query: str) -> str:
    """Mask the values of sensitive parameters in a query string, keeping everything else."""
    if not query:
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and is_sensitive_name(unquote_plus(name)):
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
        if match.group("value") and is_sensitive_name(match.group("name")):
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
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response")
_install_lock = threading.Lock()


def remember_secrets(redactor: Redactor, values: Iterable[str | None]) -> None:
    """Add `values` to `redactor` and to PROCESS_REDACTOR (which urllib3's lines go through)."""
    fresh = list(values)
    if fresh:
        redactor.add(*fresh)
        PROCESS_REDACTOR.add(*fresh)


def install_library_log_redaction() -> None:
    """Redact the log lines of urllib3 with PROCESS_REDACTOR: one filter per logger, ever.

    urllib3 logs request lines (path and query, API keys included) at DEBUG through its own
    loggers, which our code does not format. Every RestClient calls this when it is built;
    a logger that already carries the filter is left alone, so any number of clients (or
    calls) leave exactly one filter on each of LIBRARY_LOGGERS. The filter only rewrites
    messages; it never drops a record.
    """
    with _install_lock:
        for name in LIBRARY_LOGGERS:
            library_logger = logging.getLogger(name)
            if not any(_is_process_filter(f) for f in library_logger.filters):
                library_logger.addFilter(RedactingFilter(PROCESS_REDACTOR))


def _is_process_filter(candidate: object) -> bool:
    return isinstance(candidate, RedactingFilter) and candidate.redactor is PROCESS_REDACTOR
