"""The bundled demo API: a small blog service on loopback with realistic response shapes.

- `GET /posts?limit=&offset=`: JSON envelope `{"data": [...], "next": url|null, "total": n}`
  (a json_link paginator), posts carry a nested `author` object and a `tags` list;
- `GET /posts/{id}/comments`: a bare JSON list (a dependent resource);
- `GET /users?page=`: `{"users": [...], "page": n, "total_pages": m}` (page_number);
- every endpoint requires `Authorization: Bearer <token>`.
Data are generated deterministically, so runs are repeatable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_assets.demo.server import LocalAPI, Request, Response

DEMO_TOKEN = "demo-token-7f3a"  # a demo credential for a loopback-only server
TAGS = ("python", "duckdb", "dagster", "rest", "data", "sql")


def make_posts(count: int) -> list[dict[str, Any]]:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [
        {
            "id": i,
            "title": f"Post number {i}",
            "body": f"Body of post {i}. " * 3,
            "author": {"id": (i % 40) + 1, "name": f"user{(i % 40) + 1}"},
            "tags": [TAGS[i % len(TAGS)], TAGS[(i * 7) % len(TAGS)]],
            "created_at": (start + dt.timedelta(hours=i)).isoformat().replace("+00:00", "Z"),
            "likes": (i * 37) % 101,
        }
        for i in range(1, count + 1)
    ]


def make_comments(post_id: int) -> list[dict[str, Any]]:
    return [
        {"id": post_id * 10 + j, "post_id": post_id, "body": f"Comment {j} on {post_id}"}
        for j in range(post_id % 4)
    ]


def make_users(count: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"user{i}", "email": f"user{i}@example.com", "active": i % 5 != 0}
        for i in range(1, count + 1)
    ]


class DemoAPI:
    """The demo blog API bound to 127.0.0.1. Use as a context manager or start()/stop()."""

    def __init__(
        self, posts: int = 250, users: int = 40, token: str = DEMO_TOKEN, port: int = 0
    ) -> None:
        self.token = token
        self.posts = make_posts(posts)
        self.users = make_users(users)
        self.server = LocalAPI(port=port)
        self.server.route("GET", "/posts", self._posts)
        self.server.route("GET", "/posts/", self._comments, prefix=True)
        self.server.route("GET", "/users", self._users)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> DemoAPI:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DemoAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _denied(self, request: Request) -> Response | None:
        if request.header("Authorization") != f"Bearer {self.token}":
            return Response({"error": "missing or invalid bearer token"}, 401)
        return None

    def _posts(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        limit = int(request.arg("limit", "100") or 100)
        offset = int(request.arg("offset", "0") or 0)
        page = self.posts[offset : offset + limit]
        after = offset + limit
        nxt = f"{self.url}/posts?limit={limit}&offset={after}" if after < len(self.posts) else None
        return Response({"data": page, "next": nxt, "total": len(self.posts)})

    def _comments(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[2] != "comments" or not parts[1].isdigit():
            return Response({"error": "not found"}, 404)
        post_id = int(parts[1])
        if not 1 <= post_id <= len(self.posts):
            return Response({"error": "no such post"}, 404)
        return Response(make_comments(post_id))

    def _users(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        per_page = 15
        page = int(request.arg("page", "1") or 1)
        total_pages = -(-len(self.users) // per_page)
        rows = self.users[(page - 1) * per_page : page * per_page]
        return Response({"users": rows, "page": page, "total_pages": total_pages})
