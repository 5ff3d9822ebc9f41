"""`inspect_endpoint` against real LocalAPI servers shaped like GitHub, Stripe and others."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rest_assets.config.load import source_from_dict
from rest_assets.config.names import name_from_path
from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import HTTPStatusError, MissingEnvVarError
from rest_assets.http.paginators import BasePaginator, OffsetPaginator, create_paginator
from rest_assets.inspect import inspect_endpoint, paginator_spec

TOKEN = "ghp-Inspect-canary-7731"


def _issues() -> list[dict[str, Any]]:
    return [
        {
            "id": 1000 + n,
            "number": n,
            "title": f"issue {n}",
            "created_at": f"2024-01-{n:02d}T08:00:00Z",
            "updated_at": f"2024-02-{n:02d}T09:30:00Z",
            "user": {"login": f"u{n % 3}", "id": n % 3},
            "labels": [{"name": "bug"}] if n % 2 else [],
            "closed_at": None,
        }
        for n in range(1, 8)
    ]


def build_api() -> LocalAPI:
    """One server with GitHub-, Stripe-, page-number- and single-object-style endpoints."""
    api = LocalAPI()
    issues = _issues()

    def github(req: Request) -> Response:
        if req.path.startswith("/private") and req.header("Authorization") != f"Bearer {TOKEN}":
            return Response({"message": "Bad credentials"}, 401)
        page, per = int(req.arg("page", "1") or 1), int(req.arg("per_page", "3") or 3)
        last = (len(issues) + per - 1) // per
        links = [f'<{api.url}{req.path}?page={last}&per_page={per}>; rel="last"']
        if page < last:
            links.insert(0, f'<{api.url}{req.path}?page={page + 1}&per_page={per}>; rel="next"')
        return Response(issues[(page - 1) * per : page * per], headers={"Link": ", ".join(links)})

    charges = [{"id": f"ch_{n:03d}", "object": "charge", "amount": n * 100,
                "created": 1_700_000_000 + n} for n in range(1, 8)]  # fmt: skip

    def stripe(req: Request) -> Response:
        after = req.arg("starting_after")
        start = next(i for i, c in enumerate(charges) if c["id"] == after) + 1 if after else 0
        limit = int(req.arg("limit", "3") or 3)
        chunk = charges[start : start + limit]
        return Response({"object": "list", "data": chunk, "has_more": start + limit < 7})

    things = [{"thing_id": n, "code": f"c{n}", "modified": f"2024-03-{n:02d}"} for n in range(1, 8)]

    def page_number(req: Request) -> Response:
        page = int(req.arg("page", "1") or 1)
        return Response({"page": page, "total_pages": 3, "results": things[(page - 1) * 3 :][:3]})

    def ignores_page(req: Request) -> Response:
        return Response({"page": 1, "total_pages": 3, "results": things[:3]})

    api.route("GET", "/repos/o/r/issues", github)
    api.route("GET", "/private/issues", github)
    api.route("GET", "/v1/charges", stripe)
    api.route("GET", "/api/things", page_number)
    api.route("GET", "/api/stuck", ignores_page)
    api.route(
        "GET", "/user", lambda req: Response({"id": 7, "login": "me", "plan": {"name": "pro"}})
    )
    return api


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with build_api() as server:
        yield server


def test_github_style_link_header_bare_list(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/repos/o/r/issues", params={"per_page": 3})
    assert s.data_selector is None
    assert s.paginator == {"type": "header_link"}
    assert s.paginator_confirmed is True
    assert s.more_pages is True  # 7 issues, 3 per page, 2 pages sampled
    assert s.pages_fetched == 2 and s.records_sampled == 6
    assert s.primary_key == "id"
    assert s.cursor_field == "updated_at" and s.cursor_kind == "ISO timestamps"
    requests = api.requests_to("/repos/o/r/issues")
    assert [r.arg("page") for r in requests] == [None, "2"]
    fields = {f.name: f for f in s.fields}
    assert fields["updated_at"].types == ["timestamp"]
    assert fields["user"].children == ["login", "id"]
    assert fields["closed_at"].nullable and fields["closed_at"].types == ["null"]
    assert s.nested_objects == ["user"]
    assert any(item.startswith("labels (list of objects") for item in s.lists)
    assert fields["labels"].types == ["array<object>"]  # empty lists do not count


def test_stripe_style_has_more(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/v1/charges", pages=3)
    assert s.data_selector == "data"
    assert s.paginator == {"type": "stripe"}
    assert s.paginator_confirmed is True
    assert s.records_sampled == 7 and s.more_pages is False
    sent = [r.arg("starting_after") for r in api.requests_to("/v1/charges")]
    assert sent == [None, "ch_003", "ch_006"]
    assert s.primary_key == "id"
    assert s.cursor_field == "created" and s.cursor_kind == "epoch numbers"


def test_page_number_with_total_pages_prefers_name_id(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/api/things")
    assert s.data_selector == "results"
    assert s.paginator == {"type": "page_number", "base_page": 1, "total_path": "total_pages"}
    assert s.paginator_confirmed is True
    assert [r.arg("page") for r in api.requests_to("/api/things")] == [None, "2"]
    # `code` is unique too, but `<name>_id` is the id-like name.
    assert s.primary_key == "thing_id"
    assert s.cursor_field == "modified" and s.cursor_kind == "ISO dates"


def test_single_object_endpoint(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/user")
    assert s.data_selector == "$"
    assert s.paginator == {"type": "single_page"}
    assert s.paginator_confirmed is None and s.more_pages is False
    assert s.records_sampled == 1 and len(api.requests_to("/user")) == 1
    assert s.primary_key == "id" and s.cursor_field is None
    assert any("single object" in note for note in s.notes)
    assert "one page" in s.report()


def test_paginator_that_does_not_advance_is_flagged(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/api/stuck")
    assert s.paginator["type"] == "page_number"
    assert s.paginator_confirmed is False
    assert any("repeated the thing_id values" in note for note in s.notes)
    assert s.primary_key == "thing_id"
    assert "NOT confirmed" in s.report()


def test_bearer_auth_from_env_and_no_leak(api: LocalAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECT_TOKEN", TOKEN)
    s = inspect_endpoint(
        f"{api.url}/private/issues", auth={"type": "bearer", "token": "${INSPECT_TOKEN}"}
    )
    assert s.records_sampled == 6
    assert all(r.header("Authorization") == f"Bearer {TOKEN}" for r in api.requests)
    assert TOKEN not in s.report() and TOKEN not in str(s.to_dict())


def test_missing_variable_and_bad_credentials_fail_clearly(
    api: LocalAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(MissingEnvVarError, match="NOT_SET_ANYWHERE"):
        inspect_endpoint(f"{api.url}/private/issues", auth={"token": "${NOT_SET_ANYWHERE}"})
    monkeypatch.setenv("WRONG_TOKEN", "wrong-token-value")
    with pytest.raises(HTTPStatusError) as info:
        inspect_endpoint(f"{api.url}/private/issues", auth={"token": "${WRONG_TOKEN}"})
    assert info.value.status == 401 and "wrong-token-value" not in str(info.value)


def test_to_resource_is_a_valid_config(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/v1/charges")
    resource = s.to_resource("charges", path="v1/charges", incremental=True)
    assert resource == {
        "name": "charges",
        "endpoint": {
            "path": "v1/charges",
            "paginator": {"type": "stripe"},
            "data_selector": "data",
            "incremental": {"cursor_path": "created"},
        },
        "primary_key": "id",
        "write_disposition": "merge",
    }
    source = source_from_dict({"client": {"base_url": api.url}, "resources": [resource]})
    assert source.resources[0].endpoint.incremental.cursor_path == "created"
    plain = s.to_resource()
    assert "incremental" not in plain["endpoint"] and "write_disposition" not in plain
    assert plain["endpoint"]["path"] == f"{api.url}/v1/charges"


def test_incremental_without_cursor_and_merge_without_key_are_refused(api: LocalAPI) -> None:
    s = inspect_endpoint(f"{api.url}/user")
    with pytest.raises(ValueError, match="cursor"):
        s.to_resource(incremental=True)
    with pytest.raises(ValueError, match="primary key"):
        s.to_resource(primary_key=None, write_disposition="merge")


def test_no_unique_id_means_no_primary_key() -> None:
    with LocalAPI() as api:
        api.route("GET", "/rows", lambda r: Response([{"id": 1, "v": "a"}, {"id": 1, "v": "b"}]))
        s = inspect_endpoint(f"{api.url}/rows")
    assert s.primary_key is None
    assert any("no field is unique" in note for note in s.notes)


def test_paginator_spec_round_trips_and_drops_defaults() -> None:
    pager = OffsetPaginator(limit=50, offset_param="skip", limit_param="take", total_path="count")
    spec, description = paginator_spec(pager)
    assert spec == {
        "type": "offset",
        "limit": 50,
        "offset_param": "skip",
        "limit_param": "take",
        "total_path": "count",
    }
    rebuilt = create_paginator(spec)
    assert rebuilt is not None and rebuilt.describe() == description


def test_paginator_spec_is_auto_when_the_paginator_cannot_round_trip() -> None:
    class Custom(BasePaginator):
        def update_state(self, response: Any, body: Any, records: list[Any]) -> None:
            self.has_next_page = False

        def update_request(self, request: Any) -> None:
            return None

    class Subclass(OffsetPaginator):
        """Registered under no name: create_paginator would build its parent."""

    assert paginator_spec(Custom()) == ({"type": "auto"}, "Custom")
    spec, description = paginator_spec(Subclass(limit=5))
    assert spec == {"type": "auto"} and description.startswith("offset(")


def test_name_from_path() -> None:
    assert name_from_path("/admin/api/orders.json") == "orders"
    assert name_from_path("/v1/") == "v1"
    assert name_from_path("/") == "resource"
    # one rule for inspect, the wizard and config's dialects: no name starts with a digit
    assert name_from_path("/v1/2024") == "r_2024"
    assert name_from_path("/items/{id}/sub-items.json") == "sub_items"
    assert name_from_path("/-/") == "resource"
