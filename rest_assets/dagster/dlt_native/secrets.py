"""Keeping the secrets a dlt source reads out of logs and error messages.

dlt resolves a source's secrets itself (environment, then `.dlt/secrets.toml`, then
`.dlt/config.toml`, project folder before the global one); rest-assets never holds them in
its config. What it masks: every value of the `secrets.toml` files dlt reads, the values of
`config.toml` and of dlt-style environment variables (`SOURCES__..__API_KEY`) whose name is
sensitive (rest_assets.http.sensitive). They are masked in the messages of failed runs and,
through the process-wide redactor, in the log lines of dlt's logger and of urllib3.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rest_assets.http.redact import (
    PROCESS_REDACTOR,
    RedactingFilter,
    Redactor,
    install_library_log_redaction,
    remember_secrets,
)
from rest_assets.http.sensitive import is_sensitive_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, installed with Dagster
    import tomli as tomllib

DLT_LOGGER = "dlt"  # dlt's own logger (it does not propagate to the root logger)
# dlt joins the sections of an environment variable's name with this
_ENV_SEPARATOR = "__"


def secret_values(dlt_folders: Sequence[Path], environ: Mapping[str, str]) -> list[str]:
    """The values to mask for sources that read the `.dlt` folders and the environment."""
    values: list[str] = []
    for folder in dlt_folders:
        values.extend(_leaves(_read(folder / "secrets.toml"), sensitive_only=False))
        values.extend(_leaves(_read(folder / "config.toml"), sensitive_only=True))
    for name, value in environ.items():
        if _ENV_SEPARATOR in name and is_sensitive_name(name.rsplit(_ENV_SEPARATOR, 1)[-1]):
            values.append(value)
    return values


def source_redactor(values: Sequence[str]) -> Redactor:
    """A redactor of `values`, also remembered process-wide for dlt's and urllib3's logs."""
    redactor = Redactor()
    remember_secrets(redactor, values)
    install_library_log_redaction()
    _install_dlt_log_redaction()
    return redactor


def _install_dlt_log_redaction() -> None:
    """One filter with the process-wide redactor on dlt's logger, ever."""
    logger = logging.getLogger(DLT_LOGGER)
    if not any(
        isinstance(f, RedactingFilter) and f.redactor is PROCESS_REDACTOR for f in logger.filters
    ):
        logger.addFilter(RedactingFilter(PROCESS_REDACTOR))


def _read(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # dlt reports a broken file itself, when it reads it


def _leaves(table: Mapping[str, Any], sensitive_only: bool, name: str = "") -> Iterator[str]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, sensitive_only, str(key))
        elif isinstance(value, list):
            yield from _leaves({str(i): v for i, v in enumerate(value)}, sensitive_only, str(key))
        elif _is_scalar(value) and (
            not sensitive_only or is_sensitive_name(str(key)) or is_sensitive_name(name)
        ):
            yield str(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)
