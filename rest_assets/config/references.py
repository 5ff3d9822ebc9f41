"""The grammar of environment references in configs: `${NAME}` and `${NAME:-default}`.

Configs keep references as written; the HTTP layer resolves them when a request is built
(rest_assets.http.env). The grammar lives here, below both, so that dialects can write
references and the loader can list the names a source needs without importing HTTP code.

`$${` is an escape for a literal `${`. Names follow shell rules: letters, digits,
underscore, not starting with a digit. `${NAME:-text}` gives `text` when NAME is unset or
empty, as in a shell; the default cannot hold `}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# One alternation so that an escape is consumed before it can start a reference.
REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def env_reference(name: str, default: str | None = None) -> str:
    """The reference text for `name`: `${NAME}`, or `${NAME:-default}`."""
    if not NAME.match(name):
        raise ValueError(f"{name!r} is not a variable name (letters, digits, underscores)")
    if default is None:
        return f"${{{name}}}"
    if "}" in default:
        raise ValueError(f"the default of {name} cannot contain '}}' (got {default!r})")
    return f"${{{name}:-{default}}}"


def escape_literal(text: str) -> str:
    """`text` with every `${` escaped, so that it is never read as a reference."""
    return text.replace("${", "$${")


def reference_names(value: Any) -> list[str]:
    """Names referenced in `value` (a string, or any nesting of dicts/lists), in order."""
    names: list[str] = []
    _collect(value, names)
    return names


def _collect(value: Any, names: list[str]) -> None:
    if isinstance(value, str):
        if "${" not in value:
            return
        for match in REFERENCE.finditer(value):
            name = match.group(1)
            if name and name not in names:
                names.append(name)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, names)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, names)
