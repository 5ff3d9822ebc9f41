"""URLs: joining an endpoint path to the base URL, and showing a request's URL in messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from rest_assets.errors import ConfigError
from rest_assets.http.redact import redact_url


def is_absolute_url(path: str) -> bool:
    """True for `http(s)://host/...` (used as is instead of being joined to base_url)."""
    parts = urlsplit(path)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def join_url(base_url: str, path: str) -> str:
    """`base_url` + `path` keeping the base path: ("https://h/api/v2", "users") -> .../v2/users.

    A full URL in `path` is returned unchanged.
    """
    if is_absolute_url(path):
        return path
    if not path:
        return base_url
    if not base_url:
        raise ConfigError(f"path {path!r} is relative but the client has no base_url")
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def shown_url(url: str, params: Mapping[str, Any], redact: Callable[[str], str]) -> str:
    """`url` with `params` appended as they will be sent, redacted for a message."""
    if params:
        pairs = [(k, v) for k, v in params.items() if v is not None]
        separator = "&" if urlsplit(url).query else "?"
        url = f"{url}{separator}{urlencode(pairs, doseq=True)}" if pairs else url
    return redact(redact_url(url))
