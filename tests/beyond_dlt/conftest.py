"""The pains API on loopback and a one-source project builder for the tests in this folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.beyond_dlt.pains_api import PainsAPI


@pytest.fixture
def pains() -> Iterator[PainsAPI]:
    with PainsAPI() as api:
        yield api


def project(api: PainsAPI, resources: list[dict[str, Any]], **client: Any) -> dict[str, Any]:
    """One source `pains` around `resources`; no retries (a failure should fail at once)."""
    return {
        "sources": [
            {
                "name": "pains",
                "client": {"base_url": api.url, "rate_limit": {"max_retries": 0}, **client},
                "resources": resources,
            }
        ]
    }


PARENTS = {
    "name": "parents",
    "primary_key": "id",
    "endpoint": {
        "path": "parents",
        "data_selector": "data",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    },
}
