"""Keep Python's cyclic garbage collector off the long-lived heap while records stream.

Dagster leaves ~140,000 container objects alive and a run adds ~80,000 more. Every burst of
allocations triggers collections, and each oldest-generation collection walks that whole
heap again. Measured (`bench/README.md`, 200k records of 12 fields): parsing and
re-serializing every page took 0.94 s in a process that had run an asset, 0.27 s with the
heap frozen during the extraction.

`gc.freeze()` moves every live object into a permanent generation that collections skip, in
O(1); `gc.unfreeze()` hands them back. Frozen objects are still freed by reference counting;
only cyclic garbage among them waits until they are unfrozen (after each step). Records are
acyclic dicts and lists.

Importing rest_assets changes nothing: the heap is frozen only while a step runs
(`frozen_heap`). The `rest-assets` command, which owns its process, also freezes what its
imports left alive and freezes the heap again at exit (`tune_command_process`): its exit
took ~0.5 s of final collections, ~0.05 s frozen. A process that ran a step (a run worker
of the UI, `dagster asset materialize`, a step process of the multiprocess executor) is
about to exit too: it freezes its heap at exit as well (`freeze_at_exit`; the exit of
`dagster asset materialize` after a 12-resource run: 0.9 s -> 0.07 s).
`REST_ASSETS_GC_FREEZE=0` turns all of it off; a process that froze its heap itself (a
pre-fork server, say) is left alone.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ENV_SWITCH = "REST_ASSETS_GC_FREEZE"

_lock = threading.Lock()
_depth = 0
_owner = False  # whether the outermost `frozen_heap` froze the heap (and so unfreezes it)
_ours = False  # whether the permanent generation is ours, from `tune_command_process`
_at_exit = False  # whether the exit freeze is registered


def enabled() -> bool:
    """Whether the tuning is on (`REST_ASSETS_GC_FREEZE` is not "0", "false" or "no")."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "false", "no"}


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the heap for the duration of an extraction; nestable and thread-safe.

    Parallel extractions in one process share a single freeze, undone when the last one
    leaves, so a long-lived process running many assets never keeps garbage frozen for long.
    """
    global _depth, _owner, _ours
    with _lock:
        if _depth == 0:
            # get_freeze_count() walks the permanent generation: ask only when it may not be ours
            _owner = enabled() and (_ours or gc.get_freeze_count() == 0)
            if _owner:
                gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _owner:
                gc.unfreeze()
                _owner = False
                _ours = False


def tune_command_process() -> None:
    """For a process's owner (the `rest-assets` command), once its imports are done: freeze
    what they left alive, and freeze again at exit so the final collections are short."""
    global _ours
    if not enabled() or gc.get_freeze_count():
        return
    with _lock:
        gc.freeze()
        _ours = True
    freeze_at_exit()


def freeze_at_exit() -> None:
    """Freeze the heap when the process exits, so its final collection skips it; once.

    Interpreter shutdown ends with a collection over every live object, ~0.5-0.9 s with
    Dagster's heap. Frozen objects are still freed by reference counting at shutdown; only
    cycles among them are left to the operating system. Called by a step: the process that
    ran one is a command, a run worker or a step worker, which exits once its run is done.
    """
    global _at_exit
    with _lock:
        if _at_exit or not enabled():
            return
        _at_exit = True
    atexit.register(_freeze_unless_frozen_by_others)


def _freeze_unless_frozen_by_others() -> None:
    # a process that froze its heap itself (and is not the command) keeps its own scheme
    if _ours or _depth or gc.get_freeze_count() == 0:
        gc.freeze()
