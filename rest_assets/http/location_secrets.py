"""Secrets that travel inside a URL: userinfo, and `${VAR}` values in its path or query.

`https://bob:pw@host/` makes requests send `Authorization: Basic <base64 bob:pw>`; a bot
token written `https://api.host/bot${TOKEN}/` is a credential in the path (webhook style).
Both are masked like any other secret: the password, the base64 pair, and every value a
`${VAR}` brings to the URL after its host. A reference that forms the scheme or host
(`base_url: ${API_URL}`, `https://${HOST}/v1`) is a location, not a secret, and stays
readable in messages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from rest_assets.config.references import REFERENCE
from rest_assets.errors import MissingEnvVarError
from rest_assets.http.env import EnvResolver
from rest_assets.http.urls import is_absolute_url


def userinfo_secrets(url: str) -> list[str]:
    """The credentials of a URL's `user:password@`: the password (as written and decoded)
    and the Basic pair requests makes of it; the user name alone when there is no password."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return []
    if not username and not password:
        return []
    user, secret = unquote(username or ""), unquote(password or "")
    if not secret:
        return [v for v in {username or "", user} if v]
    pair = base64.b64encode(f"{user}:{secret}".encode("latin-1", "replace")).decode("ascii")
    return [v for v in {password or "", secret, pair} if v]


def location_secrets(templates: Iterable[str], env: Mapping[str, str] | None) -> list[str]:
    """Secrets in URLs as configured (the base URL, an endpoint path): the values of their
    `${VAR}`s past the host (every one, in a path joined to the base URL) and userinfo."""
    resolver = EnvResolver(env)
    found: list[str] = []
    for template in templates:
        if not template or ("${" not in template and "@" not in template):
            continue
        text = ""
        position = 0
        values: list[tuple[str, str]] = []  # (the URL before the reference, its value)
        for match in REFERENCE.finditer(template):
            text += template[position : match.start()]
            position = match.end()
            if match.group(1) is None:  # `$${`: a literal `${`
                text += "${"
                continue
            try:
                value = resolver.resolve(match.group(0))
            except MissingEnvVarError:
                continue  # the request fails naming it; nothing to mask yet
            values.append((text, value))
            text += value
        text += template[position:]
        absolute = is_absolute_url(text)
        found.extend(value for before, value in values if not absolute or _past_host(before))
        found.extend(userinfo_secrets(text))
    return found


def _past_host(prefix: str) -> bool:
    """Whether text after `prefix` (the start of a URL) lies past the scheme and host."""
    scheme, sep, rest = prefix.partition("://")
    if not sep:
        rest = scheme
        if not rest:
            return False
    return any(mark in rest for mark in "/?#")
