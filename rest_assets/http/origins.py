"""Origin trust: credentials go only to the origins the configuration names.

An origin is (scheme, host, port). The base URL's origin is trusted, and so is that of a
full URL given as an endpoint path (that is configuration too). A request to any other
origin (a next-page link or a redirect to a CDN) is sent without auth, without headers or
parameters whose names are sensitive (`rest_assets.http.sensitive`), and without any
header, parameter or query value that holds a secret the client knows of.

A URL's origin is the one it is sent to: `urlsplit` and urllib3 read some URLs differently
(`http://evil:1\\@trusted:2/p` is `trusted` to urlsplit, while requests sends it to `evil`),
so a URL is trusted only when both readings name the same trusted origin. A full URL that was
filled in from data (`path: '{resources.items.url}'`) is not configuration: only the base
URL's origin is trusted for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import requests.auth
import requests.models
from requests.exceptions import RequestException
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from rest_assets.http.redact import Redactor
from rest_assets.http.sensitive import is_sensitive_name
from rest_assets.http.urls import is_absolute_url

Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of `url`, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def sent_origin(url: str) -> Origin | None:
    """(scheme, host, port) of `url` as requests prepares it and urllib3 connects to it;
    None when requests would refuse the URL."""
    try:
        prepared = requests.models.PreparedRequest()
        prepared.prepare_url(url, None)
        parts = parse_url(prepared.url or "")
    except (RequestException, LocationParseError, ValueError):
        return None
    scheme = (parts.scheme or "").lower()
    port = parts.port if parts.port is not None else {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.host or "").lower(), port


def trusted_origins(
    base_url: str | None, path: str, url: str, path_is_config: bool = True
) -> frozenset[Origin]:
    """The origins credentials may go to, from the resolved base URL (None: the client has
    none), the resolved endpoint path and the request URL. `path_is_config` False: the path
    was filled in from data, so a full URL there trusts nothing."""
    trusted: set[Origin] = set()
    if base_url is not None:
        trusted.add(origin_of(base_url))
    if path_is_config and (is_absolute_url(path) or not trusted):
        # A full URL given as the endpoint path is configuration too, hence trusted.
        trusted.add(origin_of(url))
    return frozenset(trusted)


def _same_origin(split: Origin, sent: Origin | None) -> bool:
    """Whether urlsplit's reading and the origin actually sent agree (requests sends an
    international host name IDNA-encoded)."""
    if sent is None or (split[0], split[2]) != (sent[0], sent[2]):
        return False
    if split[1] == sent[1]:
        return True
    try:
        return split[1].encode("idna").decode("ascii") == sent[1]
    except UnicodeError:
        return False


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


# Sent to foreign origins: an explicit no-op auth keeps a session-level auth from being merged.
NO_AUTH: requests.auth.AuthBase = _NoAuth()

# A header value of None removes a header the session itself would add (requests' merge rule).
StrippedHeaders = dict[str, str | None]


class OriginRules:
    """Decides, per hop, whether a URL may see the credentials, and strips them when not."""

    def __init__(
        self,
        trusted: Collection[Origin],
        session_headers: Iterable[str],
        redactor: Redactor,
    ) -> None:
        self.trusted = frozenset(trusted)
        self._session_headers = list(session_headers)
        self._redactor = redactor

    def is_trusted(self, url: str) -> bool:
        """Whether `url`'s origin may receive auth and sensitive headers: the origin it is
        sent to is trusted, and every reading of the URL agrees on it."""
        origin = origin_of(url)
        return origin in self.trusted and _same_origin(origin, sent_origin(url))

    def strip(
        self, headers: Mapping[str, str | None], params: Mapping[str, Any], url: str
    ) -> tuple[StrippedHeaders, dict[str, Any], str]:
        """Headers, params and URL for a foreign origin: no credentials, no known secrets.

        The URL's own query (a next link as the API wrote it) keeps every pair whose value
        is not a known secret: the link's parameters are the API's, not ours.
        """
        secrets = self._redactor.values

        def leaks(value: Any) -> bool:
            text = str(value)
            return any(secret in text for secret in secrets)

        safe_headers: StrippedHeaders = {
            name: value
            for name, value in headers.items()
            if not is_sensitive_name(name) and not leaks(value)
        }
        for name in self._session_headers:
            if is_sensitive_name(name) and name not in safe_headers:
                safe_headers[name] = None
        safe_params = {
            name: value
            for name, value in params.items()
            if not is_sensitive_name(name) and not leaks(value)
        }
        parts = urlsplit(url)
        if parts.query and secrets:
            query = [
                (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not leaks(v)
            ]
            url = urlunsplit(parts._replace(query=urlencode(query)))
        return safe_headers, safe_params, url
