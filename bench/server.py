#!/usr/bin/env python3
"""A fast loopback REST API for the benchmarks (stdlib only).

Every response body the benchmark asks for is serialized once at start-up, so the server
costs the measured pipeline as little as possible: a request is a dict lookup and one
``sendall``. It runs as its own process (``python bench/server.py --port 0`` prints
``PORT <n>`` once the pages are built) so it never shares a GIL with the pipeline.

Endpoints
- ``GET /items?limit=&offset=&updated_since=``: ``{"data": [...], "total", "offset",
  "limit", "next"}`` where ``next`` is the absolute URL of the next page or null.
  ``updated_since`` (ISO timestamp) keeps only records with ``updated_at`` strictly later.
- ``GET /parents?limit=&offset=``: the same shape over the parent records.
- ``GET /parents/{id}/children``: ``{"data": [...], "next": null}`` after ``--latency-ms``.
- ``GET /wide/{n}?limit=&offset=``: resource n of the ``wide`` and ``job`` scenarios
  (``--wide`` of them, ``--wide-records`` records each, the ``/items`` record shape and
  ``next`` links), each page after ``--page-latency-ms``.
- ``POST /_control/phase?n=1|2``: phase 2 adds the ``--new-records`` records (the "1%" of the
  incremental scenario) to ``/items``; phase 1 takes them away again.
- ``GET /_control/stats``: request counts per endpoint (for the self-check).

Record fields (deterministic, derived from the index only): id, name, email, created_at,
updated_at, amount, active, tags (list of str), address {street, city, zip}, score,
category, notes (str or null). ``updated_at`` grows strictly with ``id``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import gc
import socket
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

try:  # orjson only speeds up start-up; the stdlib json gives the same bytes' meaning
    import orjson

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover - depends on the interpreter running the server
    import json

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()


EPOCH_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z
CITIES = ["Berlin", "Lisbon", "Oslo", "Porto", "Madrid", "Rome", "Vienna", "Prague", "Riga"]
CATEGORIES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
TAGS = ["red", "green", "blue", "new", "vip", "eu", "us", "beta-user"]


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def created_ts(i: int) -> int:
    return EPOCH_2024 + i * 30


def updated_ts(i: int) -> int:
    # offset < 30 s keeps updated_at strictly increasing with i (needed by the cursor)
    return created_ts(i) + (i % 20)


def make_record(i: int) -> dict[str, Any]:
    """The record at index i (id = i + 1); ~12 fields incl. a nested object and a list."""
    return {
        "id": i + 1,
        "name": f"User {i}",
        "email": f"user{i}@example.com",
        "created_at": _iso(created_ts(i)),
        "updated_at": _iso(updated_ts(i)),
        "amount": round((i * 37 % 100_000) / 100, 2),
        "active": i % 3 != 0,
        "tags": [TAGS[(i + k) % len(TAGS)] for k in range(i % 4)],
        "address": {
            "street": f"{i % 500} Main Street",
            "city": CITIES[i % len(CITIES)],
            "zip": f"{10000 + i % 90000:05d}",
        },
        "score": i * 7 % 101,
        "category": CATEGORIES[i % len(CATEGORIES)],
        "notes": None if i % 4 else f"note for record {i}",
    }


def make_parent(i: int) -> dict[str, Any]:
    return {"id": i + 1, "name": f"Parent {i}", "region": CITIES[i % len(CITIES)]}


def make_child(parent_id: int, k: int, per_parent: int) -> dict[str, Any]:
    return {
        "id": (parent_id - 1) * per_parent + k + 1,
        "parent_id": parent_id,
        "label": f"child {k} of {parent_id}",
        "value": (parent_id * 31 + k) % 1000 / 10,
        "created_at": _iso(EPOCH_2024 + parent_id * 60 + k),
    }


def parse_since(raw: str) -> int:
    """Epoch seconds of an ISO timestamp ('Z', '+00:00', space separator, or a date)."""
    text = raw.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


class Data:
    """All pre-serialized pages plus the lazily built (then cached) odd ones."""

    def __init__(self, args: argparse.Namespace, base_url: str) -> None:
        self.base_url = base_url
        self.records = args.records
        self.new_records = args.new_records
        self.page_size = args.page_size
        self.parents = args.parents
        self.children_per_parent = args.children_per_parent
        self.latency = args.latency_ms / 1000
        self.page_latency = args.page_latency_ms / 1000
        self.wide_count = args.wide
        self.wide_records = [make_record(i) for i in range(args.wide_records if args.wide else 0)]
        # (resource, limit) -> page bodies of /wide/{resource}
        self.wide: dict[tuple[int, int], list[bytes]] = {}
        for n in range(self.wide_count):
            self.wide_pages(n, args.wide_page_size)
        self.phase = 1
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()
        # updated_at of every record, to turn updated_since into a start index by bisect
        total = self.records + self.new_records
        self.updated = [updated_ts(i) for i in range(total)]
        # (path, start, end, since_raw, limit) -> list of page bodies
        self.cache: dict[tuple[str, int, int, str, int], list[bytes]] = {}
        if self.records:
            self._pages("/items", 0, self.records, "", self.page_size)
        if self.new_records:
            self._pages("/items", 0, total, "", self.page_size)
        if self.parents:
            self._pages("/parents", 0, self.parents, "", args.parent_page_size)
        self.children = {
            pid: _dumps(
                {
                    "data": [
                        make_child(pid, k, self.children_per_parent)
                        for k in range(self.children_per_parent)
                    ],
                    "next": None,
                }
            )
            for pid in range(1, self.parents + 1)
        }

    def item_count(self) -> int:
        return self.records + (self.new_records if self.phase == 2 else 0)

    def _pages(self, path: str, start: int, end: int, since: str, limit: int) -> list[bytes]:
        key = (path, start, end, since, limit)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        make = make_record if path == "/items" else make_parent
        count = end - start
        pages: list[bytes] = []
        extra = f"&updated_since={quote(since)}" if since else ""
        for offset in range(0, max(count, 1), limit):
            hi = min(offset + limit, count)
            nxt = (
                f"{self.base_url}{path}?limit={limit}&offset={offset + limit}{extra}"
                if hi < count
                else None
            )
            body = {
                "data": [make(i) for i in range(start + offset, start + hi)],
                "total": count,
                "offset": offset,
                "limit": limit,
                "next": nxt,
            }
            pages.append(_dumps(body))
        self.cache[key] = pages
        return pages

    def wide_pages(self, n: int, limit: int) -> list[bytes]:
        """The pages of /wide/{n} at one page size (built on first use, then cached)."""
        cached = self.wide.get((n, limit))
        if cached is not None:
            return cached
        records, count = self.wide_records, len(self.wide_records)
        pages = []
        for offset in range(0, max(count, 1), limit):
            hi = min(offset + limit, count)
            nxt = f"{self.base_url}/wide/{n}?limit={limit}&offset={offset + limit}"
            body = {
                "data": records[offset:hi],
                "total": count,
                "offset": offset,
                "limit": limit,
                "next": nxt if hi < count else None,
            }
            pages.append(_dumps(body))
        self.wide[(n, limit)] = pages
        return pages

    def wide_page(self, n: int, query: dict[str, list[str]]) -> bytes | None:
        if not 0 <= n < self.wide_count:
            return None
        limit = int(query.get("limit", ["500"])[0])
        offset = int(query.get("offset", ["0"])[0])
        with self.lock:
            pages = self.wide_pages(n, limit)
        index = offset // limit
        if offset % limit or index >= len(pages):
            raise ValueError(f"offset {offset} is not a multiple of limit {limit} in range")
        return pages[index]

    def set_phase(self, phase: int) -> None:
        with self.lock:
            self.phase = phase
        if phase == 2 and self.new_records:
            # warm the "only the new 1%" pages for the usual cursor spellings
            last_base = _iso(updated_ts(self.records - 1))
            for since in (last_base, last_base.replace("Z", "+00:00")):
                self.list_page("/items", {"updated_since": [since]})

    def list_page(self, path: str, query: dict[str, list[str]]) -> bytes:
        limit = int(query.get("limit", [self.page_size])[0])
        offset = int(query.get("offset", ["0"])[0])
        since = query.get("updated_since", [""])[0]
        if path == "/items":
            end = self.item_count()
            start = 0
            if since:
                start = min(bisect.bisect_right(self.updated, parse_since(since)), end)
                if start == 0:
                    since = ""  # filters nothing: serve the pre-built pages, not new ones
        else:
            start, end, since = 0, self.parents, ""
        with self.lock:  # lazily built page sets are rare; the lock keeps them built once
            pages = self._pages(path, start, end, since, limit)
        index = offset // limit
        if offset % limit == 0 and index < len(pages):
            return pages[index]
        count = end - start  # an offset off the page grid: answer directly, uncached
        hi = min(offset + limit, count)
        make = make_record if path == "/items" else make_parent
        return _dumps(
            {
                "data": [make(i) for i in range(start + offset, start + max(hi, offset))],
                "total": count,
                "offset": offset,
                "limit": limit,
                "next": None,
            }
        )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would allow
    data: Data  # set on the subclass at start-up

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # one write per response plus no Nagle: no 40 ms delayed-ACK stalls on loopback
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        path = url.path.rstrip("/")
        data = self.data
        try:
            if path in ("/items", "/parents"):
                data.stats[path] += 1
                self._send(200, data.list_page(path, query))
            elif path.startswith("/parents/") and path.endswith("/children"):
                data.stats["/children"] += 1
                pid = int(path.split("/")[2])
                body = data.children.get(pid)
                if data.latency:
                    time.sleep(data.latency)
                if body is None:
                    self._send(404, b'{"error":"no such parent"}')
                else:
                    self._send(200, body)
            elif path.startswith("/wide/"):
                data.stats["/wide"] += 1
                body = data.wide_page(int(path.split("/")[2]), query)
                if data.page_latency:
                    time.sleep(data.page_latency)
                if body is None:
                    self._send(404, b'{"error":"no such resource"}')
                else:
                    self._send(200, body)
            elif path == "/_control/stats":
                self._send(200, _dumps(dict(data.stats)))
            else:
                self._send(404, b'{"error":"not found"}')
        except (ValueError, KeyError) as exc:
            self._send(400, _dumps({"error": str(exc)}))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if url.path == "/_control/phase":
            phase = int(parse_qs(url.query).get("n", ["1"])[0])
            self.data.set_phase(phase)
            self.data.stats.clear()
            self._send(200, _dumps({"phase": phase, "items": self.data.item_count()}))
        else:
            self._send(404, b'{"error":"not found"}')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--new-records", type=int, default=0, help="added in phase 2")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--parents", type=int, default=0)
    parser.add_argument("--parent-page-size", type=int, default=100)
    parser.add_argument("--children-per-parent", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="children endpoint")
    parser.add_argument("--wide", type=int, default=0, help="/wide/{n} resources")
    parser.add_argument("--wide-records", type=int, default=2000, help="records per resource")
    parser.add_argument("--wide-page-size", type=int, default=500, help="pre-built page size")
    parser.add_argument("--page-latency-ms", type=float, default=0.0, help="per page of /wide/{n}")
    args = parser.parse_args(argv)

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    started = time.perf_counter()
    Handler.data = Data(args, f"http://127.0.0.1:{port}")
    print(
        f"built pages in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
        flush=True,
    )
    # the page cache lives for the whole run: keep the collector from rescanning it
    gc.collect()
    gc.freeze()
    print(f"PORT {port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
