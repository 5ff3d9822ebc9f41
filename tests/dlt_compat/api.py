"""The loopback API of the dlt compatibility suite: `/c/<case>/<shape>` behaves as the case
in `configs` says (a page-number API, an offset API, a cursor API, Link headers, ...).

The same server answers rest-assets and dlt 1.31 (run in a subprocess), and records every
request, so a test compares what each of them sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rest_assets.demo.server import LocalAPI, Request, Response
from tests.dlt_compat import configs

PAGE_SIZE = 3


def summary(request: Request) -> str:
    """`METHOD ?a=1&b=2 {json body}`: a request as the cases write them."""
    pairs = sorted(f"{k}={v}" for k, values in request.query.items() for v in values)
    text = f"{request.method} ?{'&'.join(pairs)}"
    body = request.json() if request.body else None
    return f"{text} {json.dumps(body, sort_keys=True)}" if body is not None else text


def _lookup(body: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body


def _put(body: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        body = body.setdefault(key, {})
    body[keys[-1]] = value


class CompatAPI:
    """The server; `sent(case)` lists the summaries of the requests a case received."""

    def __init__(self) -> None:
        self.server = LocalAPI()
        self.server.route("GET", "/c/", self._serve, prefix=True)
        self.server.route("POST", "/c/", self._serve, prefix=True)
        self.events_run = 1  # the incremental cases' data grows on run 2
        self._lock = threading.Lock()
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> CompatAPI:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def clear(self) -> None:
        with self.server._lock:
            self.server.requests.clear()

    def requests(self, case: str) -> list[Request]:
        return self.server.requests_to(f"/c/{case}/")

    def sent(self, case: str) -> list[str]:
        return [summary(r) for r in self.requests(case)]

    def paths(self, case: str) -> list[str]:
        return [r.path for r in self.requests(case)]

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.clear()
        yield

    # -- routing ---------------------------------------------------------------------------

    def _serve(self, request: Request) -> Response:
        parts = request.path.split("/")  # ['', 'c', case, shape...]
        case, shape = parts[2], "/".join(parts[3:])
        spec = configs.PAGINATOR_CASES.get(case, {}).get("server", {})
        kind = spec.get("kind")
        if kind is None:
            return self._feature(case, shape, request)
        handler = getattr(self, f"_{kind}")
        return handler(request, spec, case)

    @staticmethod
    def _read(request: Request, where: str, default: Any) -> Any:
        source, _, name = where.partition(":")
        if source == "query":
            value = request.arg(name)
            return default if value is None else value
        value = _lookup(request.json() or {}, name)
        return default if value is None else value

    # -- paginator shapes ------------------------------------------------------------------

    def _pages(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        base = spec.get("base", 0)
        page = int(self._read(request, spec.get("page_from", "query:page"), base))
        index = page - base
        chunk = configs.ITEMS[index * PAGE_SIZE : (index + 1) * PAGE_SIZE] if index >= 0 else []
        if spec.get("only_first_page") and index > 0:
            chunk = []
        pages = -(-len(configs.ITEMS) // PAGE_SIZE)
        more = index + 1 < pages and not spec.get("only_first_page")
        body: dict[str, Any] = {"data": chunk, "has_more": more, "meta": {}}
        body["meta"]["more"] = "true" if more else "false"
        total_at = spec.get("total_at", "total")
        if total_at:
            _put(body, total_at, pages)
        return Response(body)

    def _offset(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        offset = int(self._read(request, spec.get("offset_from", "query:offset"), 0))
        limit = int(self._read(request, spec.get("limit_from", "query:limit"), 10))
        cap = spec.get("cap")
        size = min(limit, cap) if cap else limit
        chunk = configs.ITEMS[offset : offset + size]
        body: dict[str, Any] = {"data": chunk, "has_more": offset + size < len(configs.ITEMS)}
        if spec.get("states_cap"):
            body["limit"] = size
        total_at = spec.get("total_at", "total")
        if total_at:
            _put(body, total_at, len(configs.ITEMS))
        return Response(body)

    def _cursor(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        raw = self._read(request, spec.get("cursor_from", "query:cursor"), "c0")
        start = int(str(raw).removeprefix("c"))
        chunk = configs.ITEMS[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(configs.ITEMS)
        following = f"c{start + PAGE_SIZE}" if more or spec.get("cursor_stays") else None
        if spec.get("graphql"):
            # GraphQL: endCursor stays set on the last page, hasNextPage says the truth
            info = {"endCursor": f"c{start + PAGE_SIZE}", "hasNextPage": more}
            return Response({"data": chunk, "pageInfo": info})
        body: dict[str, Any] = {"data": chunk}
        _put(body, spec.get("next_at", "cursors.next"), following)
        return Response(body)

    def _header_link(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        page = int(request.arg("p") or 0)
        chunk = configs.ITEMS[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        headers = {}
        if (page + 1) * PAGE_SIZE < len(configs.ITEMS) or spec.get("always_next"):
            rel = spec.get("rel", "next")
            headers["Link"] = f'<{self.url}{request.path}?p={page + 1}>; rel="{rel}"'
        return Response(chunk, headers=headers)

    def _json_link(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        page = int(request.arg("p") or 0)
        chunk = configs.ITEMS[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        following = None
        if (page + 1) * PAGE_SIZE < len(configs.ITEMS) or spec.get("always_next"):
            query = {k: v[0] for k, v in request.query.items() if k != "p"}
            query["p"] = str(page + 1)
            text = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
            following = f"{self.url}{request.path}?{text}"
        body: dict[str, Any] = {"data": chunk}
        _put(body, spec.get("next_at", "next"), following)
        return Response(body)

    def _header_cursor(self, request: Request, spec: dict[str, Any], case: str) -> Response:
        raw = self._read(request, spec.get("cursor_from", "query:cursor"), "c0")
        start = int(str(raw).removeprefix("c"))
        chunk = configs.ITEMS[start : start + PAGE_SIZE]
        headers = {}
        if start + PAGE_SIZE < len(configs.ITEMS):
            headers[spec.get("header", "next")] = f"c{start + PAGE_SIZE}"
        return Response({"data": chunk}, headers=headers)

    # -- the other features ----------------------------------------------------------------

    def _feature(self, case: str, shape: str, request: Request) -> Response:
        if case == "ph":
            return self._placeholders(shape)
        if case == "root":
            return Response({"data": configs.ITEMS[:2]})
        if case.startswith("ra_"):
            return self._actions(case, shape, request)
        if case.startswith("inc_") or case == "obj_incremental":
            return Response({"data": self._events(case, request)})
        if case.startswith("obj_"):
            return self._objects(case, shape, request)
        return Response({"error": f"no case {case}"}, 404)

    def _placeholders(self, shape: str) -> Response:
        if shape.endswith("/comments"):
            number = int(shape.split("/")[-2])
            return Response({"data": [{"id": number * 10, "issue": number}]})
        if shape.startswith("n/"):
            return Response({"data": [{"id": int(shape.split("/")[1])}]})
        return Response({"data": [{"id": 1, "number": 10}, {"id": 2, "number": 20}]})

    def _actions(self, case: str, shape: str, request: Request) -> Response:
        page = int(request.arg("page") or 0)
        if shape == "gone":
            return Response({"error": "not found"}, 404)
        if shape == "not_ready_after_first" and page > 0:
            return Response({"status": "NOT_READY", "data": [{"id": 99}]})
        chunk = configs.ITEMS[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        return Response({"data": [dict(item) for item in chunk]})

    def _objects(self, case: str, shape: str, request: Request) -> Response:
        if case == "obj_offset":
            offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 10)
            return Response({"data": configs.ITEMS[offset : offset + limit], "total": 7})
        if case == "obj_cursor":
            start = int(str(request.arg("cursor") or "c0").removeprefix("c"))
            more = start + PAGE_SIZE < len(configs.ITEMS)
            following = f"c{start + PAGE_SIZE}" if more else None
            return Response(
                {"data": configs.ITEMS[start : start + PAGE_SIZE], "cursors": {"next": following}}
            )
        if case == "obj_custom":
            page = int(request.arg("page") or 1)
            return Response({"data": configs.ITEMS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]})
        if case == "obj_child":
            key = shape.split("/")[-1]
            return Response(
                {"data": [{"id": f"{key}1", "seed": key}, {"id": f"{key}2", "seed": key}]}
            )
        return Response({"error": f"no case {case}"}, 404)

    def _events(self, case: str, request: Request) -> list[dict[str, Any]]:
        stamp = configs.stamp
        rows: list[dict[str, Any]] = [
            {"id": 1, "updated_at": stamp(1)},
            {"id": 2, "updated_at": stamp(2)},
            {"id": 3, "updated_at": stamp(3)},
            {"id": 4, "updated_at": stamp(3)},
        ]
        if self.events_run >= 2:
            rows += [
                {"id": 5, "updated_at": stamp(3)},  # late, at the old boundary
                {"id": 6, "updated_at": stamp(4)},
                {"id": 7, "updated_at": stamp(5)},
            ]
        if case.startswith("inc_missing"):
            rows += [{"id": 9}, {"id": 10, "updated_at": None}]
        since, frm = request.arg("since"), request.arg("from")
        to, before = request.arg("to"), request.arg("before")

        def keep(row: dict[str, Any]) -> bool:
            at = row.get("updated_at")
            if at is None:
                return True
            return (
                (since is None or at >= since)
                and (frm is None or at[:10] >= frm[:10])
                and (to is None or at < to)
                and (before is None or at <= before)
            )

        kept = [r for r in rows if keep(r)]
        if case == "inc_row_order_desc":
            kept.sort(key=lambda r: (r.get("updated_at") or "", r["id"]), reverse=True)
        return kept
