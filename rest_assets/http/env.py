"""`${VAR}` references: kept as text in configs and resolved only when a request is built.

`$${` is an escape for a literal `${`. Names follow shell rules: letters, digits, underscore,
not starting with a digit. `${VAR:-text}` gives `text` when VAR is unset or empty. The
grammar is rest_assets.config.references; a variable the environment (and `.env`) lacks is
looked up in the `.dlt/secrets.toml` / `config.toml` values of the loaded project
(rest_assets.config.project_files) before it counts as missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from rest_assets.config.project_files import PROJECT_VALUES
from rest_assets.config.references import REFERENCE, reference_names
from rest_assets.errors import MissingEnvVarError


def references(value: Any) -> list[str]:
    """Names of the variables referenced in `value`, in order of first appearance."""
    return reference_names(value)


class EnvResolver:
    """Resolves `${VAR}` from `env`; by default from os.environ, read at resolve time, then
    the `.dlt` values of loaded projects.

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

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name is None:
                return "${"
            found = self._lookup(name)
            if default is not None and not found:
                return default  # written in the config: not a secret
            if found is None:
                raise MissingEnvVarError(name, where)
            self.resolved_values.add(found)
            return found

        return REFERENCE.sub(substitute, value)

    def _lookup(self, name: str) -> str | None:
        if self.env is not None:
            value = self.env.get(name)
            return None if value is None else str(value)
        value = os.environ.get(name)
        # after the environment and .env: the loaded project's .dlt files
        return value if value is not None else PROJECT_VALUES.lookup(name)

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
