"""One loopback API showing each known pain of dlt's rest_api users (used by the tests in
this folder and by bench/dlt_pains/, which runs dlt against the very same server).

Routes (all JSON; every request is recorded by LocalAPI):

- `GET /parents?page=N`: parents, `per_page` a page, with a `next` URL (they span pages).
- `GET /parents/{id}/events?since=&page=`: that parent's events with `updated_at >= since`
  (inclusive), ascending, two per page, with a `next` URL.
- `GET /numbers?offset=&limit=&total=every|first|null&claim=`: offset pages with a total on
  every page, only on page one, or always null (`claim` overstates it); `delay` seconds per
  page; the server counts how many requests it serves at once (`max_in_flight`).
- `GET /windowed?start=&end=`: events in [start, end); both bounds are required (400).
- `GET /shapes/<kind>/{id}?...`: three pages in the style of GitHub (Link header), PokeAPI
  (`next`), Microsoft Graph (`@odata.nextLink`), Stripe (`has_more`) or HubSpot
  (`paging.next.after`).
- `POST /token`: OAuth2 client credentials, the client authenticated by HTTP Basic or in
  the form (`?require=basic`: Basic only); the token sits at `data.token`.
  Bearer-protected: `GET /secure/items`.
"""

from __future__ import annotations

import base64
import threading
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from rest_assets.demo.server import LocalAPI, Request, Response

CLIENT_ID = "pains-client"
CLIENT_SECRET = "pains-secret-value"
TOKEN = "pains-token-123"
SHAPES = ("github", "pokeapi", "graph", "stripe", "hubspot")


def _is_time(value: str | None) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def stamp(n: int) -> str:
    """The n-th minute of 2024-01-01 as an ISO timestamp."""
    return f"2024-01-01T{n // 60:02d}:{n % 60:02d}:00Z"


