"""Reading rest-assets' materialization metadata in tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def child_figures(meta: Mapping[str, Any], figure: str) -> dict[str, Any]:
    """One figure of every child table (`child_tables/<table>/<figure>`), by table name."""
    out = {}
    for key, value in meta.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "child_tables" and parts[2] == figure:
            out[parts[1]] = value
    return out
