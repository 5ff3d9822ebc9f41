#!/usr/bin/env python3
"""Benchmark rest-assets against dlt's rest_api source and a near-ideal pipeline.

    python3 bench/run.py --quick --pipelines ideal          # smoke test, ~1 minute
    python3 bench/run.py --scenario 200k                    # one scenario, all its pipelines
    python3 bench/run.py --scenario all --skip-dlt-default  # the suite in ~10 minutes
    python3 bench/run.py --self-check                       # checks the harness itself

Stdlib only. Each pipeline runs as its own process against bench/server.py (another
process) and is measured from outside: wall time, peak RSS (the child's ru_maxrss from
wait4, and the peak of its whole process tree's summed RSS by /proc polling), rows landed
(counted in DuckDB afterwards with the pipeline's own interpreter). Environments are made
on first use: bench/.venv-ideal (requirements-ideal.txt), bench/.venv-dlt
(requirements-dlt.txt); rest-assets runs in the project's .venv (--rest-assets-python).
Results are printed and written to bench/results/<time>/ (results.json, results.md, logs).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PIPELINES_DIR = BENCH / "pipelines"
sys.path.insert(0, str(PIPELINES_DIR))

from common import tables_for  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")

# name -> (environment, script, extra arguments)
PIPELINES: dict[str, tuple[str, str, list[str]]] = {
    "ideal": ("ideal", "ideal.py", []),
    "ideal_par": ("ideal", "ideal.py", ["--workers", "8"]),
    "rest_assets": ("main", "rest_assets_pipeline.py", ["--mode", "api"]),
    "rest_assets_cli": ("main", "rest_assets_pipeline.py", ["--mode", "cli"]),
    "rest_assets_cli_mp": (
        "main",
        "rest_assets_pipeline.py",
        ["--mode", "cli", "--executor", "multiprocess"],
    ),
    # `dagster asset materialize --select '*' -f definitions.py`: as the UI launches a run
    "dagster_job": ("main", "rest_assets_pipeline.py", ["--mode", "job"]),
    "dagster_job_mp": (
        "main",
        "rest_assets_pipeline.py",
        ["--mode", "job", "--executor", "multiprocess"],
    ),
    "dlt_parquet": ("dlt", "dlt_rest_api.py", ["--variant", "parquet"]),
    "dlt_parquet_serial": ("dlt", "dlt_rest_api.py", ["--variant", "parquet-serial"]),
    "dlt_default": ("dlt", "dlt_rest_api.py", ["--variant", "default"]),
}
# pipelines that run in a child process against a Dagster home (prepared, then read)
HOME_PIPELINES = ("rest_assets_cli", "rest_assets_cli_mp", "dagster_job", "dagster_job_mp")
REFERENCES = ("ideal", "dlt_parquet", "dlt_default")
# the ratio columns of a scenario's table (t / X, w / X), where not REFERENCES
SCENARIO_REFERENCES: dict[str, tuple[str, ...]] = {
    "wide": ("ideal_par", "dlt_parquet", "dlt_parquet_serial", "dlt_default"),
    "job": ("rest_assets_cli", "rest_assets_cli_mp"),
}

# scenario -> (full size, quick size) of the server's data
SIZES: dict[str, dict[str, dict[str, int]]] = {
    "200k": {"full": {"records": 200_000}, "quick": {"records": 20_000}},
    "1m": {"full": {"records": 1_000_000}, "quick": {"records": 50_000}},
    "fanout": {"full": {"parents": 500}, "quick": {"parents": 50}},
    "incremental": {
        "full": {"records": 200_000, "new_records": 2_000},
        "quick": {"records": 20_000, "new_records": 200},
    },
    # many small resources: /wide/{n}, 500 records a page
    "wide": {
        "full": {"wide": 40, "wide_records": 2_000},
        "quick": {"wide": 8, "wide_records": 500},
    },
    "job": {"full": {"wide": 12, "wide_records": 2_000}, "quick": {"wide": 4, "wide_records": 500}},
}
DEFAULT_PIPELINES: dict[str, list[str]] = {
    "200k": ["ideal", "rest_assets", "dlt_parquet", "dlt_default"],
    "1m": ["ideal", "rest_assets"],
    "fanout": ["ideal", "ideal_par", "rest_assets", "dlt_parquet", "dlt_default"],
    "incremental": ["ideal", "rest_assets", "rest_assets_cli", "dagster_job", "dlt_parquet"],
    "wide": [
        "ideal_par",
        "rest_assets",
        "rest_assets_cli",
        "dlt_parquet",
        "dlt_parquet_serial",
        "dlt_default",
    ],
    "job": ["rest_assets_cli", "dagster_job", "rest_assets_cli_mp", "dagster_job_mp"],
}


# --------------------------------------------------------------------------- environments


@dataclass
class Envs:
    """Finds (and on first use creates) the interpreter of each environment."""

    rest_assets_python: str
    created: list[str] = field(default_factory=list)

    def python(self, env: str) -> Path:
        if env == "main":
            return Path(self.rest_assets_python)
        return BENCH / f".venv-{env}" / "bin" / "python"

    def ensure(self, env: str) -> Path:
        python = self.python(env)
        if env == "main":
            if not python.exists():
                raise SystemExit(
                    f"rest-assets interpreter {python} not found: run `python3 dev.py test` "
                    "once, or pass --rest-assets-python"
                )
            return python
        requirements = BENCH / f"requirements-{env}.txt"
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
        stamp = python.parent.parent / ".bench-installed"
        if python.exists() and stamp.exists() and stamp.read_text() == digest:
            return python
        venv_dir = python.parent.parent
        print(f"[env] installing {requirements.name} into {venv_dir} (once)", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
        # no pip cache: a run creates nothing outside bench/ but temp dirs
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        pip.append("--no-cache-dir")
        subprocess.run([*pip, "-r", str(requirements)], check=True)
        stamp.write_text(digest)
        self.created.append(env)
        return python

    def server_python(self) -> str:
        """Any interpreter with orjson starts the server faster; the stdlib one works too."""
        for env in ("ideal", "dlt"):
            if self.python(env).exists():
                return str(self.python(env))
        return sys.executable


# --------------------------------------------------------------------------- measuring


class TreeRSS(threading.Thread):
    """Polls /proc for the summed RSS of a process and its descendants; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()
        self.started = time.time()
        self.timeline: list[tuple[float, int]] = []  # (unix time, MiB), ~2 samples/s

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    for child in fh.read().split():
                        pids.extend(self._tree(int(child)))
        except OSError:
            pass
        return pids

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            for pid in self._tree(self.pid):
                try:
                    with open(f"/proc/{pid}/statm") as fh:
                        total += int(fh.read().split()[1]) * PAGE
                except (OSError, ValueError, IndexError):
                    pass
            self.peak = max(self.peak, total)
            now = time.time()
            if not self.timeline or now - self.timeline[-1][0] >= 0.5:
                self.timeline.append((round(now, 2), total >> 20))
            self.done.wait(self.interval)


