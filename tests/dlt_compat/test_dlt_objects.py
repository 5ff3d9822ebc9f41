"""dlt's own objects in a config dict (fact sheet §1.2, §2.1, §3): paginator instances,
built-in and a custom subclass (dlt's docs' QueryParamPaginator) driven through their
init_request/update_state/update_request/has_next_page protocol, a
dlt.sources.incremental in params, and a @dlt.resource parent with selected=False.

These need dlt in this interpreter (the dlt extra); they skip without it, and
test_without_dlt.py checks that nothing else needs it.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from tests.dlt_compat.api import CompatAPI
from tests.dlt_compat.conftest import NO_DLT, Outcome, dlt_importable, run_dlt, run_ours

pytestmark = pytest.mark.skipif(not dlt_importable(), reason=NO_DLT)

EXPECTED = {
    "obj_offset": (
        ["GET ?limit=3&offset=0", "GET ?limit=3&offset=3", "GET ?limit=3&offset=6"],
        [1, 2, 3, 4, 5, 6, 7],
    ),
    "obj_cursor": (["GET ?", "GET ?cursor=c3", "GET ?cursor=c6"], [1, 2, 3, 4, 5, 6, 7]),
    # the custom paginator stops after the first empty page
    "obj_custom": (
        ["GET ?page=1", "GET ?page=2", "GET ?page=3", "GET ?page=4"],
        [1, 2, 3, 4, 5, 6, 7],
    ),
    "obj_incremental": (["GET ?since=2024-01-02T00:00:00Z"], [2, 3, 4]),
}


@pytest.fixture(scope="module")
def ours(
    compat_api: CompatAPI,
    module_instance: dg.DagsterInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> Outcome:
    database = tmp_path_factory.mktemp("ours") / "w.duckdb"
    outcome = run_ours(compat_api, "dlt_objects", database, module_instance)
    assert outcome.error is None, outcome.error
    return outcome


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_dlt_paginators_and_incremental_objects(ours: Outcome, case: str) -> None:
    requests, ids = EXPECTED[case]
    assert ours.requests[case] == requests
    assert ours.ids(case) == ids


def test_a_dlt_resource_parent_with_selected_false(ours: Outcome) -> None:
    assert "seeds" not in ours.tables  # selected=False: no table, only a parent
    assert sorted(ours.paths["obj_child"]) == ["/c/obj_child/seed/a", "/c/obj_child/seed/b"]
    assert ours.ids("obj_child") == ["a1", "a2", "b1", "b2"]


def test_dlt_itself_does_the_same(
    compat_api: CompatAPI, ours: Outcome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    theirs = run_dlt(compat_api, "dlt_objects", tmp_path_factory.mktemp("dlt"))
    assert theirs.error is None, theirs.error
    assert theirs.sent() == ours.sent()
    assert set(theirs.tables) == set(ours.tables)
    for table in ours.tables:
        assert theirs.ids(table) == ours.ids(table), table


def test_a_dlt_paginator_class_registered_by_name(compat_api: CompatAPI) -> None:
    from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

    from rest_assets.http.client import RestClient
    from rest_assets.http.paginators import PAGINATORS, create_paginator, register_paginator
    from rest_assets.http.paginators.dlt_adapter import DltPaginator

    register_paginator("dlt_pages", PageNumberPaginator)
    try:
        built = create_paginator({"type": "dlt_pages", "base_page": 1, "total_path": None})
        assert isinstance(built, DltPaginator)
        assert built.describe() == "dlt PageNumberPaginator"
        client = RestClient(compat_api.url, retry=1)
        pages = list(client.paginate("c/obj_custom/list", paginator=built, data_selector="data"))
        assert [r["id"] for p in pages for r in p.records] == [1, 2, 3, 4, 5, 6, 7]
    finally:
        PAGINATORS.pop("dlt_pages", None)
    with pytest.raises(TypeError, match="is not a paginator class"):
        register_paginator("nope", dict)


def test_dlt_resources_we_cannot_run_are_refused_with_the_way_forward() -> None:
    import dlt

    from rest_assets.config.load import source_from_dict
    from rest_assets.errors import ConfigError

    @dlt.resource
    def parents() -> Any:
        yield [{"id": 1}]

    @dlt.transformer(data_from=parents)
    def kids(parent: Any) -> Any:
        yield {"parent": parent["id"]}

    @dlt.resource
    def events(updated_at: Any = dlt.sources.incremental("updated_at", initial_value=1)) -> Any:  # noqa: B008 - dlt's own idiom
        yield [{"updated_at": 2}]

    client = {"base_url": "http://x"}
    with pytest.raises(ConfigError, match=r"@dlt.transformer 'kids' needs dlt's pipe"):
        source_from_dict({"client": client, "resources": [parents, kids]})
    with pytest.raises(ConfigError, match=r"give it as a REST resource with endpoint\.incremental"):
        source_from_dict({"client": client, "resources": [events]})
    # an incremental object without a cursor_path: dlt ignores it silently, we say so
    endpoint = {"path": "a", "params": {"since": dlt.sources.incremental(initial_value=1)}}
    with pytest.raises(ConfigError, match="without a cursor_path"):
        source_from_dict({"client": client, "resources": [{"name": "a", "endpoint": endpoint}]})


def test_dlt_resource_hints_carry_over() -> None:
    import dlt

    from rest_assets.config.load import source_from_dict

    @dlt.resource(primary_key="id", write_disposition="merge", table_name="repositories")
    def repos() -> Any:
        yield [{"id": 1}]

    source = source_from_dict({"client": {"base_url": "http://x"}, "resources": [repos]})
    resource = source.resources[0]
    assert (resource.name, resource.selected) == ("repos", True)
    assert resource.primary_key == ["id"]
    assert resource.write_disposition == "merge"
    assert resource.table_name == "repositories"
    assert list(resource.records()) == [{"id": 1}]


def test_a_dlt_incremental_as_endpoint_incremental_keeps_every_option() -> None:
    import dlt

    from rest_assets.config.load import source_from_dict

    incremental = dlt.sources.incremental(
        "updated_at",
        initial_value="2024-01-01T00:00:00Z",
        end_value="2024-02-01T00:00:00Z",
        last_value_func=min,
        primary_key=(),
        row_order="desc",
        on_cursor_value_missing="exclude",
        lag=3600,
        range_start="open",
        range_end="closed",
    )
    endpoint = {"path": "a", "incremental": incremental}
    source = source_from_dict(
        {"client": {"base_url": "http://x"}, "resources": [{"name": "a", "endpoint": endpoint}]}
    )
    config = source.resources[0].endpoint.incremental
    assert config is not None
    assert config.model_dump(include={
        "cursor_path", "initial_value", "end_value", "last_value_func", "primary_key",
        "row_order", "on_cursor_value_missing", "lag", "range_start", "range_end",
    }) == {
        "cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
        "end_value": "2024-02-01T00:00:00Z", "last_value_func": "min", "primary_key": [],
        "row_order": "desc", "on_cursor_value_missing": "exclude", "lag": 3600.0,
        "range_start": "open", "range_end": "closed",
    }  # fmt: skip


def test_dlt_auth_objects_are_kept_and_sign_the_requests(tmp_path: Any) -> None:
    # dlt's auth classes behave as dicts too: read as one, the object was lost and the
    # config refused for lacking a `type` (dlt's tests and docs configs use them)
    import duckdb
    from dlt.sources.helpers.rest_client.auth import APIKeyAuth, HttpBasicAuth

    from rest_assets import build_definitions
    from rest_assets.demo.server import LocalAPI, Request, Response

    def items(request: Request) -> Response:
        return Response({"data": [{"id": 1}, {"id": 2}]})

    with LocalAPI() as api:
        api.route("GET", "/items", items)
        api.route("GET", "/keyed", items)
        config = {
            "client": {
                "base_url": api.url,
                "auth": HttpBasicAuth("ann", "s3cret"),
                "paginator": "single_page",
            },
            "resources": [
                {"name": "items", "endpoint": {"path": "items", "data_selector": "data"}},
                {
                    "name": "keyed",
                    "endpoint": {
                        "path": "keyed",
                        "data_selector": "data",
                        "auth": APIKeyAuth(name="X-Key", api_key="k-1", location="header"),
                    },
                },
            ],
        }
        database = tmp_path / "w.duckdb"
        defs = build_definitions(config, database=database)
        job = defs.resolve_implicit_global_asset_job_def()
        with dg.instance_for_test() as instance:
            assert job.execute_in_process(instance=instance).success
        basic = api.requests_to("/items")[0].header("Authorization")
        keyed = api.requests_to("/keyed")[0]
    assert basic == "Basic YW5uOnMzY3JldA=="  # ann:s3cret
    assert keyed.header("X-Key") == "k-1" and keyed.header("Authorization") is None
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_rest_api.items").fetchone() == (2,)
