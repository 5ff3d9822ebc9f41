"""Names derived from configuration: the one rule for naming a resource after its path."""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"\W+")


def name_from_path(path: str) -> str:
    """A resource name from an endpoint path: `/v2/orders.json` -> `orders`.

    The last segment that is not a `{placeholder}`, without its extension, with runs of
    other characters than letters, digits and `_` made one `_`. A name that would start
    with a digit gets `r_` in front (`/2024` -> `r_2024`): it becomes a table name and an
    asset key. Nothing usable left gives `resource`.
    """
    parts = [p for p in path.split("/") if p and "{" not in p]
    base = parts[-1].split(".")[0] if parts else "resource"
    name = _NOT_WORD.sub("_", base).strip("_")
    if not name:
        return "resource"
    return f"r_{name}" if name[0].isdigit() else name
