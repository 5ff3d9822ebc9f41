"""What a requests.Session needs from us: wider connection pools, environment settings read once."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from rest_assets.http.origins import Origin, origin_of


def widen_pool(session: requests.Session, width: int) -> None:
    """Let `session` keep `width` connections per host (requests keeps 10 by default)."""
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, HTTPAdapter) and getattr(adapter, "_pool_maxsize", 0) < width:
            session.mount(
                prefix,
                HTTPAdapter(
                    pool_connections=getattr(adapter, "_pool_connections", 10),
                    pool_maxsize=width,
                    max_retries=adapter.max_retries,
                ),
            )


class EnvironmentSettings:
    """requests' proxy / CA-bundle settings from the environment, read once per origin.

    requests re-reads proxies and CA bundles from os.environ on every request (~0.5 ms,
    0.6 s per 1,000 pages on the bench); these do not change while a client runs, so they
    are read once per origin and session settings.
    """

    def __init__(self, session: requests.Session) -> None:
        self._session = session
        self._found: dict[tuple[Origin, bool, str, str, str], dict[str, Any]] = {}

    def for_url(self, url: str) -> dict[str, Any]:
        """The keyword arguments `session.send` takes for `url` (a fresh dict)."""
        session = self._session
        key = (
            origin_of(url),
            session.trust_env,
            repr(session.proxies),
            repr(session.verify),
            repr(session.cert),
        )
        found = self._found.get(key)
        if found is None:
            found = dict(session.merge_environment_settings(url, {}, None, None, None))
            self._found[key] = found
        return dict(found)
