"""What `inspect` and `add` take from the command line (or the questions), and the checks
that keep secrets out of it: only names of environment variables, never their values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rest_assets.http.sensitive import is_sensitive_name
from rest_assets.wizard.errors import WizardError

AUTH_TYPES = ("bearer", "api_key", "basic", "none")
DISPOSITIONS = ("replace", "append", "merge")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass
class AuthOptions:
    """Auth as given on the command line: only names of environment variables, never values."""

    auth_type: str | None = None
    token_env: str | None = None
    api_key_name: str | None = None
    api_key_location: str | None = None
    username_env: str | None = None
    password_env: str | None = None

    def spec(self) -> dict[str, Any] | None:
        """The auth dict for the config (`${VAR}` references only), or None for no auth."""
        kind = self.auth_type or ("bearer" if self.token_env else "none")
        if kind not in AUTH_TYPES:
            raise WizardError(f"--auth-type must be one of {', '.join(AUTH_TYPES)}, not {kind!r}")
        if kind == "none":
            return None
        if kind == "basic":
            return self._basic()
        token = env_name(self.token_env, "--token-env", f"the {kind} token")
        if kind == "bearer":
            return {"type": "bearer", "token": f"${{{token}}}"}
        return self._api_key(token)

    def _basic(self) -> dict[str, Any]:
        username = env_name(self.username_env, "--username-env", "the basic auth username")
        password = (
            f"${{{env_name(self.password_env, '--password-env', '')}}}" if self.password_env else ""
        )
        return {"type": "http_basic", "username": f"${{{username}}}", "password": password}

    def _api_key(self, token: str) -> dict[str, Any]:
        location = self.api_key_location or "header"
        if location not in ("header", "query"):
            raise WizardError("--api-key-location must be header or query")
        return {
            "type": "api_key",
            "name": self.api_key_name or ("X-API-Key" if location == "header" else "api_key"),
            "api_key": f"${{{token}}}",
            "location": location,
        }


@dataclass
class AddOptions:
    """Everything `add` needs; None means "ask" (interactive) or "use the suggestion"."""

    path: Path
    name: str | None = None
    base_url: str | None = None
    endpoint: str | None = None
    resource: str | None = None
    auth: AuthOptions = field(default_factory=AuthOptions)
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data_selector: str | None = None
    primary_key: str | None = None
    incremental: bool = False
    cursor_field: str | None = None
    write_disposition: str | None = None
    pages: int = 2


def env_name(value: str | None, flag: str, what: str) -> str:
    """Check that `value` names an environment variable (and is not a secret pasted in)."""
    if not value:
        raise WizardError(f"{flag} VAR is required: the environment variable holding {what}")
    if value.startswith("${") and value.endswith("}"):
        value = value[2:-1]
    if not _ENV_NAME.match(value) or _looks_like_secret(value):
        # Never echo the value: it may be the very secret we refuse to store.
        raise WizardError(
            f"{flag} takes the NAME of an environment variable (e.g. MY_API_TOKEN), and the "
            "value given does not look like one; export the secret and pass its name"
        )
    return value


def _looks_like_secret(name: str) -> bool:
    # Variable names are conventionally upper case; a long mixed-case string with digits
    # is far more likely a token (ghp_..., sk_live_...) than a variable name.
    return len(name) >= 16 and any(c.islower() for c in name) and any(c.isdigit() for c in name)


def parse_pairs(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """`["a=1", "b=x"]` -> `{"a": 1, "b": "x"}` (whole numbers become ints)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WizardError(f"{flag} takes KEY=VALUE, got {item.split('=')[0]!r}...")
        value = value.strip()
        out[key.strip()] = int(value) if re.fullmatch(r"-?\d{1,15}", value) else value
    return out


def check_no_literal_secrets(headers: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """Refuse credential-like headers/params whose value is not a `${VAR}` reference.

    "Credential-like" is the HTTP engine's own policy (`rest_assets.http.sensitive`): the
    names the wizard refuses literal values for are the names masked in logs and never
    sent to another origin.
    """
    for kind, values in (("header", headers), ("query parameter", params)):
        for name, value in values.items():
            if is_sensitive_name(name) and not _REFERENCE.fullmatch(str(value).strip()):
                raise WizardError(
                    f"{kind} {name!r} looks like a credential but its value is not a ${{VAR}} "
                    f"reference; export the secret and pass {name}='${{MY_VAR}}' (single quotes "
                    "so the shell does not expand it), or use --auth-type with --token-env"
                )
