"""The reverse direction: rows of a DuckDB table POSTed to an API in batches."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from rest_assets import ConfigError, HTTPStatusError, asset_key, build_definitions
from rest_assets.demo.api import DemoAPI
from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.http.sender import BatchSender, batch_key, encode_batch

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
CRM_TOKEN = "crm-secret-token-91"
PUBLISH = asset_key("crm", "publish_posts")


class Receiver:
    """An API that stores posted batches and, like Stripe, replays a known Idempotency-Key."""

    def __init__(self) -> None:
        self.api = LocalAPI()
        self.stored: dict[str, list[dict[str, Any]]] = {}
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        self.api.route("POST", "/v1/ingest", self._ingest)

    def _ingest(self, request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {CRM_TOKEN}":
            return Response({"error": "unauthorized"}, 401)
        with self._lock:
            if self.fail_next:
                return Response({"error": "busy"}, self.fail_next.pop(0), {"Retry-After": "0"})
            key = request.header("Idempotency-Key") or ""
            if key in self.stored:
                return Response({"replayed": True}, 200)
            body = request.json()
            self.stored[key] = body["rows"] if isinstance(body, dict) else body
        return Response({"accepted": len(self.stored[key])}, 201)

    def rows(self) -> list[dict[str, Any]]:
        return [row for batch in self.stored.values() for row in batch]

    def posts(self) -> list[Request]:
        return self.api.requests_to("/v1/ingest", "POST")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    target = Receiver()
    monkeypatch.setenv("CRM_URL", f"{target.api.url}/v1")
    monkeypatch.setenv("CRM_TOKEN", CRM_TOKEN)
    with target.api:
        yield target


def _config(**output: Any) -> dict[str, Any]:
    config = yaml.safe_load(DEMO_YAML.read_text())
    crm = {
        "name": "crm",
        "client": {
            "base_url": "${CRM_URL}",
            "auth": {"type": "bearer", "token": "${CRM_TOKEN}"},
            "rate_limit": {"max_retries": 2},
        },
        "resources": [],
        "outputs": [
            {
                "name": "publish_posts",
                "from": "blog/posts",
                "path": "ingest",
                "batch_size": 40,
                "columns": ["id", "title", "author__name"],
                **output,
            }
        ],
    }
    config["sources"].append(crm)
    return config


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> Any:
    return dg.materialize(
        list(defs.assets or []),
        instance=instance,
        resources=defs.resources,
        selection=dg.AssetSelection.assets(*keys),
        raise_on_error=False,
    )


def _meta(instance: dg.DagsterInstance) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(PUBLISH)
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_output_posts_upstream_rows_in_batches_with_lineage(
    demo_api: DemoAPI, receiver: Receiver, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(), database=tmp_path / "w.duckdb")
    assert defs.resolve_asset_graph().get(PUBLISH).parent_keys == {asset_key("blog", "posts")}
    assert _run(defs, instance, [asset_key("blog", "posts"), PUBLISH]).success

    posts = receiver.posts()
    assert len(posts) == 7  # 250 rows in batches of 40
    sizes = [len(r.json()) for r in posts]
    assert sizes == [40] * 6 + [10]
    assert sorted(row["id"] for row in receiver.rows()) == list(range(1, 251))
    assert set(receiver.rows()[0]) == {"id", "title", "author__name"}
    assert receiver.rows()[0] == {"id": 1, "title": "Post number 1", "author__name": "user2"}
    assert all(r.header("Content-Type") == "application/json" for r in posts)
    keys = [r.header("Idempotency-Key") for r in posts]
    assert len(set(keys)) == 7
    assert keys[0] == batch_key(posts[0].body, f"POST {receiver.api.url}/v1/ingest")

    meta = _meta(instance)
    assert meta["rows_sent"] == 250
    assert meta["batches"] == 7
    assert meta["requests"] == 7
    assert meta["retries"] == 0
    assert meta["source_table"] == "w.raw_blog.posts"  # database.schema.table


def test_rerun_sends_identical_batches_that_the_api_deduplicates(
    demo_api: DemoAPI, receiver: Receiver, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(batch_size=100), database=tmp_path / "w.duckdb")
    assert _run(defs, instance, [asset_key("blog", "posts"), PUBLISH]).success
    first = [r.header("Idempotency-Key") for r in receiver.posts()]
    # Reload the upstream (a new load id, rows rewritten by merge), then send again.
    assert _run(defs, instance, [asset_key("blog", "posts"), PUBLISH]).success
    second = [r.header("Idempotency-Key") for r in receiver.posts()][len(first) :]
    assert first == second and len(first) == 3
    assert len(receiver.rows()) == 250  # nothing applied twice

    # A changed row changes its batch, and only that batch is new to the API.
    demo_api.posts[0]["title"] = "Edited"
    assert _run(defs, instance, [asset_key("blog", "posts"), PUBLISH]).success
    third = [r.header("Idempotency-Key") for r in receiver.posts()][2 * len(first) :]
    assert third[0] != first[0] and third[1:] == first[1:]


def test_retries_resend_the_same_key_and_body_key_wraps_rows(
    demo_api: DemoAPI, receiver: Receiver, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(
        _config(batch_size=125, body_key="rows", idempotency_key=["id"]),
        database=tmp_path / "w.duckdb",
    )
    assert _run(defs, instance, [asset_key("blog", "posts")]).success
    receiver.fail_next = [503]
    assert _run(defs, instance, [PUBLISH]).success
    posts = receiver.posts()
    assert len(posts) == 3
    assert posts[0].header("Idempotency-Key") == posts[1].header("Idempotency-Key")
    assert posts[0].body == posts[1].body
    assert set(posts[0].json()) == {"rows"}
    assert [row["id"] for row in posts[2].json()["rows"]][:2] == [126, 127]
    meta = _meta(instance)
    assert (meta["requests"], meta["retries"], meta["batches"]) == (3, 1, 2)


def test_failed_send_names_status_and_never_the_token(
    demo_api: DemoAPI, receiver: Receiver, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(), database=tmp_path / "w.duckdb")
    assert _run(defs, instance, [asset_key("blog", "posts")]).success
    receiver.fail_next = [400]
    result = _run(defs, instance, [PUBLISH])
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    text = ""
    while error is not None:
        text += error.message
        error = error.cause
    assert "status 400" in text and "/ingest" in text
    logs = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    assert CRM_TOKEN not in logs and CRM_TOKEN not in text
    assert instance.get_latest_materialization_event(PUBLISH) is None


def test_unknown_upstream_fails_at_load_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[2\]\(crm\)\.outputs\[0\]\(publish_posts\)"):
        build_definitions(_config(**{"from": "blog/nope"}), database=tmp_path / "w.duckdb")


def test_table_reference_maps_to_the_resource_asset(tmp_path: Path) -> None:
    defs = build_definitions(_config(**{"from": "raw_blog.posts"}), database=tmp_path / "w.db")
    assert defs.resolve_asset_graph().get(PUBLISH).parent_keys == {asset_key("blog", "posts")}


def test_sender_never_follows_a_redirect_with_the_body() -> None:
    with LocalAPI() as other, LocalAPI() as api:
        other.route("POST", "/steal", lambda req: Response({}, 201))
        api.route("POST", "/in", lambda req: Response({}, 307, {"Location": f"{other.url}/steal"}))
        sender = BatchSender(api.url, auth={"type": "bearer", "token": CRM_TOKEN}, retry=False)
        with pytest.raises(HTTPStatusError, match="redirect") as caught:
            sender.send("in", [[{"id": 1}]])
        assert CRM_TOKEN not in str(caught.value)
        assert other.requests == []
        assert api.requests[0].header("Authorization") == f"Bearer {CRM_TOKEN}"


def test_sender_refreshes_oauth_on_a_401_and_keeps_a_configured_content_type() -> None:
    # Batches go through RestClient.send: a write gets the same credential refresh as a read.
    tokens: list[str] = []

    def token(request: Request) -> Response:
        tokens.append(f"t{len(tokens) + 1}")
        return Response({"access_token": tokens[-1], "expires_in": 3600})

    def accept(request: Request) -> Response:
        # the first token is revoked server-side before it expires
        if request.header("Authorization") != f"Bearer {tokens[-1]}" or len(tokens) < 2:
            return Response({"error": "expired"}, 401)
        return Response({}, 201)

    with LocalAPI() as api:
        api.route("POST", "/token", token)
        api.route("POST", "/in", accept)
        auth = {
            "type": "oauth2_client_credentials",
            "access_token_url": f"{api.url}/token",
            "client_id": "id",
            "client_secret": "secret",
        }
        headers = {"Content-Type": "application/vnd.api+json"}
        with BatchSender(api.url, headers=headers, auth=auth, retry=False) as sender:
            stats = sender.send("in", [[{"id": 1}], [{"id": 2}]])
        posts = [r for r in api.requests if r.path == "/in"]
    assert stats.batches == 2 and stats.rows == 2
    assert stats.requests == 3  # the first batch once with the revoked token, once refreshed
    assert [r.header("Authorization") for r in posts] == ["Bearer t1", "Bearer t2", "Bearer t2"]
    assert {r.header("Content-Type") for r in posts} == {"application/vnd.api+json"}


def test_encode_batch_handles_dates_and_decimals() -> None:
    import datetime as dt
    from decimal import Decimal

    body = encode_batch([{"at": dt.date(2024, 1, 2), "n": Decimal("1.50")}], body_key="data")
    assert body == b'{"data":[{"at":"2024-01-02","n":"1.50"}]}'
