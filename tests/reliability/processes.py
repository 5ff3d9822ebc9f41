"""Runs in separate processes (to kill them, or to run them side by side) on a shared
DAGSTER_HOME and DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

SCRIPT = Path(__file__).with_name("run_materialize.py")


def write_config(path: Path, *sources: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"sources": list(sources)}))
    return path


def spawn(
    config: Path,
    database: Path,
    home: Path,
    *,
    env: dict[str, str] | None = None,
    serve: bool = False,
    select: list[str] | None = None,
    pause_at_commit: Path | None = None,
    pause_seconds: float = 0.0,
) -> subprocess.Popen[str]:
    """Start run_materialize.py; staging goes to `<home>/../tmp` so leftovers can be counted.

    With `pause_at_commit`, each load touches that file right before its COMMIT, then sleeps
    `pause_seconds` (see run_materialize.py).
    """
    tmp = home.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    args = [sys.executable, str(SCRIPT), str(config), str(database)]
    if serve:
        args.append("--serve")
    if select:
        args += ["--select", *select]
    if pause_at_commit is not None:
        args += ["--pause-at-commit", str(pause_at_commit), "--pause-seconds", str(pause_seconds)]
    child_env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "yes",
        "TMPDIR": str(tmp),
        **(env or {}),
    }
    return subprocess.Popen(
        args,
        env=child_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def result_of(proc: subprocess.Popen[str], timeout: float = 60.0) -> dict[str, Any]:
    """The JSON line a run printed (read lines until one parses; the child may log)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"child exited with {proc.wait(5)} before reporting a run")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    raise AssertionError("child did not report in time")


def wait_for_file(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Poll for `path` (1 ms steps) while the child lives."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}) before {path.name} appeared")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {timeout} s")
        time.sleep(0.001)


def staging_leftovers(home: Path) -> list[Path]:
    """Staged files a killed run left behind in its TMPDIR."""
    return [p for p in (home.parent / "tmp").rglob("*") if p.is_file()]
