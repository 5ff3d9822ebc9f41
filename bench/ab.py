#!/usr/bin/env python3
"""Before / after: one rest-assets pipeline, two package trees, runs interleaved (stdlib only).

    git archive <old-commit> rest_assets | tar -x -C /tmp/before
    python3 bench/ab.py --before /tmp/before --scenario wide --mode api --rounds 5

Starts bench/server.py for the scenario (full sizes), then runs
`pipelines/rest_assets_pipeline.py` once per tree and round, alternating (before, after,
before, ...) so that the machine's load falls on both alike. Each run gets a fresh
directory (and, for cli/job, a prepared Dagster home). Reports the median and every value
of wall s (spawn to exit), CPU s (user + system of the run and its children) and work s
(the steps' time as Dagster recorded it), and the after / before ratio of the medians.
For `--scenario incremental` each run is the second run (the 1% of new records) of its
own first run, which is not measured.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as harness  # noqa: E402


def one_run(
    python: str,
    root: str,
    server: harness.Server,
    args: argparse.Namespace,
    workdir: Path,
) -> dict[str, Any]:
    state = workdir / "state"
    state.mkdir(parents=True)
    env = harness.child_env(state)
    env["REST_ASSETS_BENCH_ROOT"] = root
    db = workdir / "landing.duckdb"
    cmd = [python, str(BENCH / "pipelines" / "rest_assets_pipeline.py"), "--url", server.url]
    cmd += ["--db", str(db), "--scenario", args.scenario, "--state-dir", str(state)]
    cmd += ["--mode", args.mode]
    if args.executor:
        cmd += ["--executor", args.executor]
    resources = harness.resource_count(args.scenario, False)
    if resources:
        cmd += ["--resources", str(resources)]
    uses_home = args.mode != "api" or args.scenario == "incremental"
    if uses_home:  # set up by this checkout's code for both trees: an older one may lack it
        harness.dagster_home(Path(python), harness.child_env(state), "prepare")
    if args.scenario == "incremental":
        server.phase(1)
        first = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if first.returncode != 0:
            raise SystemExit(f"first run failed: {first.stdout[-2000:]}")
        server.phase(2)
    log = workdir / "run.log"
    measured = harness.measure(cmd, env, str(workdir), log, timeout=900)
    if args.scenario == "incremental":
        server.phase(1)
    payload = harness.marker(measured.stdout, "BENCH_RESULT")
    if measured.returncode != 0 or payload is None:
        raise SystemExit(f"run failed ({measured.returncode}): {measured.stdout[-3000:]}")
    work = payload.get("work_s")
    if args.mode != "api":
        work = harness.dagster_home(Path(python), env, "read").get("work_s", work)
    return {"wall": measured.seconds, "cpu": measured.cpu, "work": work}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="tree holding the old rest_assets/")
    parser.add_argument("--after", default=str(BENCH.parent), help="default: this checkout")
    parser.add_argument("--scenario", default="wide")
    parser.add_argument("--mode", default="api", choices=("api", "cli", "job"))
    parser.add_argument("--executor", default="")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=str(BENCH.parent / ".venv" / "bin" / "python"))
    parser.add_argument("--page-latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    trees = {"before": args.before, "after": args.after}
    envs = harness.Envs(args.python)
    logs = Path(tempfile.mkdtemp(prefix="ra-ab-"))
    server_args = harness.server_args(args.scenario, False, 20.0, args.page_latency_ms)
    server = harness.Server(envs.server_python(), server_args, logs / "server.log")
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    loads = [harness._loadavg()]
    try:
        server.warm(args.scenario)
        for round_ in range(args.rounds):
            for name, root in trees.items():
                workdir = logs / f"{name}-{round_}"
                results[name].append(one_run(args.python, root, server, args, workdir))
                shutil.rmtree(workdir, ignore_errors=True)
                last = results[name][-1]
                print(
                    f"[{round_ + 1}/{args.rounds}] {name}: wall {last['wall']:.2f}s "
                    f"cpu {last['cpu']:.2f}s work {last['work']}",
                    flush=True,
                )
            loads.append(harness._loadavg())
    finally:
        server.stop()
        shutil.rmtree(logs, ignore_errors=True)
    what = f"{args.scenario} {args.mode}{' ' + args.executor if args.executor else ''}"
    print(f"\n{what}, {args.rounds} rounds, load averages {' -> '.join(loads)}")
    print("| tree | wall s | CPU s | work s | walls |")
    print("|---|---:|---:|---:|---|")
    medians: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        med = {
            k: statistics.median(float(r[k]) for r in runs if r[k] is not None)
            for k in ("wall", "cpu", "work")
        }
        medians[name] = med
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
        print(f"| {name} | {med['wall']:.2f} | {med['cpu']:.2f} | {med['work']:.2f} | {walls} |")
    ratio = {k: medians["after"][k] / medians["before"][k] for k in ("wall", "cpu", "work")}
    print(f"| after / before | {ratio['wall']:.2f} | {ratio['cpu']:.2f} | {ratio['work']:.2f} | |")
    print(json.dumps({"what": what, "loads": loads, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
