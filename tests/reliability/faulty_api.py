"""A loopback API that misbehaves on command, for the fault-injection suite.

`FaultyAPI` serves `GET /items?updated_since=<stamp>&page=<n>`: the items with
`updated_at >= updated_since`, `page_size` per page, and a JSON body
`{"data": [...], "next": "<absolute url of the next page>" | null}`. A test switches faults on
with `api.fault(kind, page=..., times=...)`; each fault fires on its page (every page when
None) for `times` requests (forever when None), then the page is served normally again.

Faults are written as raw bytes on the socket, so they are what a real broken server sends:

=============  ============================================================================
reset          headers and half the body, then a TCP reset (SO_LINGER 0)
truncate       Content-Length of the whole body, half of it, then a clean close
malformed      200, application/json, a body that is not JSON
html           200, text/html: a proxy's error page
stall          headers and half the body, then silence for `seconds` (a read timeout)
trickle        200 without length, one byte every `interval` s for `seconds` (never ends)
status         `status` (500, 429, ...) with `Retry-After: retry_after` when given
loop           a normal page whose next link points back to page `to` (default 1)
endless        every page has a next link: page n+1 forever, records generated on the fly
huge           a `megabytes` body made lazily, with a Content-Length or chunked (`chunked`)
=============  ============================================================================

Every loop is bounded: stalls and trickles end after `seconds` or when the server stops,
endless pages stop at `ENDLESS_LIMIT`. The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

ENDLESS_LIMIT = 10_000
HUGE_LIMIT_MB = 512


def stamp(n: int) -> str:
    """The n-th minute after 2024-01-01T00:00 as an ISO timestamp (sorts as text)."""
    return f"2024-01-{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z"


@dataclass
class Fault:
    """One fault: what, on which page (None: all), how many more times (None: forever)."""

    kind: str
    page: int | None = None
    times: int | None = 1
    options: dict[str, Any] = field(default_factory=dict)
    fired: int = 0


@dataclass
class Served:
    """One request as served: the page asked for and the fault applied (None: a good page)."""

    page: int
    fault: str | None
    query: dict[str, str]
    headers: dict[str, str]
    at: float


class FaultyAPI:
    """The misbehaving API; use as a context manager. `items` may be changed between runs."""

    def __init__(self, count: int = 0, page_size: int = 10) -> None:
        self.items: list[dict[str, Any]] = []
        self.page_size = page_size
        self.faults: list[Fault] = []
        self.served: list[Served] = []
        self._lock = threading.Lock()
        self._page_served = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.add(count)

    # -- control --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, count: int, **extra: Any) -> None:
        """Append `count` items with the next ids; `updated_at` grows with the id."""
        with self._lock:
            start = len(self.items)
            for n in range(start + 1, start + count + 1):
                self.items.append({"id": n, "updated_at": stamp(n), "name": f"item {n}", **extra})

    def fault(
        self, kind: str, page: int | None = None, times: int | None = 1, **options: Any
    ) -> Fault:
        """Switch a fault on (see the module docstring for kinds and options)."""
        fault = Fault(kind, page, times, options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def heal(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self.faults.clear()

    def pages_served(self, fault: str | None = None) -> list[int]:
        """Pages served, in order; with `fault`, only those that got that fault."""
        with self._lock:
            return [s.page for s in self.served if fault is None or s.fault == fault]

    def wait_for_page(self, page: int, timeout: float = 30.0) -> bool:
        """Block until page `page` has been requested (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._page_served:
            while not any(s.page == page for s in self.served):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._page_served.wait(remaining)
            return True

    def wait_for_fault(self, kind: str, timeout: float = 30.0) -> bool:
        """Block until a fault of `kind` has fired (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._page_served:
            while not any(s.fault == kind for s in self.served):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._page_served.wait(remaining)
            return True

    def start(self) -> FaultyAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends stalls and trickles
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultyAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving --------------------------------------------------------------------------

    def _take_fault(self, page: int) -> Fault | None:
        for fault in self.faults:
            if fault.page not in (None, page):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            fault.fired += 1
            return fault
        return None

    def _page_body(self, page: int, since: str | None, fault: Fault | None) -> bytes:
        if fault is not None and fault.kind == "endless":
            first = (page - 1) * self.page_size + 1
            rows = [
                {"id": n, "updated_at": stamp(n), "name": f"item {n}"}
                for n in range(first, first + self.page_size)
            ]
            nxt = self._link(page + 1, since) if page < ENDLESS_LIMIT else None
            return orjson.dumps({"data": rows, "next": nxt})
        rows = sorted(self.items, key=lambda r: (r["updated_at"], r["id"]))
        if since:
            rows = [r for r in rows if r["updated_at"] >= since]
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(rows)
        nxt = self._link(page + 1, since) if more else None
        if fault is not None and fault.kind == "loop":
            nxt = self._link(int(fault.options.get("to", 1)), since)
        if fault is not None and "next" in fault.options:
            nxt = fault.options["next"]
        return orjson.dumps({"data": chunk, "next": nxt})

    def _link(self, page: int, since: str | None) -> str:
        query = f"updated_since={since}&" if since else ""
        return f"{self.url}/items?{query}page={page}"

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                page = int(query.get("page", "1") or 1)
                since = query.get("updated_since")
                with api._lock:
                    fault = api._take_fault(page) if parts.path == "/items" else None
                    api.served.append(
                        Served(
                            page,
                            fault.kind if fault else None,
                            query,
                            dict(self.headers),
                            time.time(),
                        )
                    )
                    api._page_served.notify_all()
                    body = api._page_body(page, since, fault) if parts.path == "/items" else b""
                if parts.path != "/items":
                    self._send(404, b'{"error": "not found"}')
                    return
                kind = fault.kind if fault else None
                options = fault.options if fault else {}
                if kind in (None, "loop", "endless"):
                    self._send(200, body)
                elif kind == "reset":
                    self._head(200, len(body))
                    self._write(body[: len(body) // 2])
                    # SO_LINGER with a zero timeout: close() sends RST instead of FIN
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                elif kind == "truncate":
                    self._head(200, len(body))
                    self._write(body[: len(body) // 2])
                    self.close_connection = True
                elif kind == "malformed":
                    self._send(200, b'{"data": [{"id": 1, "name": "item 1"},')
                elif kind == "html":
                    html = b"<html><body><h1>502 Bad Gateway</h1>upstream error</body></html>"
                    self._send(200, html, content_type="text/html")
                elif kind == "stall":
                    self._head(200, len(body))
                    self._write(body[: len(body) // 2])
                    api._sleep(float(options.get("seconds", 10)))
                    self.close_connection = True
                elif kind == "trickle":
                    self._head(200, None)
                    self._write(b'{"data": [')
                    deadline = time.monotonic() + float(options.get("seconds", 10))
                    interval = float(options.get("interval", 0.2))
                    while time.monotonic() < deadline and not api._stopping.is_set():
                        if not self._write(b" "):
                            break
                        api._sleep(interval)
                    self.close_connection = True
                elif kind == "status":
                    status = int(options.get("status", 500))
                    headers = {}
                    if "retry_after" in options:
                        headers["Retry-After"] = str(options["retry_after"])
                    self._send(status, b'{"error": "injected"}', headers=headers)
                elif kind == "huge":
                    self._huge(int(options.get("megabytes", 200)), bool(options.get("chunked")))
                else:
                    raise ValueError(f"unknown fault {kind!r}")

            def _head(
                self,
                status: int,
                length: int | None,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if length is None:
                    self.send_header("Connection", "close")  # the body ends when we close
                else:
                    self.send_header("Content-Length", str(length))
                self.end_headers()

            def _write(self, data: bytes) -> bool:
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                    return True
                except OSError:  # the client hung up: what a fault test wants
                    self.close_connection = True
                    return False

            def _send(
                self,
                status: int,
                body: bytes,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self._head(status, len(body), content_type, headers)
                self._write(body)

            def _huge(self, megabytes: int, chunked: bool) -> None:
                megabytes = min(megabytes, HUGE_LIMIT_MB)
                pieces = _huge_pieces(megabytes)
                if chunked:
                    self._head(200, None, headers={"Transfer-Encoding": "chunked"})
                    for piece in pieces:
                        if not self._write(b"%x\r\n%s\r\n" % (len(piece), piece)):
                            return
                    self._write(b"0\r\n\r\n")
                else:
                    self._head(200, sum(len(p) for p in _huge_pieces(megabytes)))
                    for piece in pieces:
                        if not self._write(piece):
                            return
                self.close_connection = True

        return Handler


def _huge_pieces(megabytes: int) -> Iterator[bytes]:
    """A valid JSON body of about `megabytes` MiB, made 1 MiB at a time (never held whole)."""
    record = orjson.dumps({"id": 0, "name": "x" * 100, "updated_at": stamp(0)})
    per_mb = (1024 * 1024) // (len(record) + 1)
    yield b'{"data": ['
    for block in range(megabytes):
        rows = b",".join([record] * per_mb)
        yield rows if block == 0 else b"," + rows
    yield b'], "next": null}'
