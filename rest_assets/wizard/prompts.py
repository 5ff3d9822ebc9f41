"""Questions in a terminal: each has a default (a flag or a live suggestion) and a check."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rest_assets.wizard.errors import WizardError
from rest_assets.wizard.options import AUTH_TYPES, AuthOptions, env_name

_SOURCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def stdin_is_tty() -> bool:
    """Whether questions can be asked (stdin is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def ask(
    question: str, default: str | None = None, *, check: Callable[[str], Any] | None = None
) -> str:
    """Ask until the answer passes `check`; blank takes the default."""
    while True:
        suffix = f" [{default}]" if default else ""
        answer = input(f"? {question}{suffix}: ").strip() or (default or "")
        if not answer:
            print("  an answer is needed")
            continue
        if check is not None:
            try:
                check(answer)
            except WizardError as exc:
                print(f"  {exc}")
                continue
        return answer


def confirm(question: str, default: bool) -> bool:
    """A yes/no question; blank takes the default."""
    hint = "Y/n" if default else "y/N"
    while True:
        answer = input(f"? {question}? [{hint}]: ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


def ask_auth(auth: AuthOptions, source: str) -> None:
    """Fill `auth` from questions; variable names only, never secret values."""
    auth.auth_type = ask(
        f"Authentication ({'/'.join(AUTH_TYPES)})",
        auth.auth_type or ("bearer" if auth.token_env else "none"),
        check=lambda v: check_choice(v, AUTH_TYPES, "authentication"),
    )
    prefix = source.upper()
    if auth.auth_type in ("bearer", "api_key"):
        auth.token_env = ask(
            "Environment variable holding the token (its name, not the token)",
            auth.token_env or f"{prefix}_API_TOKEN",
            check=lambda v: env_name(v, "the variable", "the token"),
        )
    if auth.auth_type == "api_key":
        auth.api_key_location = ask(
            "Send the key in (header/query)",
            auth.api_key_location or "header",
            check=lambda v: check_choice(v, ("header", "query"), "location"),
        )
        default_name = "X-API-Key" if auth.api_key_location == "header" else "api_key"
        auth.api_key_name = ask("Header or parameter name", auth.api_key_name or default_name)
    if auth.auth_type == "basic":
        auth.username_env = ask(
            "Environment variable holding the username",
            auth.username_env or f"{prefix}_USERNAME",
            check=lambda v: env_name(v, "the variable", "the username"),
        )
        auth.password_env = ask(
            "Environment variable holding the password",
            auth.password_env or f"{prefix}_PASSWORD",
            check=lambda v: env_name(v, "the variable", "the password"),
        )


def check_source_name(value: str) -> None:
    """A source name: letters, digits and underscores, not starting with a digit."""
    if not _SOURCE_NAME.match(value):
        raise WizardError(
            f"source name {value!r} must be letters, digits and underscores, not starting "
            "with a digit"
        )


def check_url(value: str) -> None:
    """A base URL: http:// or https://."""
    if not value.startswith(("http://", "https://")):
        raise WizardError(f"the base URL must start with http:// or https:// (got {value!r})")


def check_choice(value: str, choices: Sequence[str], what: str) -> None:
    """One of `choices`."""
    if value not in choices:
        raise WizardError(f"{what} must be one of {', '.join(choices)}")


def none_for_dash(value: str | None) -> str | None:
    """An answer of '-' (or nothing) means "none"."""
    return None if value in (None, "", "-") else value


def pairs_text(values: Mapping[str, Any]) -> str:
    """`{"a": 1, "b": "x"}` as `a=1,b=x` (the default of a pairs question)."""
    return ",".join(f"{k}={v}" for k, v in values.items())
