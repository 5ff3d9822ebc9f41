#!/usr/bin/env python3
"""Where the time of one `rest-assets materialize` goes, end to end (project interpreter).

    .venv/bin/python bench/breakdown.py --scenario incremental [--repeat 3] [--before DIR]

Starts bench/server.py for the scenario (full sizes), writes its config as a sources.yml,
prepares a Dagster home, and (incremental) makes the first run and lets the 1% of new
records arrive; every measured run then starts from a copy of that state. A run is the
CLI's own `main(["materialize", CONFIG, "--database", DB])` in a child process (`--child`),
with wrappers around the calls that make up a run, measured from outside (spawn to exit).
Every category is exclusive (a wrapper's time is taken out of the one around it) and has
wall and CPU seconds (CPU: the whole process, worker threads included):

- interpreter: spawn to the script's first line (Python start-up, site);
- import dagster / import rest_assets: `import dagster`, then `import rest_assets.cli` on
  top of it (ours and what only ours pulls in: pydantic, requests, dagster_duckdb, ...);
- definitions: `build_definitions` (each call counted: the CLI builds them, and the
  reconstructable job builds them again);
- import dagster storage: what `DagsterInstance.get()` imports first (SQLAlchemy, alembic);
- instance: `DagsterInstance.get()` (SQLite storage, alembic check);
- create run: `create_run_for_job` without its event writes (the run record, the plan);
- event writes: every `store_event` (count; planned events, step events, our log lines);
- instance reads: event-log queries on the step's thread: ours (cursor, ledger) and those
  Dagster makes for our results (a check result looks up its asset's materialization);
- step body: our step's own code in the step thread (`run_step`), without event writes and
  instance reads; it waits for the worker threads that fetch and commit;
- dagster run: the rest of `execute_job` (executor, plan, step context, output handling);
- cli rest: argument parsing, the Dagster home check, printing;
- exit: end of `main` to process exit (atexit, interpreter teardown).

`--before DIR` measures another tree's rest_assets/ in turns with this one (e.g. an older
commit's, from `git archive <commit> rest_assets | tar -x -C DIR`), side by side.
"""

from __future__ import annotations

import time

_T0 = time.time()
_C0 = time.process_time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
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


def restore(snapshot: str, home: str, database: str) -> None:
    """Put the Dagster home and the database back as the snapshot has them."""
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(os.path.join(snapshot, "home"), home)
    for suffix in ("", ".wal"):
        target, saved = database + suffix, os.path.join(snapshot, "database" + suffix)
        if os.path.exists(target):
            os.remove(target)
        if os.path.exists(saved):
            shutil.copyfile(saved, target)


def take_snapshot(snapshot: str, home: str, database: str) -> None:
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(home, os.path.join(snapshot, "home"))
    for suffix in ("", ".wal"):
        if os.path.exists(database + suffix):
            shutil.copyfile(database + suffix, os.path.join(snapshot, "database" + suffix))


def measure_once(root: str, config: str, database: str, env: dict[str, str]) -> dict[str, Any]:
    env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p))
    command = [sys.executable, os.path.abspath(__file__), "--child", "materialize", config]
    command += ["--database", database]
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
    wall, cpu = dict(data["wall"]), dict(data["cpu"])
    wall["interpreter"], cpu["interpreter"] = data["t0"] - spawned, data["c0"]
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


def print_table(runs: dict[str, list[dict[str, Any]]]) -> None:
    names = list(runs)
    head = " | ".join(f"{n} wall s | {n} CPU s | {n} calls" for n in names)
    print(f"| part | {head} |")
    print("|---|" + "---:|---:|---:|" * len(names))

    def med(items: list[dict[str, Any]], kind: str, part: str) -> float:
        return statistics.median(r[kind].get(part, 0.0) for r in items)

    for part in ORDER:
        cells = " | ".join(
            f"{med(runs[n], 'wall', part):.3f} | {med(runs[n], 'cpu', part):.3f} "
            f"| {runs[n][0]['calls'].get(part, '')}"
            for n in names
        )
        print(f"| {part} | {cells} |")
    cells = " | ".join(
        f"**{statistics.median(r['total'] for r in runs[n]):.3f}** "
        f"| **{statistics.median(r['total_cpu'] for r in runs[n]):.3f}** | "
        for n in names
    )
    print(f"| total (spawn to exit) | {cells} |")
    for n in names:
        print(f"{n}: runs (wall s) " + ", ".join(f"{r['total']:.2f}" for r in runs[n]))
        events = runs[n][0]["events"]
        print(f"{n}: {sum(events.values())} events written: {json.dumps(events, sort_keys=True)}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or ROOT)
        child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="incremental", help="incremental, wide, job, ...")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", default=ROOT, help="tree whose rest_assets/ to measure")
    parser.add_argument("--before", help="another tree, measured in turns with --root")
    parser.add_argument("--json", help="also write the runs here")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(ROOT, "bench"))
    sys.path.insert(0, os.path.join(ROOT, "bench", "pipelines"))
    import run as harness
    from common import rest_api_config

    work = tempfile.mkdtemp(prefix="ra-breakdown-")
    home, database = os.path.join(work, "home"), os.path.join(work, "landing.duckdb")
    snapshot = os.path.join(work, "snapshot")
    envs = harness.Envs(sys.executable)
    server_args = harness.server_args(args.scenario, False, 20.0, 50.0)
    server = harness.Server(envs.server_python(), server_args, Path(work) / "server.log")
    trees = {"after": args.root, "before": args.before} if args.before else {"run": args.root}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    loads = [harness._loadavg()]
    try:
        server.warm(args.scenario)
        resources = harness.resource_count(args.scenario, False)
        config = os.path.join(work, "sources.yml")
        source = rest_api_config(server.url, args.scenario, 1000, resources)
        with open(config, "w") as fh:
            json.dump({"sources": [{"name": "bench", **source}]}, fh)
        env = dict(os.environ, DAGSTER_HOME=home)
        harness.dagster_home(Path(sys.executable), env, "prepare")
        if args.scenario == "incremental":  # the state a schedule's next run starts from
            server.phase(1)
            measure_once(args.root, config, database, env)
            server.phase(2)
        take_snapshot(snapshot, home, database)
        for _ in range(args.repeat):
            for name, root in trees.items():
                restore(snapshot, home, database)
                runs[name].append(measure_once(root, config, database, env))
                print(f"{name}: {runs[name][-1]['total']:.2f}s", file=sys.stderr, flush=True)
            loads.append(harness._loadavg())
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    what = "the second run" if args.scenario == "incremental" else "a run"
    print(
        f"`rest-assets materialize`, {args.scenario} ({what}), {args.repeat} run(s) per tree, "
        f"medians; load averages {' -> '.join(loads)}; trees: "
        + ", ".join(f"{n} = {t}" for n, t in trees.items())
    )
    print()
    print_table(runs)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"loads": loads, "trees": trees, "runs": runs}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
