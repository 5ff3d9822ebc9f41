"""Pages fetched ahead in parallel once page one names the total (dlt 2844), in order; totals
only on page one or null neither break nor stop pagination early (dlt 1414, 4429)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.http.client import RestClient
from tests.beyond_dlt.conftest import project
from tests.beyond_dlt.pains_api import PainsAPI
from tests.incremental.conftest import latest_meta, rows, run

KEY = asset_key("pains", "numbers")


def numbers(total: str = "every", **endpoint: Any) -> dict[str, Any]:
    return {
        "name": "numbers",
        "primary_key": "n",
        "endpoint": {
            "path": "numbers",
            "params": {"total": total},
            "data_selector": "items",
            "paginator": {"type": "offset", "limit": 10, "total_path": "total"},
            **endpoint,
        },
    }


def test_page_concurrency_fetches_ahead_and_rows_land_in_order(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    pains.delay = 0.05
    defs = build_definitions(project(pains, [numbers(page_concurrency=4)]), database=db)
    assert run(defs, instance).success
    assert pains.max_in_flight > 1  # pages 2..10 overlapped
    assert pains.max_in_flight <= 4
    offsets = sorted(int(r.arg("offset") or 0) for r in pains.sent("/numbers"))
    assert offsets == list(range(0, 100, 10))  # each page once, none past the total
    assert rows(db, "SELECT count(*), count(DISTINCT n) FROM raw_pains.numbers") == [(100, 100)]
    assert latest_meta(instance, KEY)["pages"] == 10


def test_pages_fetched_ahead_are_yielded_in_page_order(pains: PainsAPI) -> None:
    # page 2 answers last: a pool that yielded in completion order would put it at the end
    pains.delay = 0.02
    pains.slow = {10: 0.3}
    client = RestClient(pains.url, retry=1)
    pages = list(
        client.paginate(
            "numbers",
            paginator={"type": "offset", "limit": 10},
            data_selector="items",
            page_concurrency=4,
        )
    )
    assert pains.max_in_flight > 1
    assert [p.number for p in pages] == list(range(1, 11))
    assert [r["n"] for p in pages for r in p.records] == list(range(100))
    assert [p.request.params["offset"] for p in pages[1:]] == list(range(10, 100, 10))


def test_without_page_concurrency_pages_are_sequential(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    pains.delay = 0.02
    defs = build_definitions(project(pains, [numbers()]), database=tmp_path / "w.duckdb")
    assert run(defs, instance).success
    assert pains.max_in_flight == 1
    assert len(pains.sent("/numbers")) == 10


@pytest.mark.parametrize("total", ["first", "null"])
@pytest.mark.parametrize("page_concurrency", [1, 4])
def test_totals_only_on_page_one_or_null_still_load_everything(
    pains: PainsAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    total: str,
    page_concurrency: int,
) -> None:
    db = tmp_path / "w.duckdb"
    config = numbers(total, page_concurrency=page_concurrency)
    defs = build_definitions(project(pains, [config]), database=db)
    assert run(defs, instance).success
    assert rows(db, "SELECT count(*), count(DISTINCT n) FROM raw_pains.numbers") == [(100, 100)]
    # null totals: the short (empty) page 11 ends it; a total on page one: exactly 10 pages
    assert len(pains.sent("/numbers")) == (10 if total == "first" else 11)


def test_fetch_ahead_respects_max_pages_and_stops_at_an_empty_page(pains: PainsAPI) -> None:
    client = RestClient(pains.url, retry=1)
    pages = list(
        client.paginate(
            "numbers",
            paginator={"type": "offset", "limit": 10},
            data_selector="items",
            max_pages=3,
            page_concurrency=4,
        )
    )
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.records[0]["n"] for p in pages] == [0, 10, 20]
    # the total says 100 but only 35 exist: the first empty page ends the walk
    del pains.numbers[35:]
    client = RestClient(pains.url, retry=1)
    walked = list(
        client.paginate(
            "numbers",
            params={"claim": 100},
            paginator={"type": "offset", "limit": 10},
            data_selector="items",
            page_concurrency=3,
        )
    )
    assert [len(p.records) for p in walked] == [10, 10, 10, 5, 0]
