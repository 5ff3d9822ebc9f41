#!/usr/bin/env python3
"""Where the time of one `rest-assets materialize` goes, end to end (project interpreter).

    .venv/bin/python bench/breakdown.py CONFIG.yml --database DB [--repeat 3] [--root DIR]

Runs the CLI's own `main(["materialize", CONFIG, "--database", DB])` in a child process
(`--child`), with wrappers around the calls that make up a run, and measures the child from
outside (spawn to exit). Every category is exclusive (a wrapper's time is taken out of the
one around it) and has wall and CPU seconds (CPU: the whole process, worker threads included):

- interpreter: spawn to the script's first line (Python start-up, site);
- import dagster / import rest_assets: `import dagster`, then `import rest_assets.cli` on
  top of it (ours and what only ours pulls in: pydantic, requests, dagster_duckdb, ...);
- definitions: `build_definitions` (each call counted: the CLI builds them, and the
  reconstructable job builds them again);
- import dagster storage: what `DagsterInstance.get()` imports first (SQLAlchemy, alembic);
- instance: `DagsterInstance.get()` (SQLite storage, alembic check);
- create run: `create_run_for_job` without its event writes (the run record, the plan);
- event writes: every `store_event` (count; planned events, step events, our log lines);
- instance reads: what our step asks the instance (cursor, ledger, checks' versions...);
- step body: our step's own code in the step thread (`run_step`), without event writes and
  instance reads; it waits for the worker threads that fetch and commit;
- dagster run: the rest of `execute_job` (executor, plan, step context, output handling);
- cli rest: argument parsing, the Dagster home check, printing;
- exit: end of `main` to process exit (atexit, interpreter teardown).

`--root DIR` puts another checkout's package first on sys.path (e.g. the tree of an older
commit from `git archive`), to measure before and after a change the same way. The config's
Dagster home is `$DAGSTER_HOME` (set it to a prepared, persistent home). Stdlib + Dagster.
"""

from __future__ import annotations

import time

_T0 = time.time()
_C0 = time.process_time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = [
    "interpreter",
    "import dagster",
    "import rest_assets",
    "import dagster storage",
    "definitions",
    "instance",
    "create run",
    "event writes",
    "instance reads",
    "step body",
    "dagster run",
    "cli rest",
    "exit",
]


class Ledger:
    """Exclusive wall and CPU time per category, from nested wrappers on the main thread."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.stack: list[list[Any]] = []  # [name, wall start, cpu start, child wall, child cpu]
        self.main = threading.main_thread()

    def enter(self, name: str) -> bool:
        if threading.current_thread() is not self.main:
            return False
        self.stack.append([name, time.perf_counter(), time.process_time(), 0.0, 0.0])
        return True

    def leave(self) -> None:
        name, wall0, cpu0, child_wall, child_cpu = self.stack.pop()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        self.wall[name] = self.wall.get(name, 0.0) + wall - child_wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu - child_cpu
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.stack:
            self.stack[-1][3] += wall
            self.stack[-1][4] += cpu

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self.enter(name):
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            finally:
                self.leave()

        return wrapper

    def wrap_generator(self, name: str, func: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        """Time only what runs inside the generator's next(), not its consumer."""

        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            gen = func(*args, **kwargs)
            while True:
                entered = self.enter(name)
                try:
                    item = next(gen)
                except StopIteration:
                    return
                finally:
                    if entered:
                        self.leave()
                yield item

        return wrapper


