"""The Dagster home the command uses: `$DAGSTER_HOME`, else `.dagster_home` beside the config.

A new home gets a `dagster.yaml` that turns Dagster's telemetry and the UI's first-visit
dialog off (delete the lines, or the file, to get Dagster's defaults back) and its storage
is created under a file lock: two commands started at once on a fresh home would otherwise
race on Dagster's SQLite set-up.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from filelock import FileLock

DAGSTER_YAML = """\
# Written by rest-assets for a new Dagster home (see its README, "The Dagster home").
# Delete a setting, or this file, to get Dagster's default back.
telemetry:
  enabled: false   # no usage statistics leave this machine
nux:
  enabled: false   # no first-visit dialog in the UI
"""
LOCK_NAME = ".rest-assets-home.lock"
INITIALISED = ".rest-assets-home-ready"


def prepare_home(config: Path | None) -> Path:
    """Set `DAGSTER_HOME` (if unset) and make sure the home is ready; returns it."""
    chosen = os.environ.get("DAGSTER_HOME")
    if not chosen:
        base = config.resolve().parent if config is not None else Path.cwd()
        chosen = str(base / ".dagster_home")
    home = Path(chosen).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    if (home / INITIALISED).exists():
        return home
    with FileLock(str(home / LOCK_NAME), timeout=120):
        if not (home / INITIALISED).exists():
            settings = home / "dagster.yaml"
            if not settings.exists() or not settings.read_text().strip():
                settings.write_text(DAGSTER_YAML)
            # opening the instance creates (or migrates) its storage, under the lock
            with dg.DagsterInstance.get():
                pass
            (home / INITIALISED).touch()
    return home
