"""Temporary run directories: named after their process, swept once that process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rest_assets.load import tempdirs


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _make(root: Path, name: str, payload: bytes = b"x" * 1000) -> Path:
    path = root / name
    path.mkdir()
    (path / "batch-000000.json").write_bytes(payload)
    return path


def test_sweep_removes_only_directories_whose_process_is_gone(tmp_path: Path) -> None:
    host = tempdirs._host()
    dead = _make(tmp_path, f"rest-assets-stage-{host}-{_dead_pid()}-abc")
    dead_out = _make(tmp_path, f"rest-assets-out-{host}-{_dead_pid()}-def", b"y" * 500)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as live:
        try:
            alive = _make(tmp_path, f"rest-assets-stage-{host}-{live.pid}-ghi")
            other_host = _make(tmp_path, f"rest-assets-stage-0000beef-{_dead_pid()}-jkl")
            unrelated = _make(tmp_path, f"something-else-{_dead_pid()}")
            removed = tempdirs.sweep(tmp_path)
        finally:
            live.kill()
    assert removed == (2, 1500)
    assert not dead.exists() and not dead_out.exists()
    assert alive.exists() and other_host.exists() and unrelated.exists()


def test_sweep_keeps_this_process_directories_but_not_a_reused_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mine = tempdirs.new_directory("stage")
    assert mine.parent == tmp_path and f"-{os.getpid()}-" in mine.name
    (mine / "batch-000000.json").write_bytes(b"{}")
    # same pid, not made by this process: a killed run whose pid was handed out again
    reused = _make(tmp_path, f"rest-assets-stage-{tempdirs._host()}-{os.getpid()}-old")
    assert tempdirs.sweep() == (1, 1000)
    assert mine.exists() and not reused.exists()
    tempdirs.release(mine)
    assert not mine.exists()
    assert tempdirs.sweep() == (0, 0)
