"""Pieces of the log lines and error messages every layer writes the same way."""

from __future__ import annotations

# How much of a response body an error message shows (show_error_body).
ERROR_BODY_LIMIT = 500
_EXCEPTION_LIMIT = 300


def prefix(resource: str) -> str:
    """`resource 'x': ` when the request belongs to a resource, else nothing."""
    return f"resource {resource!r}: " if resource else ""


def attempts(count: int) -> str:
    """`1 attempt`, `3 attempts`."""
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def body_excerpt(text: str) -> str:
    """The start of a response body, for an error message."""
    return text if len(text) <= ERROR_BODY_LIMIT else text[:ERROR_BODY_LIMIT] + "..."


def exception_excerpt(text: str) -> str:
    """The start of an exception's text (requests' own can run to kilobytes)."""
    return text if len(text) <= _EXCEPTION_LIMIT else text[:_EXCEPTION_LIMIT] + "..."


def size(count: int) -> str:
    """A byte count as people read it: `512 bytes`, `3.5 MiB`."""
    return f"{count / (1024 * 1024):.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"
