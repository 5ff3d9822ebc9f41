"""Materialize a sources.yml through Dagster in a separate process, for tests that kill it.

    python tests/reliability/run_materialize.py CONFIG DATABASE [--select NAME] [--serve]
        [--pause-at-commit MARKER [--pause-seconds S]]

Uses the persistent instance of `$DAGSTER_HOME`. With `--pause-at-commit`, every load stops
right before its COMMIT (written, not committed): the run touches MARKER and sleeps S seconds
(default 0) there, so a test can kill it at that moment. It wraps the package's seam for
that, `rest_assets.load.transaction.commit_transaction`, from this side; the package itself
has no test hook. Without `--serve` it runs once; with it, it
prints `{"ready": true}` and then runs once per `run` line read from stdin (`exit` ends), so
one process (one Dagster import) can do several runs. After each run it prints one JSON line:
`{"success": bool, "error": str, "maxrss_kb": int}` (this process's peak RSS so far).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

import dagster as dg
import duckdb

from rest_assets import build_definitions
from rest_assets.load import transaction


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


def pause_at_commit(marker: Path, seconds: float) -> None:
    """Make every load touch `marker`, then sleep, right before its COMMIT."""
    commit = transaction.commit_transaction

    def paused(con: duckdb.DuckDBPyConnection) -> None:
        marker.touch()
        time.sleep(seconds)
        commit(con)

    transaction.commit_transaction = paused


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("database")
    parser.add_argument("--select", nargs="*")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--pause-at-commit", type=Path)
    parser.add_argument("--pause-seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.pause_at_commit is not None:
        pause_at_commit(args.pause_at_commit, args.pause_seconds)
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
