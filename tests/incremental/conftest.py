"""An API with `updated_since` filtering on a real loopback server, and helpers for runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets.demo.server import LocalAPI, Request, Response


def stamp(n: int) -> str:
    """The n-th minute of 2024-01-01 as an ISO timestamp (distinct values sort as text)."""
    return f"2024-01-01T{n // 60:02d}:{n % 60:02d}:00Z"


class ItemsAPI:
    """`GET /items?updated_since=&updated_before=&page=`: items with `updated_at >= since`
    (inclusive, as many APIs are) and `< before`, ascending, `page_size` per page, with a
    `next` link; `GET /items/{id}/events`: a bare list per item."""

    def __init__(self, page_size: int = 5) -> None:
        self.items: list[dict[str, Any]] = []
        self.page_size = page_size
        self.fail_page: int | None = None
        self.server = LocalAPI()
        self.server.route("GET", "/items", self._items)
        self.server.route("POST", "/search", self._search)
        self.server.route("GET", "/items/", self._events, prefix=True)
        self.server.route("GET", "/since/", self._since_path, prefix=True)

    @property
    def url(self) -> str:
        return self.server.url

    def add(self, *minutes: int, tag: str = "") -> None:
        for n in minutes:
            self.items.append({"id": len(self.items) + 1, "updated_at": stamp(n), "tag": tag})

    def _select(self, since: str | None, before: str | None) -> list[dict[str, Any]]:
        rows = sorted(self.items, key=lambda r: (r["updated_at"], r["id"]))
        if since:
            rows = [r for r in rows if r["updated_at"] >= since]
        if before:
            rows = [r for r in rows if r["updated_at"] < before]
        return rows

    def _page(self, request: Request, rows: list[dict[str, Any]], path: str) -> Response:
        page = int(request.arg("page", "1") or 1)
        if self.fail_page is not None and page == self.fail_page:
            return Response({"error": "boom"}, 500)
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(rows)
        query = "&".join(
            f"{k}={v[0]}" for k, v in request.query.items() if k != "page" and v and v[0]
        )
        nxt = f"{self.url}{path}?{query}&page={page + 1}" if more else None
        return Response({"data": chunk, "next": nxt})

    def _items(self, request: Request) -> Response:
        rows = self._select(request.arg("updated_since"), request.arg("updated_before"))
        return self._page(request, rows, "/items")

    def _search(self, request: Request) -> Response:
        body = request.json() or {}
        since = body.get("since") or request.header("X-Since")
        return Response({"data": self._select(since, None), "next": None})

    def _since_path(self, request: Request) -> Response:
        since = request.path.split("/")[2]
        return Response({"data": self._select(since, None), "next": None})

    def _events(self, request: Request) -> Response:
        item_id = int(request.path.split("/")[2])
        return Response([{"id": item_id * 100 + j, "item_id": item_id} for j in (1, 2)])

    def sent(self, path: str = "/items") -> list[Request]:
        return self.server.requests_to(path)

    def clear(self) -> None:
        self.server.requests.clear()


@pytest.fixture
def api() -> Iterator[ItemsAPI]:
    items = ItemsAPI()
    with items.server:
        yield items


def source(api: ItemsAPI, resource: dict[str, Any], name: str = "shop") -> dict[str, Any]:
    """A one-source project around one resource."""
    base = {"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}
    base.update(resource)
    return {
        "sources": [
            {
                "name": name,
                "client": {
                    "base_url": api.url,
                    "paginator": {"type": "json_link", "next_url_path": "next"},
                    "rate_limit": {"max_retries": 0},
                },
                "resources": [base],
            }
        ]
    }


def run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: Any = None,
    partition_key: str | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(
        assets,
        instance=instance,
        resources=defs.resources,
        selection=selection,
        partition_key=partition_key,
        tags=tags,
        raise_on_error=False,
    )


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def latest_meta(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None
) -> dict[str, Any]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    assert records, f"no materialization of {key.to_user_string()}"
    event = records[0].asset_materialization
    assert event is not None
    return {k: v.value for k, v in event.metadata.items()}
