"""Callables that configs reference by dotted path."""

from __future__ import annotations


def minute_floor(value: str) -> str:
    """`2024-01-01T00:02:00Z` -> `2024-01-01T00:02`: a convert callable for a cursor."""
    return value[:16]