@dataclass
class Measure:
    seconds: float
    returncode: int
    cpu: float  # user + system seconds of the child and the children it waited for
    maxrss_mib: float
    tree_mib: float
    stdout: str
    timeline: list[tuple[float, int]]


def measure(cmd: list[str], env: dict[str, str], cwd: str, log: Path, timeout: float) -> Measure:
    """Run one child to completion; wall time, its own peak RSS and its tree's peak RSS."""
    with open(log, "wb") as out:
        out.write((" ".join(cmd) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        poller = TreeRSS(proc.pid)
        poller.start()
        killer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        killer.start()
        # wait4 gives this child's own rusage (max RSS of it and its waited-for children)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        killer.cancel()
        poller.done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measure(
        seconds=seconds,
        returncode=proc.returncode,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,
        tree_mib=poller.peak / 2**20,
        stdout=log.read_text(errors="replace"),
        timeline=poller.timeline,
    )


def marker(stdout: str, name: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(name + " "):
            return json.loads(line[len(name) + 1 :])
    return None


# --------------------------------------------------------------------------- the server


class Server:
    """bench/server.py as a child process for one scenario."""

    def __init__(self, python: str, args: list[str], log: Path) -> None:
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [python, str(BENCH / "server.py"), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise SystemExit(f"bench server did not start (see {log})")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def warm(self, scenario: str) -> None:
        """Walk every list endpoint once so no pipeline pays for a cold server."""
        paths = ["/items?limit=1000", "/parents?limit=100"]
        if scenario in ("wide", "job"):
            paths = ["/wide/0?limit=500"]  # every page is pre-built: one resource warms the code
        for path in paths:
            next_url: str | None = self.url + path
            while next_url:
                with urllib.request.urlopen(next_url, timeout=60) as response:
                    raw = response.read()
                # `next` is the last key the server writes: no need to parse the records
                next_url = json.loads(b"{" + raw[raw.rindex(b'"next":') :]).get("next")

    def phase(self, n: int) -> None:
        request = urllib.request.Request(f"{self.url}/_control/phase?n={n}", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def server_args(scenario: str, quick: bool, latency_ms: float, page_latency_ms: float) -> list[str]:
    sizes = SIZES[scenario]["quick" if quick else "full"]
    args = ["--latency-ms", str(latency_ms)]
    if scenario == "wide":  # job: no page latency, its subject is the run machinery
        args += ["--page-latency-ms", str(page_latency_ms)]
    for key, value in sizes.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    if "records" not in sizes:
        args += ["--records", "0"]
    return args


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    scenario: str
    pipeline: str
    run: str  # "" or, for incremental, "first" / "second"
    status: str  # ok | unavailable | failed | timeout
    seconds: float | None = None
    inner_seconds: float | None = None
    work_seconds: float | None = None  # the pipeline's own work (see common.report)
    cpu_seconds: float | None = None  # user + system, the whole process tree
    rows: int | None = None
    rows_processed: int | None = None
    maxrss_mib: float | None = None
    tree_mib: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    load: str = ""  # the 1/5/15-minute load average when the run started
    dagster: dict[str, Any] = field(default_factory=dict)  # cli / job: the run's event log
    rss_timeline: list[tuple[float, int]] = field(default_factory=list)  # (unix time, MiB)

    @property
    def rows_per_s(self) -> float | None:
        if not self.seconds or self.rows_processed is None:
            return None
        return self.rows_processed / self.seconds


def child_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RUNTIME__DLTHUB_TELEMETRY": "false",  # no network calls from dlt
            "DLT_DATA_DIR": str(state / "dlt"),  # dlt's global dir, not ~/.dlt
            # Dagster keeps telemetry ids and logs under DAGSTER_HOME, else in ~/.dagster
            "DAGSTER_HOME": str(state / "dagster_home"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    (state / "dagster_home").mkdir(parents=True, exist_ok=True)
    return env


def resource_count(scenario: str, quick: bool) -> int:
    """The number of resources of a wide / job run (0 for the other scenarios)."""
    return SIZES[scenario]["quick" if quick else "full"].get("wide", 0)


def dagster_home(python: Path, env: dict[str, str], action: str) -> dict[str, Any]:
    """`pipelines/dagster_home.py prepare|read` on the run's home, outside the timed run."""
    done = subprocess.run(
        [str(python), str(PIPELINES_DIR / "dagster_home.py"), action],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if action == "prepare":
            raise SystemExit(f"preparing the Dagster home failed: {done.stderr[-2000:]}")
        return {"error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_phases(payload: dict[str, Any], run: dict[str, Any]) -> dict[str, float]:
    """Where a cli / job run's wall time went, from its event log's timestamps.

    start-up: spawn to the run's first event (interpreter, imports, definitions, the
    instance, creating the run); run set-up: to the first STEP_START (run start, executor,
    a step process under multiprocess); steps: to the last STEP_SUCCESS; run close: to
    RUN_SUCCESS; exit: to the process's end.
    """
    stamps = run.get("stamps") or {}
    spawned, exited = payload.get("spawned_at"), payload.get("exited_at")
    marks = [
        ("start-up", stamps.get("first_event")),
        ("run set-up", stamps.get("first_step_start")),
        ("steps", stamps.get("last_step_end")),
        ("run close", stamps.get("run_end")),
        ("exit", exited),
    ]
    if spawned is None or any(t is None for _, t in marks):
        return {}
    out, last = {}, spawned
    for name, moment in marks:
        out[name] = round(moment - last, 3)
        last = moment
    return out


def count_rows(python: Path, db: Path, tables: list[str]) -> dict[str, Any]:
    if not db.exists():
        return {}
    done = subprocess.run(
        [str(python), str(PIPELINES_DIR / "count_rows.py"), str(db), *tables],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout)


def run_once(
    opts: argparse.Namespace,
    envs: Envs,
    server: Server,
    scenario: str,
    name: str,
    workdir: Path,
    logs: Path,
    run: str = "",
) -> Result:
    env_name, script, extra = PIPELINES[name]
    python = envs.ensure(env_name)
    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / "state"
    state.mkdir(exist_ok=True)
    # not named like the schema ("bench"): DuckDB would find the reference ambiguous
    db = workdir / "landing.duckdb"
    cmd = [str(python), str(PIPELINES_DIR / script), "--url", server.url, "--db", str(db)]
    cmd += ["--scenario", scenario, "--state-dir", str(state), *extra]
    resources = resource_count(scenario, opts.quick)
    if resources:
        cmd += ["--resources", str(resources)]
    label = f"{scenario}-{name}{'-' + run if run else ''}"
    env = child_env(state)
    uses_home = name in HOME_PIPELINES or (name == "rest_assets" and scenario == "incremental")
    if uses_home:
        dagster_home(python, env, "prepare")  # untimed: a user's home exists already
    print(f"[run] {label} ...", end=" ", flush=True)
    load = _loadavg()
    m = measure(cmd, env, str(workdir), logs / f"{label}.log", opts.timeout)
    result = Result(scenario, name, run, "ok", seconds=round(m.seconds, 3), load=load)
    result.cpu_seconds = round(m.cpu, 3)
    result.maxrss_mib, result.tree_mib = round(m.maxrss_mib, 1), round(m.tree_mib, 1)
    result.rss_timeline = m.timeline
    unavailable = marker(m.stdout, "BENCH_UNAVAILABLE")
    payload = marker(m.stdout, "BENCH_RESULT") or {}
    if unavailable:
        result.status, result.note = "unavailable", unavailable["reason"]
        result.seconds = None
    elif m.returncode != 0 or not payload:
        result.status = "timeout" if m.returncode == -signal.SIGKILL else "failed"
        tail = [line for line in m.stdout.splitlines() if line.strip()][-1:]
        result.note = f"exit {m.returncode}: {tail[0][:200] if tail else ''}"
    else:
        result.inner_seconds = payload.get("inner_s")
        result.work_seconds = payload.get("work_s")
        result.phases = payload.get("phases", {})
        if name in HOME_PIPELINES:
            result.dagster = dagster_home(python, env, "read")
            if "work_s" in result.dagster:
                result.work_seconds = result.dagster["work_s"]
            result.phases = run_phases(payload, result.dagster) or result.phases
        counts = count_rows(python, db, tables_for(scenario, resources))
        result.tables = counts
        landed = [counts.get(t) for t in tables_for(scenario, resources)]
        if all(isinstance(v, int) for v in landed):
            result.rows = sum(landed)  # type: ignore[arg-type]
            result.rows_processed = result.rows
        else:
            result.note = f"tables not found: {counts}"
    print(
        f"{result.status} {_fmt(result.seconds)}s rows={result.rows} rss={result.maxrss_mib}MiB"
        + (f" ({result.note})" if result.note else ""),
        flush=True,
    )
    return result


def run_pipeline(
    opts: argparse.Namespace,
    envs: Envs,
    server: Server,
    scenario: str,
    name: str,
    tmp: Path,
    logs: Path,
) -> list[Result]:
    if scenario != "incremental":
        runs = []
        for i in range(opts.repeat):
            workdir = tmp / f"{scenario}-{name}-{i}"
            runs.append(run_once(opts, envs, server, scenario, name, workdir, logs))
            if not opts.keep:
                shutil.rmtree(workdir, ignore_errors=True)
            if runs[-1].status != "ok":
                break
        ok = [r for r in runs if r.status == "ok"]
        if len(ok) <= 1:
            return runs[-1:]
        best = sorted(ok, key=lambda r: r.seconds or 0)[len(ok) // 2]  # the median run
        best.maxrss_mib = max(r.maxrss_mib or 0 for r in ok)
        best.note = f"median of {len(ok)}: " + ", ".join(f"{r.seconds:.2f}" for r in ok)
        return [best]
    # incremental: the first run loads everything, then 1% new records arrive
    pairs: list[tuple[Result, Result]] = []
    for i in range(opts.repeat):
        workdir = tmp / f"{scenario}-{name}-{i}"
        server.phase(1)
        first = run_once(opts, envs, server, scenario, name, workdir, logs, run="first")
        if first.status != "ok":
            shutil.rmtree(workdir, ignore_errors=True)
            return [first]
        server.phase(2)
        second = run_once(opts, envs, server, scenario, name, workdir, logs, run="second")
        if second.status == "ok" and second.rows is not None and first.rows is not None:
            second.rows_processed = second.rows - first.rows  # what the second run added
        server.phase(1)
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        pairs.append((first, second))
        if second.status != "ok":
            return [first, second]
    if len(pairs) == 1:
        return list(pairs[0])
    # the median of each run on its own (the second run is the one a schedule repeats)
    out = []
    for index in (0, 1):
        runs = sorted((pair[index] for pair in pairs), key=lambda r: r.seconds or 0)
        best = runs[len(runs) // 2]
        best.maxrss_mib = max(r.maxrss_mib or 0 for r in runs)
        best.note = f"median of {len(runs)}: " + ", ".join(
            f"{r.seconds:.2f}" for r in (pair[index] for pair in pairs)
        )
        out.append(best)
    return out


def pipelines_for(scenario: str, opts: argparse.Namespace) -> list[str]:
    if opts.pipelines:
        chosen = [p.strip() for p in opts.pipelines.split(",") if p.strip()]
        unknown = [p for p in chosen if p not in PIPELINES]
        if unknown:
            raise SystemExit(f"unknown pipelines {unknown}; known: {sorted(PIPELINES)}")
    else:
        chosen = list(DEFAULT_PIPELINES[scenario])
        if scenario == "1m" and opts.dlt_1m:
            chosen.append("dlt_parquet")
    if opts.skip_dlt_default:
        chosen = [p for p in chosen if p != "dlt_default"]
    if opts.rest_assets_cli:
        chosen = ["rest_assets_cli" if p == "rest_assets" else p for p in chosen]
    return chosen


# --------------------------------------------------------------------------- reporting


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(result: Result, ref: Result | None, attr: str = "seconds") -> str:
    mine = getattr(result, attr)
    theirs = getattr(ref, attr) if ref is not None else None
    if ref is None or result.status != "ok" or mine is None or not theirs:
        return "-"
    return f"{mine / theirs:.2f}"


def user_tables(r: Result) -> list[str]:
    """Tables a pipeline made, without dlt's bookkeeping tables."""
    names = r.tables.get("_all_tables") or []
    return [n for n in names if not n.split(".")[-1].startswith("_dlt")]


def rows_cell(r: Result) -> str:
    if r.rows is None:
        return "-"
    if r.rows_processed is not None and r.rows_processed != r.rows:
        return f"{r.rows:,} (+{r.rows_processed:,})"  # incremental: total (added this run)
    return f"{r.rows:,}"


def table(results: list[Result]) -> str:
    """A markdown table per scenario; time ratios are this pipeline's time / the reference's."""
    lines: list[str] = []
    for scenario in dict.fromkeys(r.scenario for r in results):
        rows = [r for r in results if r.scenario == scenario]
        references = SCENARIO_REFERENCES.get(scenario, REFERENCES)
        lines += [
            f"### {scenario}",
            "",
            "| pipeline | run | wall s | CPU s | in-process s | work s | rows | rows/s "
            "| peak RSS MiB | tree RSS MiB | "
            + " | ".join(f"t / {name}" for name in references)
            + " | "
            + " | ".join(f"w / {name}" for name in references)
            + " | load | status |",
            "|---|---|" + "---:|" * (8 + 2 * len(references)) + "---|---|",
        ]
        for r in rows:
            refs = {
                name: next(
                    (x for x in rows if x.pipeline == name and x.run == r.run and x.status == "ok"),
                    None,
                )
                for name in references
            }
            status = r.status if r.status == "ok" else f"{r.status}: {r.note[:80]}"
            if r.status == "unavailable":
                status = "pending (package not available yet)"
            elif r.status == "ok" and r.note.startswith("median"):
                status = f"ok ({r.note})"
            ok = r.status == "ok"  # a failed run's time and memory measure nothing useful
            lines.append(
                f"| {r.pipeline} | {r.run or '-'} | {_fmt(r.seconds if ok else None)} "
                f"| {_fmt(r.cpu_seconds if ok else None)} | {_fmt(r.inner_seconds)} "
                f"| {_fmt(r.work_seconds if ok else None)} "
                f"| {rows_cell(r)} | {_fmt(r.rows_per_s, 0)} "
                f"| {_fmt(r.maxrss_mib if ok else None, 0)} "
                f"| {_fmt(r.tree_mib if ok else None, 0)} | "
                + " | ".join(ratio(r, refs[name]) for name in references)
                + " | "
                + " | ".join(ratio(r, refs[name], "work_seconds") for name in references)
                + f" | {r.load or '-'} | {status} |"
            )
        lines.append("")
        detail = [
            f"- {r.pipeline}{' ' + r.run if r.run else ''}: "
            + ", ".join(f"{k} {v:.2f}s" for k, v in r.phases.items())
            + tables_note(r)
            for r in rows
            if r.phases
        ]
        if detail:
            lines += [
                "Phases inside each process (import = interpreter + library imports; cli/job: "
                "from the run's event log, see run_phases):",
                "",
            ]
            lines += [*detail, ""]
    return "\n".join(lines)


def tables_note(r: Result) -> str:
    names = user_tables(r)
    if not names:
        return ""
    if len(names) > 6:
        return f"; tables: {len(names)} ({', '.join(names[:3])}, ...)"
    return f"; tables: {', '.join(names)}"


# --------------------------------------------------------------------------- self-check


def self_check() -> int:
    """Checks the server and the report code with the stdlib alone; prints passed/failed."""
    passed = failed = 0

    def check(name: str, ok: bool, detail: str = "") -> None:
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)

    def get(url: str) -> tuple[dict[str, Any], float, int]:
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read()), time.perf_counter() - start, response.status
        except urllib.error.HTTPError as exc:
            return {}, time.perf_counter() - start, exc.code

    def walk(url: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            body, _, _ = get(next_url)
            records += body["data"]
            next_url = body["next"]
        return records

    logs = Path(tempfile.mkdtemp(prefix="ra-bench-check-"))
    server = Server(
        sys.executable,
        [
            *("--records", "2500", "--new-records", "25", "--page-size", "1000"),
            *("--parents", "5", "--latency-ms", "20"),
            *("--wide", "2", "--wide-records", "1200", "--page-latency-ms", "30"),
        ],
        logs / "server.log",
    )
    try:
        first, _, _ = get(f"{server.url}/items?limit=1000")
        check("first page has 1000 records", len(first["data"]) == 1000)
        check("total is the record count", first["total"] == 2500, str(first["total"]))
        fields = set(first["data"][0])
        check("12 fields incl. nested and list", len(fields) == 12, str(sorted(fields)))
        check("address is an object", isinstance(first["data"][0]["address"], dict))
        check("tags is a list", all(isinstance(r["tags"], list) for r in first["data"]))
        records = walk(f"{server.url}/items?limit=1000")
        ids = [r["id"] for r in records]
        check("pagination returns every id once", ids == list(range(1, 2501)), str(len(ids)))
        odd = walk(f"{server.url}/items?limit=700")
        check("other page sizes work too", [r["id"] for r in odd] == ids)
        updated = [r["updated_at"] for r in records]
        check("updated_at strictly increases", all(a < b for a, b in itertools.pairwise(updated)))
        server.phase(2)
        since = updated[-1]
        new = walk(f"{server.url}/items?limit=1000&updated_since={since}")
        check(
            "updated_since returns only the new records in phase 2",
            [r["id"] for r in new] == list(range(2501, 2526)),
            str([r["id"] for r in new][:5]),
        )
        alt = walk(f"{server.url}/items?limit=10&updated_since={since.replace('Z', '%2B00:00')}")
        check("updated_since accepts +00:00 and follows next", len(alt) == 25, str(len(alt)))
        check("phase 2 serves all", len(walk(f"{server.url}/items?limit=1000")) == 2525)
        server.phase(1)
        check("phase 1 again", len(walk(f"{server.url}/items?limit=1000")) == 2500)
        parents = walk(f"{server.url}/parents?limit=2")
        check("parents paginate", [p["id"] for p in parents] == [1, 2, 3, 4, 5])
        body, took, _ = get(f"{server.url}/parents/3/children")
        check("children belong to their parent", {c["parent_id"] for c in body["data"]} == {3})
        check("children endpoint has its latency", took >= 0.019, f"{took:.3f}s")
        _, _, status = get(f"{server.url}/parents/99/children")
        check("unknown parent is 404", status == 404, str(status))
        wide = walk(f"{server.url}/wide/1?limit=500")
        check("a wide resource paginates", [r["id"] for r in wide] == list(range(1, 1201)))
        check("wide records have the items shape", set(wide[0]) == fields, str(sorted(wide[0])))
        _, took, _ = get(f"{server.url}/wide/0?limit=500&offset=500")
        check("a wide page has its latency", took >= 0.029, f"{took:.3f}s")
        _, _, status = get(f"{server.url}/wide/2?limit=500")
        check("a wide resource past --wide is 404", status == 404, str(status))
    finally:
        server.stop()
        shutil.rmtree(logs, ignore_errors=True)

    from common import rest_api_config

    config = rest_api_config("http://h:1", "incremental")
    endpoint = config["resources"][0]["endpoint"]
    check(
        "incremental config uses a placeholder",
        endpoint["params"]["updated_since"] == "{incremental.start_value}",
    )
    fanout = rest_api_config("http://h:1", "fanout")["resources"][1]["endpoint"]["path"]
    check("fanout child path resolves from parent", "{resources.parents.id}" in fanout)
    wide_config = rest_api_config("http://h:1", "wide", resources=3)
    check(
        "wide config has one resource per endpoint",
        [r["endpoint"]["path"] for r in wide_config["resources"]] == ["wide/0", "wide/1", "wide/2"],
    )
    check("wide tables are counted", tables_for("wide", 3) == ["r00", "r01", "r02"])
    fake = [
        Result("200k", "ideal", "", "ok", seconds=2.0, work_seconds=1.0, rows=10),
        Result("200k", "dlt_parquet", "", "ok", seconds=8.0, work_seconds=5.0, rows=10),
        Result("200k", "rest_assets", "", "unavailable", note="x"),
    ]
    text = table(fake)
    check("ratio vs ideal in the table", "| 4.00 | 1.00 |" in text, text)
    check("work ratio vs ideal in the table", "| 5.00 | 1.00 | - |" in text, text)
    check("unavailable shows as pending", "pending" in text)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# --------------------------------------------------------------------------- main


def _loadavg() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        default="200k",
        help="200k | 1m | fanout | incremental | wide | job | all | a,b",
    )
    parser.add_argument("--pipelines", default="", help=f"comma list of {', '.join(PIPELINES)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--skip-dlt-default", action="store_true", help="it is slow and big")
    parser.add_argument("--dlt-1m", action="store_true", help="add dlt_parquet to the 1m run")
    parser.add_argument("--rest-assets-cli", action="store_true", help="use the CLI, not API")
    parser.add_argument("--rest-assets-python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--latency-ms", type=float, default=20.0, help="children endpoint")
    parser.add_argument(
        "--page-latency-ms", type=float, default=50.0, help="wide: per page of every resource"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per pipeline (median)")
    parser.add_argument("--timeout", type=float, default=900.0, help="per pipeline run, s")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB files")
    parser.add_argument("--self-check", action="store_true")
    opts = parser.parse_args()
    if opts.self_check:
        return self_check()

    scenarios = (
        list(SIZES) if opts.scenario == "all" else [s.strip() for s in opts.scenario.split(",")]
    )
    for scenario in scenarios:
        if scenario not in SIZES:
            raise SystemExit(f"unknown scenario {scenario!r}; known: {', '.join(SIZES)}, all")
    envs = Envs(opts.rest_assets_python)
    plan = {s: pipelines_for(s, opts) for s in scenarios}
    for env in dict.fromkeys(PIPELINES[p][0] for ps in plan.values() for p in ps):
        if env != "main":
            envs.ensure(env)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = BENCH / "results" / (stamp + ("-quick" if opts.quick else ""))
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ra-bench-"))
    results: list[Result] = []
    started = time.perf_counter()
    load_start = _loadavg()
    try:
        for scenario in scenarios:
            args = server_args(scenario, opts.quick, opts.latency_ms, opts.page_latency_ms)
            print(f"[server] {scenario}: {' '.join(args)}", flush=True)
            server = Server(envs.server_python(), args, logs / f"{scenario}-server.log")
            try:
                server.warm(scenario)
                for name in plan[scenario]:
                    results += run_pipeline(opts, envs, server, scenario, name, tmp, logs)
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    header = (
        f"rest-assets benchmark {stamp}{' (quick sizes)' if opts.quick else ''}: "
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
        f"suite {time.perf_counter() - started:.0f}s, "
        f"load average at start {load_start} / end {_loadavg()} (other work skews times)"
    )
    text = header + "\n\n" + table(results)
    print("\n" + text)
    (out / "results.md").write_text(text + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {
                "header": header,
                "quick": opts.quick,
                "results": [asdict(r) | {"rows_per_s": r.rows_per_s} for r in results],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT)}/")
    failed = [r for r in results if r.status in ("failed", "timeout")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