class PainsAPI:
    """The server and its data; `start()`/`stop()` or use it as a context manager."""

    def __init__(self, parents: int = 12, per_page: int = 4, numbers: int = 100) -> None:
        self.per_page = per_page
        self.parents = [{"id": i + 1, "name": f"p{i + 1}"} for i in range(parents)]
        self.events: dict[int, list[dict[str, Any]]] = {p["id"]: [] for p in self.parents}
        self.numbers = [{"n": i, "label": f"n{i}"} for i in range(numbers)]
        self.windowed: list[dict[str, Any]] = []
        self.delay = 0.0
        self.slow: dict[int, float] = {}  # /numbers: a longer delay for these offsets
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = LocalAPI()
        route = self.server.route
        route("GET", "/parents", self._parents)
        route("GET", "/parents/", self._events, prefix=True)
        route("GET", "/numbers", self._numbers)
        route("GET", "/windowed", self._windowed)
        route("GET", "/shapes/", self._shapes, prefix=True)
        route("POST", "/token", self._token)
        route("GET", "/secure/items", self._secure)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> PainsAPI:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> PainsAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sent(self, path: str) -> list[Request]:
        return self.server.requests_to(path)

    # -- data -----------------------------------------------------------------------------

    def add_event(self, parent: int, minute: int) -> dict[str, Any]:
        event = {"id": parent * 1000 + len(self.events[parent]) + 1, "updated_at": stamp(minute)}
        event["parent_id"] = parent
        self.events[parent].append(event)
        return event

    def add_windowed(self, minute: int) -> None:
        self.windowed.append({"id": len(self.windowed) + 1, "updated_at": stamp(minute)})

    # -- handlers -------------------------------------------------------------------------

    def _next(self, request: Request, page: int, more: bool) -> str | None:
        if not more:
            return None
        query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "page" and v)
        return f"{self.url}{request.path}?{query}&page={page + 1}"

    def _parents(self, request: Request) -> Response:
        page = int(request.arg("page", "1") or 1)
        chunk = self.parents[(page - 1) * self.per_page : page * self.per_page]
        more = page * self.per_page < len(self.parents)
        return Response({"data": chunk, "next": self._next(request, page, more)})

    def _events(self, request: Request) -> Response:
        parent = int(request.path.split("/")[2])
        since = request.arg("since")
        rows = sorted(self.events.get(parent, []), key=lambda e: (e["updated_at"], e["id"]))
        if since:
            rows = [e for e in rows if e["updated_at"] >= since]
        page = int(request.arg("page", "1") or 1)
        chunk = rows[(page - 1) * 2 : page * 2]
        return Response({"data": chunk, "next": self._next(request, page, page * 2 < len(rows))})

    def _numbers(self, request: Request) -> Response:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # the handler itself waits (not the server after it), so requests overlap
            offset = int(request.arg("offset", "0") or 0)
            delay = self.slow.get(offset, self.delay)
            if delay:
                threading.Event().wait(delay)
            limit = int(request.arg("limit", "10") or 10)
            mode = request.arg("total", "every")
            body: dict[str, Any] = {"items": self.numbers[offset : offset + limit]}
            if mode == "null":
                body["total"] = None
            elif mode == "every" or offset == 0:
                body["total"] = len(self.numbers)  # "first": later pages have no total
            if request.arg("claim"):
                body["total"] = int(request.arg("claim") or 0)  # a total that overstates
            return Response(body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _windowed(self, request: Request) -> Response:
        start, end = request.arg("start"), request.arg("end")
        if not _is_time(start) or not _is_time(end):
            return Response({"error": "start and end are both required timestamps"}, 400)
        rows = [e for e in self.windowed if start <= e["updated_at"] < end]
        return Response({"data": sorted(rows, key=lambda e: (e["updated_at"], e["id"]))})

    def _shapes(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        kind, owner = parts[1], int(parts[2]) if len(parts) > 2 else 0
        base = f"{self.url}{request.path}"
        records = [{"id": owner * 100 + i, "owner": owner} for i in range(6)]
        if kind == "github":
            page = int(request.arg("page", "1") or 1)
            links = [f'<{base}?page=1>; rel="first"']
            if page < 3:
                links.append(f'<{base}?page={page + 1}>; rel="next"')
            return Response(records[(page - 1) * 2 : page * 2], headers={"Link": ", ".join(links)})
        if kind == "pokeapi":
            offset = int(request.arg("offset", "0") or 0)
            nxt = f"{base}?offset={offset + 2}&limit=2" if offset + 2 < 6 else None
            return Response(
                {"count": 6, "next": nxt, "previous": None, "results": records[offset : offset + 2]}
            )
        if kind == "graph":
            skip = int(request.arg("$skip", "0") or 0)
            body: dict[str, Any] = {"value": records[skip : skip + 2]}
            if skip + 2 < 6:
                body["@odata.nextLink"] = f"{base}?$skip={skip + 2}"
            return Response(body)
        if kind == "stripe":
            after = request.arg("starting_after")
            start = (
                0
                if after is None
                else next(i + 1 for i, r in enumerate(records) if str(r["id"]) == after)
            )
            chunk = records[start : start + 2]
            return Response({"object": "list", "data": chunk, "has_more": start + 2 < 6})
        if kind == "hubspot":
            after = int(request.arg("after", "0") or 0)
            body = {"results": records[after : after + 2]}
            if after + 2 < 6:
                body["paging"] = {"next": {"after": str(after + 2), "link": "unused"}}
            return Response(body)
        return Response({"error": "unknown shape"}, 404)

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        header = request.header("Authorization") or ""
        client_id = client_secret = None
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        elif "client_id" in form:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.arg("require") == "basic" and not header.startswith("Basic "):
            return Response({"error": "invalid_client", "hint": "use HTTP Basic"}, 401)
        if form.get("grant_type") != "client_credentials":
            return Response({"error": "unsupported_grant_type"}, 400)
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return Response({"error": "invalid_client"}, 401)
        return Response({"data": {"token": TOKEN, "ttl": 3600}, "token_type": "bearer"})

    def _secure(self, request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {TOKEN}":
            return Response({"error": "unauthorized"}, 401)
        return Response({"data": [{"id": 1}, {"id": 2}]})
