"""Dagster's beta and preview warnings: each message once per process.

Dagster warns every time a beta or preview feature is used from a new line of code (Python's
default filter remembers call sites), so one definitions load can print the same
`BetaWarning` once per asset or per place that builds one. `show_dagster_warnings_once`
appends a "once" filter for `BetaWarning` and `PreviewWarning`: each distinct message is
printed the first time only. The filter goes after any the user set (`-W`,
`PYTHONWARNINGS`, `warnings.filterwarnings`, pytest's `filterwarnings`), so theirs still
win, and adding it again changes nothing.
"""

from __future__ import annotations

import warnings

import dagster as dg

_CATEGORIES: tuple[type[Warning], ...] = (dg.BetaWarning, dg.PreviewWarning)


def show_dagster_warnings_once() -> None:
    """Print each Dagster beta/preview warning message once in this process."""
    for category in _CATEGORIES:
        # `append=True` adds the filter only when the same one is not in the list yet
        warnings.filterwarnings("once", category=category, append=True)
