"""The Dagster home the command uses: `$DAGSTER_HOME`, else `.dagster_home` beside the config.

A home the command uses gets a `dagster.yaml` when it has none: Dagster's telemetry and the
UI's first-visit dialog off (set `enabled: true` to turn one back on). Keep the file: a home
without one makes Dagster warn "No dagster instance configuration file" in every process,
so a missing (or empty) file is written again. A file with content is never touched. The
home's storage is created under a file lock: two commands started at once on a fresh home
would otherwise race on Dagster's SQLite set-up.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from filelock import FileLock

DAGSTER_YAML = """\
# Written by rest-assets for its Dagster home (see its README, "The Dagster home").
# Set `enabled: true` to turn a setting back on; keep this file (without one, Dagster warns
# "No dagster instance configuration file" in every process that opens the home).
telemetry:
  enabled: false   # no usage statistics leave this machine, no telemetry banner
nux:
  enabled: false   # no first-visit dialog in the UI
"""
LOCK_NAME = ".rest-assets-home.lock"
INITIALISED = ".rest-assets-home-ready"


def prepare_home(config: Path | None) -> Path:
    """Set `DAGSTER_HOME` (if unset: `.dagster_home` beside `config`) and set it up."""
    chosen = os.environ.get("DAGSTER_HOME")
    if not chosen:
        base = config.resolve().parent if config is not None else Path.cwd()
        chosen = str(base / ".dagster_home")
    home = Path(chosen).expanduser().resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    return set_up_home(home)


def set_up_home(home: Path) -> Path:
    """Give `home` its `dagster.yaml` (when it has none) and its storage; returns it.

    Idempotent and safe to call from several processes at once.
    """
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    if (home / INITIALISED).exists() and _has_settings(home):
        return home
    with FileLock(str(home / LOCK_NAME), timeout=120):
        if not _has_settings(home):
            (home / "dagster.yaml").write_text(DAGSTER_YAML)
        if not (home / INITIALISED).exists():
            # opening the instance creates (or migrates) its storage, under the lock
            with dg.DagsterInstance.from_config(str(home)):
                pass
            (home / INITIALISED).touch()
    return home


def _has_settings(home: Path) -> bool:
    settings = home / "dagster.yaml"
    return settings.exists() and bool(settings.read_text().strip())
