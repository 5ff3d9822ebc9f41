"""Shared fixtures: the demo API on loopback and a temporary Dagster instance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from rest_assets.demo.api import DemoAPI

# dlt reports anonymous usage unless told not to: no test sends anything off this machine,
# and a dlt call in this process (e.g. dlt accepting a config) would start its reporter
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def demo_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoAPI]:
    """The bundled demo API, with DEMO_API_URL / DEMO_API_TOKEN exported for configs."""
    with DemoAPI() as api:
        monkeypatch.setenv("DEMO_API_URL", api.url)
        monkeypatch.setenv("DEMO_API_TOKEN", api.token)
        yield api


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A real, file-backed Dagster instance in a temporary DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst
