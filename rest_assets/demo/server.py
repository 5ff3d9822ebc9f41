"""A small threaded HTTP server on loopback, used by the demo and by the tests.

It routes requests to plain Python handlers and records every request it sees, so tests
can assert on what was sent (paths, query strings, headers) without patching `requests`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class Response:
    """What a handler returns: a JSON-able body (or raw bytes), a status and headers."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[Request], Response]


class LocalAPI:
    """A routing HTTP server bound to 127.0.0.1 on a free port.

    >>> api = LocalAPI()
    >>> api.route("GET", "/ping", lambda req: Response({"ok": True}))
    >>> api.start(); api.url  # doctest: +SKIP
    'http://127.0.0.1:54321'
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._prefix_routes: list[tuple[str, str, Handler]] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def route(self, method: str, path: str, handler: Handler, prefix: bool = False) -> None:
        """Register `handler` for `method path`; with prefix=True, for every path under it."""
        if prefix:
            self._prefix_routes.append((method.upper(), path, handler))
            self._prefix_routes.sort(key=lambda item: -len(item[1]))
        else:
            self._routes[(method.upper(), path)] = handler

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        """Recorded requests whose path equals `path` (or starts with it when it ends in '/')."""
        with self._lock:
            seen = list(self.requests)
        return [
            r
            for r in seen
            if (r.path == path or (path.endswith("/") and r.path.startswith(path)))
            and (method is None or r.method == method.upper())
        ]

    def start(self) -> LocalAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _find(self, method: str, path: str) -> Handler | None:
        handler = self._routes.get((method, path))
        if handler is not None:
            return handler
        for route_method, prefix, prefix_handler in self._prefix_routes:
            if route_method == method and path.startswith(prefix):
                return prefix_handler
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet by design
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=body,
                )
                with api._lock:
                    api.requests.append(request)
                handler = api._find(self.command, parts.path)
                response = handler(request) if handler else Response({"error": "not found"}, 404)
                if response.delay:
                    threading.Event().wait(response.delay)
                payload = (
                    response.body
                    if isinstance(response.body, bytes | bytearray)
                    else orjson.dumps(response.body)
                )
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve
            do_PUT = _serve
            do_PATCH = _serve
            do_DELETE = _serve
            do_HEAD = _serve

        return _Handler
