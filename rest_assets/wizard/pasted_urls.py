"""Credentials inside a pasted URL: `user:password@`, or `?api_key=<literal>`.

A URL copied from a browser or an API's docs often carries its key. `add` refuses such a
URL as it refuses `--token` (the value sits in the shell history and would be written to
sources.yml); `inspect` still fetches it (the request is the user's own), but the resource
it prints takes the key from a `${VAR}` reference and never shows the userinfo.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rest_assets.config.references import REFERENCE
from rest_assets.http.sensitive import is_sensitive_name
from rest_assets.wizard.errors import WizardError

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")


def _literal(value: str) -> bool:
    return bool(value) and not REFERENCE.fullmatch(value.strip())


def url_credentials(url: str) -> list[str]:
    """What in `url` is a credential, described without its value (empty: nothing)."""
    try:
        parts = urlsplit(url)
        has_userinfo = parts.username is not None or parts.password is not None
    except ValueError:
        return []
    found = ["its user:password@"] if has_userinfo and _literal(parts.password or "x") else []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if is_sensitive_name(name) and _literal(value):
            found.append(f"the query parameter {name}=***")
    return found


def refuse_url_credentials(url: str, flag: str) -> None:
    """Raise a WizardError when `url` (given as `flag`) holds a literal credential."""
    found = url_credentials(url)
    if not found:
        return
    raise WizardError(
        f"refusing {flag}: {' and '.join(found)} would be written to sources.yml (and is in "
        "your shell history). Export the secret and pass it by name: --param NAME='${MY_VAR}' "
        "(single quotes), --auth-type api_key --token-env MY_VAR, or --auth-type http_basic "
        "--username-env USER_VAR --password-env PASSWORD_VAR"
    )


def without_credentials(url: str) -> tuple[str, dict[str, str], list[str]]:
    """`url` without its userinfo and literal credential parameters; those parameters as
    `${NAME}` references (to put in `params`), and notes saying what was done."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, {}, []
    notes: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
        notes.append(
            "the URL's user:password@ is not written; give the credentials as auth: "
            "{type: http_basic, username: ${MY_USER}, password: ${MY_PASSWORD}}"
        )
    kept: list[tuple[str, str]] = []
    references: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if is_sensitive_name(name) and _literal(value):
            variable = _NOT_NAME.sub("_", name).strip("_").upper() or "API_KEY"
            references[name] = f"${{{variable}}}"
            notes.append(f"the URL's {name} is written as ${{{variable}}}: export {variable}")
        else:
            kept.append((name, value))
    if not notes:
        return url, {}, []
    clean = urlunsplit(parts._replace(netloc=netloc, query=urlencode(kept)))
    return clean, references, notes
