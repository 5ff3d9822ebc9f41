"""Imported first by `rest_assets/__init__.py`: the collector pauses while Dagster imports.

`restore()` ends the pause; see `rest_assets.heap` for why and what it measured.
"""

from __future__ import annotations

from rest_assets import heap

heap.pause_for_imports()


def restore() -> None:
    """Freeze the imported heap and switch the collector back on if it was on before."""
    heap.freeze_imports()
