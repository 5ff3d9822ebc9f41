"""Materialize a sources.yml through Dagster in a separate process, for tests that kill it.

    python tests/reliability/run_materialize.py CONFIG DATABASE [--select NAME] [--serve]

Uses the persistent instance of `$DAGSTER_HOME`. Without `--serve` it runs once; with it, it
prints `{"ready": true}` and then runs once per `run` line read from stdin (`exit` ends), so
one process (one Dagster import) can do several runs. After each run it prints one JSON line:
`{"success": bool, "error": str, "maxrss_kb": int}` (this process's peak RSS so far).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

import dagster as dg

from rest_assets import build_definitions


def _error(result: dg.ExecuteInProcessResult) -> str:
    parts = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)


def _peak_rss_kb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the
    parent through fork and exec, so it would report pytest's own peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, select: list[str] | None) -> None:
    assets = list(defs.assets or [])
    selection = [dg.AssetKey(name.split("/")) for name in select] if select else None
    result = dg.materialize(
        assets,
        instance=instance,
        resources=defs.resources,
        selection=selection,
        raise_on_error=False,
    )
    peak = _peak_rss_kb()
    print(
        json.dumps({"success": result.success, "error": _error(result), "maxrss_kb": peak}),
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("database")
    parser.add_argument("--select", nargs="*")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    defs = build_definitions(args.config, database=args.database)
    with dg.DagsterInstance.get() as instance:
        if not args.serve:
            _run(defs, instance, args.select)
            return 0
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            if line.strip() == "exit":
                break
            _run(defs, instance, args.select)
    return 0


if __name__ == "__main__":
    sys.exit(main())
