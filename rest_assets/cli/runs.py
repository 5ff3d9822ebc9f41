"""Creating and executing a run the UI can open and re-execute.

`dagster.execute_job` records runs without a code-location origin: the UI shows them but its
"Re-execute" needs to know which loaded location holds the job. Runs made here name the
location (see `location_name`), the repository and the job, exactly as a run launched from
that location would, and are then executed in this process with the job's own executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

# The origin classes and the synchronous run executor Dagster's own CLI uses; they are not
# in dagster's public namespace.
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)

REPOSITORY_NAME = "__repository__"  # the repository of a `Definitions` object
DEFAULT_LOCATION = "rest_assets"  # the location name of the project template's workspace.yaml


def execute_asset_run(
    job: dg.ReconstructableJob,
    instance: dg.DagsterInstance,
    asset_selection: Sequence[dg.AssetKey],
    tags: Mapping[str, str],
    run_config: Mapping[str, Any],
    location_name: str,
) -> dg.ExecuteJobResult:
    """Create a run of `job` for `asset_selection` that belongs to `location_name`, and run it."""
    job_def = job.get_definition()
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(location_name), REPOSITORY_NAME),
        job_def.name,
    )
    run = instance.create_run_for_job(
        job_def=job_def,
        run_config=run_config,
        tags=tags,
        asset_selection=frozenset(asset_selection),
        job_code_origin=job.get_python_origin(),
        remote_job_origin=origin,
    )
    return execute_run(job, run, instance)


def location_name(config: Path, explicit: str | None = None) -> str:
    """The code location the UI loads this config under.

    `--location` when given; else the single location of a `workspace.yaml` in the working
    directory or beside the config (its `location_name`, or the name Dagster derives: the
    file name of a python_file, the module of a python_module); else `definitions.py` when
    one is beside the config (`dagster dev -f definitions.py`); else `rest_assets`.
    """
    if explicit:
        return explicit
    for folder in dict.fromkeys([Path.cwd(), config.resolve().parent]):
        found = _workspace_location(folder / "workspace.yaml")
        if found:
            return found
    if (config.resolve().parent / "definitions.py").exists():
        return "definitions.py"
    return DEFAULT_LOCATION


def _workspace_location(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        workspace = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return None
    entries = workspace.get("load_from") if isinstance(workspace, dict) else None
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        return None
    ((kind, target),) = entries[0].items() if len(entries[0]) == 1 else ((None, None),)
    if not isinstance(target, dict | str):
        return None
    if isinstance(target, str):
        return Path(target).name if kind == "python_file" else target
    if target.get("location_name"):
        return str(target["location_name"])
    if kind == "python_file" and target.get("relative_path"):
        return Path(str(target["relative_path"])).name
    if kind in ("python_module", "python_package"):
        return str(target.get("module_name") or target.get("package_name") or "") or None
    return None
