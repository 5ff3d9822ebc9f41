"""Keep Python's cyclic garbage collector off the long-lived heap: imports, records, exit.

Importing Dagster leaves ~140,000 container objects alive and a run adds ~80,000 more. Every
burst of allocations triggers collections, and each oldest-generation collection walks that
whole heap again. Measured (`bench/README.md`, 200k records of 12 fields):

- `import rest_assets`: 1.19 s from start to exit, 0.83 s with the collector paused during
  the imports and their objects frozen afterwards (`pause_for_imports`, `freeze_imports`);
- parsing and re-serializing every page: 0.94 s in a process that had run an asset, 0.27 s
  with the heap frozen during the extraction (`frozen_heap`);
- interpreter exit after a run: ~0.5 s of final collections, ~0.05 s with the heap frozen
  (`freeze_imports` registers that freeze at exit).

`gc.freeze()` moves every live object into a permanent generation that collections skip, in
O(1); `gc.unfreeze()` hands them back. Frozen objects are still freed by reference counting;
only cyclic garbage among them waits, until they are unfrozen (after each extraction) or the
process ends. Records are acyclic dicts and lists.

`REST_ASSETS_GC_FREEZE=0` turns all of it off. A process that froze its heap itself (a
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
_import_frozen = False  # whether the permanent generation is ours, from `freeze_imports`
_was_enabled = True


def enabled() -> bool:
    """Whether the tuning is on (`REST_ASSETS_GC_FREEZE` is not "0", "false" or "no")."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "false", "no"}


def pause_for_imports() -> None:
    """Pause the collector until `freeze_imports()`: the package is about to import Dagster."""
    global _was_enabled
    _was_enabled = gc.isenabled()
    if enabled():
        gc.disable()


def freeze_imports() -> None:
    """Freeze what the imports left alive (modules, classes, functions), restore the
    collector, and freeze again at exit so the interpreter's final collections are short."""
    global _import_frozen
    if enabled():
        with _lock:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                _import_frozen = True
        # atexit runs callbacks last-registered first: this one, registered at import, runs
        # after Dagster's and the user's own, once the work is done and files are closed
        atexit.register(gc.freeze)
    if _was_enabled:
        gc.enable()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the heap for the duration of an extraction; nestable and thread-safe.

    Parallel extractions in one process share a single freeze, undone when the last one
    leaves, so a long-lived process running many assets never keeps garbage frozen for long.
    """
    global _depth, _owner, _import_frozen
    with _lock:
        if _depth == 0:
            # get_freeze_count() walks the permanent generation (~15 ms after the import
            # freeze): ask it only when the freeze may not be ours
            _owner = enabled() and (_import_frozen or gc.get_freeze_count() == 0)
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
                _import_frozen = False
