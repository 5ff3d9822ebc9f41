"""The garbage-collector tuning of `rest_assets.heap`: what is frozen, when, and for how long."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from rest_assets import build_definitions, heap
from rest_assets.demo.server import LocalAPI, Request, Response


@pytest.fixture
def clean_heap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start from an unfrozen heap that this module did not freeze, and leave one behind."""
    gc.unfreeze()
    monkeypatch.setattr(heap, "_ours", False)
    monkeypatch.delenv(heap.ENV_SWITCH, raising=False)
    yield
    gc.unfreeze()


def _probe(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return done.stdout.strip()


def test_importing_the_package_leaves_the_collector_and_heap_alone() -> None:
    code = "import gc, rest_assets, rest_assets.cli; print(gc.get_freeze_count(), gc.isenabled())"
    assert _probe(code) == "0 True"
    assert _probe("import gc; gc.disable(); import rest_assets; print(gc.isenabled())") == "False"


def test_the_command_freezes_its_imports_and_the_switch_turns_it_off() -> None:
    code = (
        "import gc; from rest_assets import heap; heap.tune_command_process(); "
        "print(gc.get_freeze_count() > 10000, gc.isenabled(), heap._ours)"
    )
    assert _probe(code) == "True True True"
    assert _probe(code, REST_ASSETS_GC_FREEZE="0") == "False True False"


def test_a_heap_frozen_by_the_process_itself_is_left_alone() -> None:
    code = (
        "import gc; gc.freeze(); from rest_assets import heap; heap.tune_command_process(); "
        "print(heap._ours)\n"
        "with heap.frozen_heap(): pass\n"
        "print(gc.get_freeze_count() > 0)"
    )
    # not ours: neither the command set-up nor an extraction unfreezes it
    assert _probe(code).split() == ["False", "True"]


def test_a_process_that_ran_a_step_freezes_its_heap_at_exit() -> None:
    # registered first, so it runs last (atexit is last in, first out): it sees the exit freeze
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count() > 0))\n"
        "from rest_assets import heap\n"
        "heap.freeze_at_exit(); heap.freeze_at_exit()\n"
        "print('frozen now', gc.get_freeze_count() > 0)"
    )
    assert _probe(code).splitlines() == ["frozen now False", "frozen at exit True"]
    assert _probe(code, REST_ASSETS_GC_FREEZE="0").splitlines()[-1] == "frozen at exit False"


def test_frozen_heap_nests_across_threads_and_unfreezes_once(clean_heap: None) -> None:
    assert gc.get_freeze_count() == 0
    inner_entered, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def worker() -> None:
        with heap.frozen_heap():
            inner_entered.set()
            release.wait(10)
        seen.append(gc.get_freeze_count())

    with heap.frozen_heap():
        assert gc.get_freeze_count() > 0
        thread = threading.Thread(target=worker)
        thread.start()
        assert inner_entered.wait(10)
        release.set()
        thread.join(10)
        # the worker left first: the freeze is still the outer scope's
        assert seen and seen[0] > 0
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_frozen_heap_takes_over_the_command_freeze(
    clean_heap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.freeze()
    monkeypatch.setattr(heap, "_ours", True)
    with heap.frozen_heap():
        assert gc.get_freeze_count() > 0
    # unfrozen afterwards: garbage of a long-lived process is not kept frozen
    assert gc.get_freeze_count() == 0
    assert heap._ours is False


def test_frozen_heap_respects_the_switch(clean_heap: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(heap.ENV_SWITCH, "0")
    with heap.frozen_heap():
        assert gc.get_freeze_count() == 0


def test_extraction_runs_with_the_heap_frozen_and_leaves_it_unfrozen(
    clean_heap: None, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the step asks for the exit freeze; not registered in the test process itself
    registered: list[object] = []
    monkeypatch.setattr(heap, "_at_exit", False)
    monkeypatch.setattr(heap, "atexit", SimpleNamespace(register=registered.append))
    # The API handler runs in this process (a server thread), while the asset fetches.
    frozen_during_request: list[int] = []

    def rows(request: Request) -> Response:
        frozen_during_request.append(gc.get_freeze_count())
        return Response({"data": [{"id": i} for i in range(5)]})

    with LocalAPI() as api:
        api.route("GET", "/rows", rows)
        config = {
            "sources": [
                {
                    "name": "gc",
                    "client": {"base_url": api.url, "paginator": "single_page"},
                    "resources": [{"name": "rows", "endpoint": {"path": "rows"}}],
                }
            ]
        }
        defs = build_definitions(config, database=tmp_path / "w.duckdb")
        result = dg.materialize(
            list(defs.assets or []), instance=instance, resources=defs.resources
        )
    assert result.success
    assert frozen_during_request and frozen_during_request[0] > 0
    assert gc.get_freeze_count() == 0
    assert len(registered) == 1 and heap._at_exit
