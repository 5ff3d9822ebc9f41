"""The Dagster home of a cli / job run, outside the timed process (project interpreter).

    DAGSTER_HOME=... python dagster_home.py prepare   # before the first timed run
    DAGSTER_HOME=... python dagster_home.py read      # after each: one JSON line

`prepare` sets the home up as `rest-assets materialize` does on first use (its dagster.yaml,
telemetry off, and the SQLite storage created), so the CLI and `dagster asset materialize`
start from the same ready home, as a user's does after the first run.
`read` prints the newest run's step times (STEP_START to STEP_SUCCESS, what the UI shows)
and where its time went between the first and last event, read from the event log.
"""

from __future__ import annotations

import json
import os
import sys

_ROOT = os.environ.get("REST_ASSETS_BENCH_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
if os.path.exists(os.path.join(_ROOT, "rest_assets", "__init__.py")):
    sys.path.insert(0, _ROOT)


def prepare() -> None:
    from rest_assets.cli.home import prepare_home

    print(json.dumps({"home": str(prepare_home(None))}))


def read() -> None:
    import dagster as dg

    kinds = dg.DagsterEventType
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            print(json.dumps({"error": "no run in this home"}))
            return
        run = runs[0]
        entries = instance.all_logs(run.run_id)
    started: dict[str, float] = {}
    work = 0.0
    stamps: dict[str, float] = {}
    steps = set()
    events = 0
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        events += 1
        stamps.setdefault("first_event", entry.timestamp)
        stamps["last_event"] = entry.timestamp
        kind = event.event_type
        if kind == kinds.RUN_START:
            stamps["run_start"] = entry.timestamp
        elif kind == kinds.RUN_SUCCESS or kind == kinds.RUN_FAILURE:
            stamps["run_end"] = entry.timestamp
        elif kind == kinds.STEP_START and event.step_key:
            steps.add(event.step_key)
            started[event.step_key] = entry.timestamp
            stamps.setdefault("first_step_start", entry.timestamp)
        elif kind == kinds.STEP_SUCCESS and event.step_key:
            work += entry.timestamp - started.pop(event.step_key, entry.timestamp)
            stamps["last_step_end"] = entry.timestamp
    print(
        json.dumps(
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "status": run.status.value,
                "steps": sorted(steps),
                "events": events,
                "work_s": round(work, 3),
                "stamps": stamps,
            }
        )
    )


if __name__ == "__main__":
    {"prepare": prepare, "read": read}[sys.argv[1]]()
