"""Fixtures of the relationship tests: a GitHub-like API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rel_support import IssuesAPI


@pytest.fixture
def github() -> Iterator[IssuesAPI]:
    with IssuesAPI(repos=("dagster", "dlt")) as api:
        yield api
