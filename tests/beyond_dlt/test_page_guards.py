"""Pagination that dlt follows forever or gets wrong (issue 14, "beyond dlt"):

- an API whose `Link: rel="next"` (or `next` URL, or cursor) is always there, with empty
  pages at the end: the walk stops after `max_empty_pages` empty pages in a row (default 3)
  with a WARNING naming the resource, on every paginator;
- a default `max_pages` exists (100,000) and reaching it is a WARNING;
- an offset API that caps the page size below `limit` loses no record: the offset advances
  by what the API says it sent (or what arrived), logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import build_definitions
from rest_assets.config.models import EndpointConfig
from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.http import pagination
from rest_assets.http.client import RestClient
from tests.incremental.conftest import rows, run

ITEMS = [{"id": i} for i in range(1, 8)]


class EndlessAPI:
    """`/link` (Link rel=next forever), `/json` (a new next URL forever), `/cursor` (an
    integer cursor that never ends): 3 items a page, then empty pages. `/capped`: an
    offset API serving at most `cap` records whatever the limit."""

    def __init__(self) -> None:
        self.server = LocalAPI()
        self.cap = 2
        self.states_cap = False
        self.total = True
        for path in ("/link", "/json", "/cursor", "/capped"):
            self.server.route("GET", path, getattr(self, "_" + path[1:]))

    @property
    def url(self) -> str:
        return self.server.url

    def sent(self, path: str) -> list[Request]:
        return self.server.requests_to(path)

    def _page(self, request: Request, name: str = "p") -> tuple[int, list[dict[str, Any]]]:
        page = int(request.arg(name) or 0)
        return page, ITEMS[page * 3 : page * 3 + 3]

    def _link(self, request: Request) -> Response:
        page, chunk = self._page(request)
        return Response(chunk, headers={"Link": f'<{self.url}/link?p={page + 1}>; rel="next"'})

    def _json(self, request: Request) -> Response:
        page, chunk = self._page(request)
        return Response({"data": chunk, "next": f"{self.url}/json?p={page + 1}"})

    def _cursor(self, request: Request) -> Response:
        page, chunk = self._page(request, "cursor")
        return Response({"data": chunk, "cursors": {"next": page + 1}})

    def _capped(self, request: Request) -> Response:
        offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 10)
        size = min(limit, self.cap)
        body: dict[str, Any] = {"data": ITEMS[offset : offset + size]}
        if self.total:
            body["total"] = len(ITEMS)
        if self.states_cap:
            body["limit"] = size
        return Response(body)


@pytest.fixture
def endless() -> Iterator[EndlessAPI]:
    api = EndlessAPI()
    with api.server:
        yield api


def _project(api: EndlessAPI, endpoint: dict[str, Any], name: str = "things") -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": "endless",
                "client": {"base_url": api.url, "rate_limit": {"max_retries": 0}},
                "resources": [{"name": name, "endpoint": endpoint}],
            }
        ]
    }


@pytest.mark.parametrize(
    ("path", "paginator", "selector"),
    [
        ("link", "header_link", None),
        ("json", {"type": "json_link", "next_url_path": "next"}, "data"),
        ("cursor", {"type": "cursor", "cursor_path": "cursors.next"}, "data"),
    ],
)
def test_endless_next_with_empty_pages_stops_after_three_with_a_warning(
    endless: EndlessAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    path: str,
    paginator: Any,
    selector: str | None,
) -> None:
    db = tmp_path / "w.duckdb"
    endpoint = {"path": path, "paginator": paginator, "data_selector": selector}
    defs = build_definitions(_project(endless, endpoint), database=db)
    with caplog.at_level(logging.WARNING, logger="rest_assets.http"):
        assert run(defs, instance).success
    # 3 pages with data, then the 3 empty pages the guard allows
    assert len(endless.sent(f"/{path}")) == 6
    assert rows(db, "SELECT count(*) FROM raw_endless.things") == [(7,)]
    warnings = [r.getMessage() for r in caplog.records if "empty pages in a row" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("resource 'things': stopped after 3 empty pages in a row")
    assert "endpoint.max_empty_pages" in warnings[0]


def test_max_empty_pages_is_configurable(endless: EndlessAPI) -> None:
    client = RestClient(endless.url, retry=1)
    pages = list(client.paginate("link", paginator="header_link", max_empty_pages=5))
    assert len(pages) == 3 + 5
    endless.server.requests.clear()
    # null: no such guard (max_pages still holds)
    pages = list(
        client.paginate("link", paginator="header_link", max_empty_pages=None, max_pages=12)
    )
    assert len(pages) == 12


def test_the_default_max_pages_is_high_and_reaching_it_warns(
    endless: EndlessAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert EndpointConfig().max_pages == 100_000 == pagination.DEFAULT_MAX_PAGES
    assert EndpointConfig(max_pages=None).max_pages is None  # an explicit null: no limit
    # the default cap's warning, shown with a small stand-in for the default
    monkeypatch.setattr(pagination, "DEFAULT_MAX_PAGES", 4)
    client = RestClient(endless.url, retry=1)
    with caplog.at_level(logging.INFO, logger="rest_assets.http"):
        pages = list(
            client.paginate("link", paginator="header_link", max_pages=4, resource="things")
        )
    assert len(pages) == 4
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warned] == [
        "resource 'things': stopped after 4 pages, the default max_pages, although the "
        "paginator reported a next page; set endpoint.max_pages higher (or null for no "
        "limit) if the API really has more"
    ]
    # a max_pages the user chose is theirs: an INFO line
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rest_assets.http"):
        list(client.paginate("link", paginator="header_link", max_pages=2, resource="things"))
    assert [r.levelno for r in caplog.records if "max_pages" in r.getMessage()] == [logging.INFO]


@pytest.mark.parametrize(
    ("states_cap", "total"),
    [(True, False), (False, True), (False, False)],
    ids=["stated-in-response", "proven-by-total", "probed"],
)
def test_an_offset_api_capping_the_page_size_loses_no_record(
    endless: EndlessAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    states_cap: bool,
    total: bool,
) -> None:
    endless.states_cap, endless.total = states_cap, total
    db = tmp_path / "w.duckdb"
    paginator = {"type": "offset", "limit": 3, "total_path": "total" if total else None}
    endpoint = {"path": "capped", "paginator": paginator, "data_selector": "data"}
    defs = build_definitions(_project(endless, endpoint), database=db)
    with caplog.at_level(logging.WARNING, logger="rest_assets.http"):
        assert run(defs, instance).success
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_endless.things") == [(7, 7)]
    offsets = [r.arg("offset") for r in endless.sent("/capped")]
    # dlt asks for 0, 3, 6 and gets 1-2, 4-5, 7: three records lost. Probed: page 2 as long
    # as page 1 confirms the cap, and the shorter page 4 is the last
    assert offsets == ["0", "2", "4", "6"]
    assert all(r.arg("limit") == "3" for r in endless.sent("/capped"))
    notes = [r.getMessage() for r in caplog.records if "records per page" in r.getMessage()]
    assert len(notes) == 1, notes
    assert notes[0].startswith("resource 'things': the API ")
    assert "2 records per page where limit=3 was asked" in notes[0]
