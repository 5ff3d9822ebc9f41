"""Configs other people wrote (bench/dlt_corpus/: dlt's tests, docs, templates and
courses, verified-sources, dlt-init-openapi output) build here when dlt 1.31 accepts them;
the one kind we refuse on purpose (a function as table_name) says what to write instead."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.dlt_compat.conftest import NO_DLT, dlt_importable

pytestmark = pytest.mark.skipif(not dlt_importable(), reason=NO_DLT)

BENCH = Path(__file__).resolve().parents[2] / "bench"
REFUSED_ON_PURPOSE = "a function as table_name (tables chosen per record) is not supported"


def _corpus() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the corpus modules import each other by name
    try:
        spec = importlib.util.spec_from_file_location("dlt_configs", BENCH / "dlt_configs.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["dlt_configs"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_every_config_dlt_accepts_builds_or_is_refused_with_the_way_forward(
    tmp_path: Path,
) -> None:
    corpus = _corpus()
    outcomes = [corpus.run(case, str(tmp_path / "w.duckdb")) for case in corpus.cases()]
    accepted = [o for o in outcomes if o.dlt_ok]
    assert len(accepted) >= 100  # the corpus is there, and dlt takes it
    refused = {o.origin: o.ours_error for o in accepted if not o.ours_ok}
    unexpected = {k: v for k, v in refused.items() if REFUSED_ON_PURPOSE not in v}
    assert unexpected == {}
    assert len(refused) <= 2  # dlt's two per-record table_name configs
    assert all("Make one resource per table" in v for v in refused.values())
