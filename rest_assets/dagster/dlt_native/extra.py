"""Whether the optional extra `rest-assets[dlt]` (dlt with DuckDB, dagster-dlt) is installed.

Nothing here imports dlt: without the extra the definitions still load, and a dlt_native
source becomes a stand-in asset whose runs fail with `missing_extra_text`.
"""

from __future__ import annotations

import importlib.util

EXTRA = "rest-assets[dlt]"
INSTALL_HINT = "pip install 'rest-assets[dlt]'"

# module -> the requirement that installs it
_PACKAGES = {"dlt": "dlt[duckdb]", "dagster_dlt": "dagster-dlt"}


def missing_packages() -> list[str]:
    """The requirements of the extra whose modules cannot be imported."""
    missing = []
    for module, requirement in _PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a blocked or broken installation
            found = False
        if not found:
            missing.append(requirement)
    return missing


def missing_extra_text(function: str, missing: list[str]) -> str:
    """Why a dlt_native source cannot load without the extra, and the command that fixes it."""
    return (
        f"the dlt source {function} runs through dlt, and {' and '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL_HINT} "
        "(the other sources are not affected)"
    )
