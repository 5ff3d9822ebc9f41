"""Fixtures of the fault-injection suite: the faulty API and a run harness.

Every test records one row per fault (records expected and found, cursor before and after,
outcome); the rows are printed as a table at the end of the session and, when
`RA_RELIABILITY_REPORT` names a file, written there as Markdown.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets.demo.server import LocalAPI
from tests.reliability.faulty_api import FaultyAPI
from tests.reliability.harness import REPORT, Harness, report_table


@pytest.fixture
def api() -> Iterator[FaultyAPI]:
    with FaultyAPI(page_size=10) as server:
        yield server


@pytest.fixture
def local() -> Iterator[LocalAPI]:
    """A plain routing server on loopback, for tests that shape each answer themselves."""
    with LocalAPI() as server:
        yield server


@pytest.fixture(scope="module")
def shared_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    """One Dagster instance for a module (creating one costs ~1 s); tests keep apart by using
    distinct source names, hence asset keys."""
    home = tmp_path_factory.mktemp("dagster_home")
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def harness(
    api: FaultyAPI,
    shared_instance: dg.DagsterInstance,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Harness:
    _COUNTER.append(None)
    return Harness(api, shared_instance, tmp_path, source=f"src{len(_COUNTER)}")


_COUNTER: list[None] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    terminalreporter.section("reliability report")
    for line in report_table():
        terminalreporter.write_line(line)
    target = os.environ.get("RA_RELIABILITY_REPORT")
    if target:
        Path(target).write_text("\n".join(report_table()) + "\n")
