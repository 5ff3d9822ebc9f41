"""The garbage-collector tuning of `rest_assets.heap`: what is frozen, when, and for how long."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from rest_assets import build_definitions, heap
from rest_assets.demo.server import LocalAPI, Request, Response


@pytest.fixture
def clean_heap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start from an unfrozen heap that this module did not freeze, and leave one behind."""
    gc.unfreeze()
    monkeypatch.setattr(heap, "_import_frozen", False)
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


def test_import_freezes_its_heap_and_restores_the_collector() -> None:
    code = (
        "import gc, rest_assets; print(gc.get_freeze_count() > 10000, gc.isenabled(), "
        "rest_assets.heap._import_frozen)"
    )
    assert _probe(code) == "True True True"
    # a process that switched the collector off keeps it off
    assert _probe("import gc; gc.disable(); import rest_assets; print(gc.isenabled())") == "False"
    # the switch turns it all off
    assert _probe(code, REST_ASSETS_GC_FREEZE="0") == "False True False"


def test_import_leaves_a_heap_frozen_by_the_process_alone() -> None:
    code = (
        "import gc; gc.freeze(); import rest_assets; from rest_assets import heap; "
        "print(heap._import_frozen)\n"
        "with heap.frozen_heap(): pass\n"
        "print(gc.get_freeze_count() > 0)"
    )
    # not ours: neither the import nor an extraction unfreezes it
    assert _probe(code).split() == ["False", "True"]


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


def test_frozen_heap_takes_over_the_import_freeze(
    clean_heap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.freeze()
    monkeypatch.setattr(heap, "_import_frozen", True)
    with heap.frozen_heap():
        assert gc.get_freeze_count() > 0
    # unfrozen afterwards: garbage of a long-lived process is not kept frozen
    assert gc.get_freeze_count() == 0
    assert heap._import_frozen is False


def test_frozen_heap_respects_the_switch(clean_heap: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(heap.ENV_SWITCH, "0")
    with heap.frozen_heap():
        assert gc.get_freeze_count() == 0


def test_extraction_runs_with_the_heap_frozen_and_leaves_it_unfrozen(
    clean_heap: None, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
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
