"""Temporary directories of runs, named after the process that owns them, swept once it is gone.

A run stages its pages under the system temp directory and removes them when it ends. A run
killed outright (SIGKILL, OOM killer, a lost pod) cannot: its pages stay, and on a busy
instance they add up. So each directory's name carries its owner, ``rest-assets-<host>-<pid>-``,
and every run first removes the directories of this host whose process no longer exists.

The host part (a hash of the host name) keeps containers that share a temp directory out of
each other's way; a process of this host that reuses a dead run's pid only delays the sweep.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

PREFIX = "rest-assets-"

_lock = threading.Lock()
_ours: set[str] = set()  # directories this process created and has not removed yet


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode(), usedforsecurity=False).hexdigest()[:8]


def new_directory(kind: str = "stage") -> Path:
    """A fresh private directory for one run's temporary files, owned by this process."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{_host()}-{os.getpid()}-"))
    with _lock:
        _ours.add(str(path))
    return path


def release(path: Path) -> None:
    """Remove a directory made by `new_directory` (its owner is done with it)."""
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _ours.discard(str(path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def sweep(root: Path | None = None) -> tuple[int, int]:
    """Remove the directories of this host whose owning process is gone.

    Returns (directories, bytes) removed. Never raises: a sweep must not fail a run.
    """
    if os.name == "nt":  # os.kill(pid, 0) is not a probe there
        return 0, 0
    base = root if root is not None else Path(tempfile.gettempdir())
    pattern = re.compile(rf"^{re.escape(PREFIX)}[a-z]+-{_host()}-(\d+)-")
    me = os.getpid()
    removed = size = 0
    with _lock:  # forget our directories that are gone (a long-lived process runs many)
        _ours.difference_update([p for p in _ours if not os.path.exists(p)])
    try:
        entries = list(base.iterdir())
    except OSError:
        return 0, 0
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        with _lock:
            mine = str(entry) in _ours
        if mine or (pid != me and _alive(pid)):
            continue
        with contextlib.suppress(OSError):
            size += sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed += 1
    return removed, size
