"""`${VAR}` references: kept as text in configs and resolved only when a request is built.

`$${` is an escape for a literal `${`. Names follow shell rules: letters, digits, underscore,
not starting with a digit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from rest_assets.errors import MissingEnvVarError

# One alternation so that an escape is consumed before it can start a reference.
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def has_references(value: Any) -> bool:
    """True when `value` (a string, or any nesting of dicts/lists) holds a `${VAR}`."""
    return bool(references(value))


def references(value: Any) -> list[str]:
    """Names of the variables referenced in `value`, in order of first appearance."""
    names: list[str] = []
    _collect(value, names)
    return names


def _collect(value: Any, names: list[str]) -> None:
    if isinstance(value, str):
        for match in _REFERENCE.finditer(value):
            name = match.group(1)
            if name and name not in names:
                names.append(name)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, names)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, names)


class EnvResolver:
    """Resolves `${VAR}` from `env` (default: os.environ, read at resolve time).

    Every value it substitutes is remembered in `resolved_values` so the caller can redact
    it from logs and errors.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env
        self.resolved_values: set[str] = set()

    def resolve(self, value: str, where: str = "") -> str:
        """Substitute every `${VAR}` in `value`; a missing variable raises MissingEnvVarError."""
        if "$" not in value:  # fast path: most strings hold no reference
            return value
        env = os.environ if self.env is None else self.env

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "${"
            if name not in env:
                raise MissingEnvVarError(name, where)
            resolved = str(env[name])
            self.resolved_values.add(resolved)
            return resolved

        return _REFERENCE.sub(substitute, value)

    def resolve_deep(self, value: Any, where: str = "") -> Any:
        """Resolve strings inside dicts, lists and tuples (keys are left alone)."""
        if isinstance(value, str):
            return self.resolve(value, where)
        if isinstance(value, Mapping):
            return {
                key: self.resolve_deep(item, f"{where}.{key}" if where else str(key))
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            resolved = [
                self.resolve_deep(item, f"{where}[{index}]") for index, item in enumerate(value)
            ]
            return type(value)(resolved) if isinstance(value, tuple) else resolved
        return value


def resolve_env(value: str, env: Mapping[str, str] | None = None, where: str = "") -> str:
    """Resolve the `${VAR}` references in one string."""
    return EnvResolver(env).resolve(value, where)


def resolve_deep(value: Any, env: Mapping[str, str] | None = None, where: str = "") -> Any:
    """Resolve the `${VAR}` references in strings nested in dicts and lists."""
    return EnvResolver(env).resolve_deep(value, where)
