"""Which header and parameter names hold credentials: the one policy for the whole package.

Used to mask query values in logs and errors (`redact`), to strip headers and parameters
from a request that goes to another origin (`origins`), and by the wizard to refuse a
literal value where a `${VAR}` reference belongs. One rule for all three, so a name masked
in a log line is also a name never sent to a foreign host.

A name is sensitive when
- it contains a credential word anywhere (`x_auth_token`, `Authorization`, `db_password`),
- one of its words is a short credential word (`api_key`, `X-Api-Key`, `apiKey`, `sig`),
  where words are split at separators and camelCase humps: `monkey` is not a key,
- or it is, once separators are dropped, a known credential name (`client_id`, `username`),
  or ends like one (`XAPIKEY`).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Sensitive wherever they appear inside a name.
CREDENTIAL_PARTS: tuple[str, ...] = (
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
    "signature",
    "session",
    "cookie",
)
# Sensitive as a word of the name only ("key" inside "monkey" is no key).
CREDENTIAL_WORDS = frozenset({"key", "apikey", "sig", "pwd"})
# Sensitive as the whole name, compared without separators or case.
CREDENTIAL_NAMES = frozenset({"clientid", "username"})
# Sensitive as the end of the whole name without separators (XAPIKEY, x-accesskey).
CREDENTIAL_ENDINGS: tuple[str, ...] = ("apikey", "accesskey", "privatekey")

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=4096)
def is_sensitive_name(name: str) -> bool:
    """True when a header or parameter called `name` may carry a credential."""
    lowered = name.lower()
    if any(part in lowered for part in CREDENTIAL_PARTS):
        return True
    words = _SEPARATORS.split(_HUMP.sub("_", name).lower())
    if any(word in CREDENTIAL_WORDS for word in words):
        return True
    compact = "".join(words)
    return compact in CREDENTIAL_NAMES or compact.endswith(CREDENTIAL_ENDINGS)
