"""A resource's settings that would otherwise fail only at run time, checked at load.

- auth: the type exists and gets exactly the keys it takes (values stay `${VAR}` references;
  nothing is resolved or sent);
- `data_selector`: valid JSONPath of a sane size (a 2,000-filter expression parses, then
  fails every run with a recursion error);
- placeholders: every brace opens or closes one (`{resources.a.id` is sent as it is);
- incremental: cursor path, `convert`, windows, and `end_value` after `initial_value`.
"""

from __future__ import annotations

from typing import Any

from rest_assets.config.models import ResolveParam, ResourceConfig
from rest_assets.errors import ConfigError
from rest_assets.extract import placeholders
from rest_assets.extract.incremental import IncrementalSpec
from rest_assets.extract.records import auth_spec
from rest_assets.http.auth import create_auth
from rest_assets.http.selectors import JSONPath

# Longer data selectors are refused: real ones are a few dozen characters, and each filter
# adds a level of recursion when the expression is evaluated.
MAX_SELECTOR_LENGTH = 500


def check_auth(value: Any, where: str) -> None:
    """Build the auth once (resolving nothing) so a wrong type or key fails now."""
    spec = auth_spec(value)
    if spec is None or not isinstance(spec, dict):
        return  # none, or an auth instance from Python
    try:
        create_auth(spec)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def check_selector(expression: str | None, where: str) -> None:
    """A data selector that compiles, of at most MAX_SELECTOR_LENGTH characters."""
    if expression is None:
        return
    if len(expression) > MAX_SELECTOR_LENGTH:
        raise ConfigError(
            f"{where}: the JSONPath is {len(expression):,} characters long, more than "
            f"{MAX_SELECTOR_LENGTH}; point at the records' list (e.g. data.items) and filter "
            "records with processing_steps"
        )
    try:
        JSONPath(expression)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "too deeply nested"
        raise ConfigError(f"{where}: {reason}; e.g. data, results.items or $") from None


def check_resource(resource: ResourceConfig, where: str) -> None:
    """Every check of this module for one resource (`where`: its path in the file)."""
    endpoint = resource.endpoint
    check_auth(resource.auth, f"{where}.auth")
    check_auth(endpoint.auth, f"{where}.endpoint.auth")
    if resource.records is not None:
        return
    check_selector(endpoint.data_selector, f"{where}.endpoint.data_selector")
    parts = {
        "path": endpoint.path,
        "params": {k: v for k, v in endpoint.params.items() if not isinstance(v, ResolveParam)},
        "json": endpoint.json_body,
        "data": endpoint.data,
        "headers": endpoint.headers,
    }
    for part, template in parts.items():
        placeholders.check_braces(template, f"{where}.endpoint.{part}")
    IncrementalSpec.for_endpoint(endpoint, where, resource.primary_key)
