"""A GitHub-like API on loopback and small helpers shared by the relationship tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from rest_assets import DuckDBIOManager
from rest_assets.demo.server import LocalAPI, Request, Response


def make_issue(number: int, title: str | None = None, repo: str = "dagster") -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "repo": repo,
        "number": number,
        "title": title or f"Issue {number}",
        "user": {"login": f"user{number % 3}"},
        "labels": [{"name": f"label{number % 2}"}, {"name": "all"}],
    }


def make_comments(repo: str, number: int) -> list[dict[str, Any]]:
    return [
        {"id": number * 100 + j, "body": f"comment {j} on {repo}#{number}"}
        for j in range(number % 3 + 1)
    ]


class IssuesAPI:
    """`GET /repos/<repo>/issues` and `GET /repos/<repo>/issues/<n>/comments`, recorded.

    `missing` numbers answer 404, `failing` numbers 500, `delays` slow some comments down
    (so parallel requests complete out of order). `POST /search` returns comments for the
    `issue` in its JSON body; `GET /comments?repo=` for the `X-Issue` header or `issue` param.
    """

    def __init__(self, repos: Sequence[str] = ("dagster",), issues: int = 5) -> None:
        self.server = LocalAPI()
        self.issues: dict[str, list[dict[str, Any]]] = {
            repo: [make_issue(n, repo=repo) for n in range(1, issues + 1)] for repo in repos
        }
        self.missing: set[int] = set()
        self.failing: set[int] = set()
        self.delays: dict[int, float] = {}
        self.server.route("GET", "/repos/", self._repos, prefix=True)
        self.server.route("POST", "/search", self._search)
        self.server.route("GET", "/comments", self._by_query)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> IssuesAPI:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _comments(self, repo: str, number: int) -> Response:
        if number in self.failing:
            return Response({"message": "boom"}, 500)
        if number in self.missing or not any(
            i["number"] == number for i in self.issues.get(repo, [])
        ):
            return Response({"message": "Not Found"}, 404)
        return Response(make_comments(repo, number), delay=self.delays.get(number, 0.0))

    def _repos(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[2] == "issues":
            return Response(self.issues.get(parts[1], []))
        if len(parts) == 5 and parts[2] == "issues" and parts[4] == "comments":
            return self._comments(parts[1], int(parts[3]))
        return Response({"message": "Not Found"}, 404)

    def _search(self, request: Request) -> Response:
        body = request.json() or {}
        return self._comments(str(body.get("repo")), int(body["filters"]["issue"]))

    def _by_query(self, request: Request) -> Response:
        number = request.header("X-Issue") or request.arg("issue") or 0
        return self._comments(str(request.arg("repo")), int(number))

    def comment_calls(self, repo: str = "dagster") -> dict[int, int]:
        """Requests per issue number to the comments endpoint of `repo`."""
        prefix = f"/repos/{repo}/issues/"
        calls = [r for r in self.server.requests_to(prefix) if r.path.endswith("/comments")]
        numbers = sorted(int(r.path.split("/")[4]) for r in calls)
        return {n: len(list(g)) for n, g in itertools.groupby(numbers)}


def materialize(
    assets: Iterable[Any],
    instance: dg.DagsterInstance,
    database: Path,
    selection: Sequence[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets),
        instance=instance,
        resources={"io_manager": DuckDBIOManager(database=str(database))},
        selection=selection,
        raise_on_error=False,
    )


def latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def sql(database: Path, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def error_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure's message with its causes."""
    parts = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)