def child(argv: list[str]) -> None:
    ledger = Ledger()
    ledger.enter("cli rest")
    ledger.enter("import dagster")
    import dagster as dg

    ledger.leave()
    ledger.enter("import rest_assets")
    import rest_assets.cli as cli
    import rest_assets.cli.jobs
    import rest_assets.cli.materialize
    import rest_assets.dagster.step  # noqa: F401

    # modules by name: the package binds the function `materialize` over its submodule
    jobs = sys.modules["rest_assets.cli.jobs"]
    materialize = sys.modules["rest_assets.cli.materialize"]
    step = sys.modules["rest_assets.dagster.step"]

    ledger.leave()
    # what DagsterInstance.get() would import first: SQLAlchemy, alembic, the storages
    ledger.enter("import dagster storage")
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    ledger.leave()
    kinds: dict[str, int] = {}
    store_event = SqliteEventLogStorage.store_event

    def counted(self: Any, event: Any) -> None:
        kind = event.dagster_event_type.value if event.is_dagster_event else "LOG_MESSAGE"
        kinds[kind] = kinds.get(kind, 0) + 1
        store_event(self, event)

    SqliteEventLogStorage.store_event = counted  # type: ignore[method-assign]

    # what the CLI calls by name: patch the names it looks up
    materialize.build_definitions = ledger.wrap("definitions", materialize.build_definitions)
    jobs.build_definitions = ledger.wrap("definitions", jobs.build_definitions)
    step.run_step = ledger.wrap_generator("step body", step.run_step)
    get = dg.DagsterInstance.get
    dg.DagsterInstance.get = staticmethod(ledger.wrap("instance", get))  # type: ignore[method-assign]
    klass = dg.DagsterInstance
    klass.create_run_for_job = ledger.wrap("create run", klass.create_run_for_job)  # type: ignore[method-assign]
    for method in (
        "fetch_materializations",
        "fetch_observations",
        "get_latest_materialization_event",
        "get_asset_records",
        "get_records_for_run",
        "get_event_records",
        "get_dynamic_partitions",
    ):
        setattr(klass, method, ledger.wrap("instance reads", getattr(klass, method)))
    SqliteEventLogStorage.store_event = ledger.wrap(  # type: ignore[method-assign]
        "event writes", SqliteEventLogStorage.store_event
    )
    execute_job = ledger.wrap("dagster run", dg.execute_job)
    materialize.dg.execute_job = execute_job  # type: ignore[attr-defined]

    code = cli.main(argv)
    ledger.leave()  # cli rest
    end = time.time()
    payload = {
        "t0": _T0,
        "c0": _C0,
        "end": end,
        "cpu_end": time.process_time(),
        "wall": ledger.wall,
        "cpu": ledger.cpu,
        "calls": ledger.calls,
        "events": kinds,
        "code": code,
    }
    print("BREAKDOWN " + json.dumps(payload), flush=True)
    sys.stdout.flush()
    os._exit(code) if os.environ.get("BREAKDOWN_FAST_EXIT") else sys.exit(code)


def measure_once(args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    if args.root:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.root, env.get("PYTHONPATH")) if p)
    command = [sys.executable, os.path.abspath(__file__), "--child", "materialize", args.config]
    command += ["--database", args.database]
    spawned = time.time()
    usage0 = os.times()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    exited = time.time()
    usage1 = os.times()
    child_cpu = (usage1.children_user - usage0.children_user) + (
        usage1.children_system - usage0.children_system
    )
    line = next((s for s in done.stdout.splitlines() if s.startswith("BREAKDOWN ")), None)
    if line is None or done.returncode != 0:
        raise SystemExit(f"the run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    data = json.loads(line[len("BREAKDOWN ") :])
    wall = dict(data["wall"])
    cpu = dict(data["cpu"])
    wall["interpreter"] = data["t0"] - spawned
    cpu["interpreter"] = data["c0"]
    wall["exit"] = exited - data["end"]
    cpu["exit"] = max(child_cpu - data["cpu_end"], 0.0)
    return {
        "total": exited - spawned,
        "total_cpu": child_cpu,
        "wall": wall,
        "cpu": cpu,
        "calls": data["calls"],
        "events": data["events"],
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or ROOT)
        child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument("--database", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", default=ROOT, help="checkout whose rest_assets to measure")
    parser.add_argument("--json", help="also write the runs here")
    args = parser.parse_args()
    runs = [measure_once(args) for _ in range(args.repeat)]
    load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{len(runs)} run(s) of rest-assets materialize, root {args.root}, load {load}")
    print("| part | wall s (median) | CPU s (median) | calls |")
    print("|---|---:|---:|---:|")
    for name in ORDER:
        walls = [r["wall"].get(name, 0.0) for r in runs]
        cpus = [r["cpu"].get(name, 0.0) for r in runs]
        calls = runs[0]["calls"].get(name, "")
        print(
            f"| {name} | {statistics.median(walls):.3f} | {statistics.median(cpus):.3f} | {calls} |"
        )
    totals = [r["total"] for r in runs]
    cpu_totals = [r["total_cpu"] for r in runs]
    print(
        f"| **total** (spawn to exit) | {statistics.median(totals):.3f} "
        f"| {statistics.median(cpu_totals):.3f} | |"
    )
    print("runs (wall s): " + ", ".join(f"{t:.2f}" for t in totals))
    print("events written (first run): " + json.dumps(runs[0]["events"], sort_keys=True))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"load": load, "root": args.root, "runs": runs}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
