"""Fixtures of the seed-example tests: the examples' hosts on loopback, an isolated process
environment, and a scan proving a secret reached no log, DuckDB file or Dagster home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rest_assets.config.project_files import PROJECT_VALUES
from tests.seeds.loopback import HostsProxy, TestCA

_PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def isolated_process(tmp_path: Path) -> Iterator[Path]:
    """Each test gets the environment back as it was (`.env` files load into it), a home
    folder of its own (no `~/.dlt` of the machine) and no `.dlt` values of other tests."""
    saved = dict(os.environ)
    home = tmp_path / "home"
    home.mkdir()
    # not monkeypatch: its undo runs after this teardown and would bring back values that
    # `.env` files loaded between its setenv and the end of the test
    os.environ["HOME"] = str(home)
    PROJECT_VALUES.clear()
    try:
        yield home
    finally:
        PROJECT_VALUES.clear()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def hosts(test_ca: TestCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostsProxy]:
    """The proxy standing in for the examples' hosts; `hosts.api(name)` serves one."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with HostsProxy(test_ca) as proxy:
        for name, value in proxy.environment().items():
            monkeypatch.setenv(name, value)
        yield proxy
        for api in proxy.hosts.values():
            api.stop()
        assert not proxy.refused, f"requests to hosts no test serves: {proxy.refused}"
