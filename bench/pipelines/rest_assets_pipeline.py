"""rest-assets: the same dlt-shaped config as Dagster assets, materialized into DuckDB.

Runs with the project's interpreter (.venv/bin/python). Three ways in:
- `--mode api` (default): `rest_api_assets(config, name="bench")` -> the source's
  multi-asset (one step), then `dagster.materialize(assets, instance=..., resources={"io_manager":
  DuckDBIOManager(database=db)})` in this process (any other resource key the assets leave
  unbound gets the same IO manager; `database=` is passed too if the API takes it).
- `--mode cli`: `rest-assets materialize CONFIG --database DB` in a child process.
- `--mode job`: `dagster asset materialize --select '*' -f definitions.py` in a child
  process, where definitions.py is `build_definitions(CONFIG, database=DB)`: the asset job
  with its own executor, as the UI and schedules launch it.
`--executor multiprocess` writes `executor: multiprocess` into the config (cli and job).

The api mode's instance is `DagsterInstance.ephemeral()`, except for the incremental
scenario whose cursor lives in Dagster and must survive into the second run: there a
persistent instance under --state-dir is used (the DAGSTER_HOME of the cli and job modes).
If the package (or the API it is meant to have) is not there yet, the script says
"not available yet" and exits 3 so the runner goes on with the other pipelines.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Measure the package of this checkout: an editable install made before the package had
# its __init__.py resolves `rest_assets` to an empty namespace package outside the repo.
# REST_ASSETS_BENCH_ROOT measures another tree (e.g. an older commit's, from `git archive`)
_ROOT = os.environ.get("REST_ASSETS_BENCH_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
if os.path.exists(os.path.join(_ROOT, "rest_assets", "__init__.py")):
    sys.path.insert(1, _ROOT)

from common import Timer, not_available, parse_args, report, rest_api_config  # noqa: E402

timer = Timer()

import inspect  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

SOURCE = "bench"  # the source name: rest-assets derives asset keys and the schema from it
IO_MANAGER_KEY = "io_manager"


def run_api(args: Any, config: dict[str, Any]) -> dict[str, Any]:
    try:
        import dagster as dg

        from rest_assets import rest_api_assets
    except ImportError as exc:
        not_available(f"rest_assets API not available yet ({exc})")
    timer.mark("import")

    # the API took `database=` in its first sketch; today the IO manager carries the file
    accepted = inspect.signature(rest_api_assets).parameters
    kwargs: dict[str, Any] = {"name": SOURCE} if "name" in accepted else {}
    if "database" in accepted:
        kwargs["database"] = args.db
    assets = list(rest_api_assets(config, **kwargs))
    timer.mark("build")

    # bind the DuckDB IO manager to every IO-manager / resource key the assets leave open
    needed = {IO_MANAGER_KEY}
    for asset in assets:
        bound = set(getattr(asset, "resource_defs", {}) or {})
        needed |= set(getattr(asset, "required_resource_keys", set()) or set())
        needed -= bound
    resources: dict[str, Any] = {}
    if needed:
        try:
            from rest_assets import DuckDBIOManager
        except ImportError as exc:
            not_available(f"assets need {sorted(needed)} but no DuckDBIOManager ({exc})")
        resources = {key: DuckDBIOManager(database=args.db) for key in needed}

    if args.scenario == "incremental":
        # prepared by bench/run.py like the CLI's (its dagster.yaml: telemetry off)
        home = os.path.join(args.state_dir, "dagster_home")
        os.makedirs(home, exist_ok=True)
        instance = dg.DagsterInstance.local_temp(tempdir=home)
    else:
        instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(assets, instance=instance, resources=resources)
    timer.mark("materialize")
    if not result.success:
        raise SystemExit("materialize failed")
    work = step_seconds(instance, result.run_id)
    # what the IO manager reported, e.g. dagster/row_count, pages, requests
    metadata: dict[str, Any] = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        values = {}
        for key, value in mat.metadata.items():
            raw = getattr(value, "value", value)
            if isinstance(raw, (int, float, str, bool)):
                values[key] = raw
        metadata[mat.asset_key.to_user_string()] = values
    return {"materializations": metadata, "assets": len(assets), "work_s": round(work, 3)}


def step_seconds(instance: Any, run_id: str) -> float:
    """The steps' own time, as Dagster recorded it: STEP_START to STEP_SUCCESS of each step."""
    import dagster as dg

    started: dict[str, float] = {}
    work = 0.0
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            work += entry.timestamp - started.pop(event.step_key, entry.timestamp)
    return work


def _project_file(args: Any, config: dict[str, Any]) -> str:
    """The config as a sources.yml (JSON is YAML), with the project's executor if asked."""
    project: dict[str, Any] = {"sources": [{"name": SOURCE, **config}]}
    if args.executor:
        project["executor"] = args.executor
    path = os.path.join(args.state_dir, f"{args.scenario}.yml")
    with open(path, "w") as fh:
        json.dump(project, fh, indent=2)
    return path


def _bin(name: str) -> str | None:
    return shutil.which(name, path=os.path.dirname(sys.executable))


def run_command(args: Any, config: dict[str, Any]) -> dict[str, Any]:
    """`rest-assets materialize` (cli) or `dagster asset materialize` (job) in a child process.

    Both use the Dagster home under --state-dir (bench/run.py prepares it before the timed
    run and reads the run's step times from it afterwards, so neither is in the wall time).
    """
    config_path = _project_file(args, config)
    if args.mode == "cli":
        exe = _bin("rest-assets")
        entry = "import sys; from rest_assets.cli import main; sys.exit(main())"
        command = [exe] if exe else [sys.executable, "-c", entry]
        command += ["materialize", config_path, "--database", args.db]
    else:
        # what the UI launches: the definitions' asset job with the job's own executor
        defs_path = os.path.join(args.state_dir, "definitions.py")
        with open(defs_path, "w") as fh:
            fh.write(
                "from rest_assets import build_definitions\n\n"
                f"defs = build_definitions({config_path!r}, database={args.db!r})\n"
            )
        exe = _bin("dagster")
        if exe is None:
            not_available("the dagster command is not installed in this interpreter's venv")
        command = [exe, "asset", "materialize", "--select", "*", "-f", defs_path]
    timer.mark("import")
    home = os.path.join(args.state_dir, "dagster_home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, DAGSTER_HOME=home)
    # the checkout first, as for the api mode (an editable install may point elsewhere)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    spawned = time.time()  # wall clock, to line up with the event log's timestamps
    done = subprocess.run(command, env=env, cwd=args.state_dir)
    exited = time.time()
    timer.mark("materialize")
    if done.returncode != 0:
        raise SystemExit(f"{os.path.basename(command[0])} exited {done.returncode}")
    return {
        "dagster_home": home,
        "executor": args.executor or "in_process",
        "spawned_at": spawned,
        "exited_at": exited,
    }


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    config = rest_api_config(args.url, args.scenario, args.page_size, args.resources)
    extra = run_api(args, config) if args.mode == "api" else run_command(args, config)
    report(timer, mode=args.mode, **extra)


if __name__ == "__main__":
    main()
