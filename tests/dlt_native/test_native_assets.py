"""A user's dlt source as assets: keys and lineage, the project translator, subsets, secrets
kept out of messages and files, the process left as it was, taking turns on the DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import DuckDBIOManager, build_definitions, rest_api_assets
from rest_assets.dagster import ResourceAssetData, RestAssetsTranslator
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.dlt_native.conftest import MakeProject, native
from tests.seeds.support import assert_secret_absent, failure_text, rows

dlt = pytest.importorskip("dlt", reason="needs the extra rest-assets[dlt]")
pytest.importorskip("dagster_dlt", reason="needs the extra rest-assets[dlt]")

SECRET = "sk-live-5f3a9c1e77d2"

SHOP = '''
    """A shop: customers, their addresses (a transformer) and products."""
    import dlt
    from dlt.sources.helpers import requests


    @dlt.source
    def shop_source(api_key: str = dlt.secrets.value, base_url: str = dlt.config.value):
        def get(path):
            response = requests.get(f"{base_url}{path}", params={"api_key": api_key})
            response.raise_for_status()
            return response.json()

        @dlt.resource(primary_key="id", write_disposition="merge")
        def customers():
            """Every customer."""
            yield from get("/customers")

        @dlt.transformer(data_from=customers)
        def addresses(customer):
            yield get(f"/customers/{customer['id']}/address")

        @dlt.resource
        def products():
            yield from get("/products")

        return customers, addresses, products
'''


@pytest.fixture
def shop_api() -> Any:
    api = LocalAPI()

    def keyed(answer: Any) -> Any:
        def handler(request: Request) -> Response:
            if request.arg("api_key") != SECRET:
                return Response({"error": "unauthorized"}, 401)
            return Response(answer(request) if callable(answer) else answer)

        return handler

    api.route("GET", "/customers", keyed([{"id": 1}, {"id": 2}]))
    api.route(
        "GET",
        "/customers/",
        keyed(lambda r: {"customer": int(r.path.split("/")[2]), "city": "Lyon"}),
        prefix=True,
    )
    api.route("GET", "/products", keyed([{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]))
    with api:
        yield api


def _shop(make_project: MakeProject, api: LocalAPI, secret: str = SECRET) -> Path:
    return make_project(
        modules={"custom_sources/__init__.py": "", "custom_sources/shop.py": SHOP},
        sources=[native("shop", "custom_sources.shop", "shop_source")],
        secrets=f'[sources.shop_source]\napi_key = "{secret}"\n',
        config=f'[sources.shop_source]\nbase_url = "{api.url}"\n',
    )


class Lake(RestAssetsTranslator):
    """The project's translator: every asset under `lake/`, in group lake."""

    seen: list[Any]

    def __init__(self) -> None:
        self.seen = []

    def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
        self.seen.append(data.resource.records)
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=spec.key.with_prefix("lake"), group_name="lake")


def _materialize(
    defs: dg.Definitions, instance: dg.DagsterInstance, selection: list[dg.AssetKey] | None = None
) -> Any:
    return dg.materialize(
        list(defs.assets or []),
        instance=instance,
        resources=defs.resources,
        selection=selection,
        raise_on_error=False,
    )


def test_keys_lineage_and_the_project_translator(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path
) -> None:
    folder = _shop(make_project, shop_api)
    translator = Lake()
    defs = build_definitions(folder / ".dango" / "sources.yml", translator=translator)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"lake/shop/customers", "lake/shop/addresses", "lake/shop/products"}
    addresses = graph.get(dg.AssetKey(["lake", "shop", "addresses"]))
    assert addresses.parent_keys == {dg.AssetKey(["lake", "shop", "customers"])}
    assert not graph.get(dg.AssetKey(["lake", "shop", "products"])).parent_keys
    assert addresses.group_name == "lake" and {"dlt", "duckdb"} <= set(addresses.kinds)
    assert sorted(r.name for r in translator.seen) == ["addresses", "customers", "products"]
    customers = graph.get(dg.AssetKey(["lake", "shop", "customers"]))
    assert customers.metadata["dagster/table_name"] == "raw_shop.customers"
    assert customers.metadata["primary_key"] == "id"

    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    database = folder / ".dango" / "warehouse.duckdb"
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        only = _materialize(defs, instance, [dg.AssetKey(["lake", "shop", "products"])])
        assert only.success, failure_text(only)
        assert {r.path for r in shop_api.requests} == {"/products"}
        assert rows(database, "SELECT count(*) FROM raw_shop.products") == [(3,)]
        assert not rows(
            database,
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'customers'",
        )
        everything = _materialize(defs, instance)
        assert everything.success, failure_text(everything)
        keys_done = {e.asset_key for e in everything.get_asset_materialization_events()}
        assert len(keys_done) == 3
    assert rows(database, "SELECT customer, city FROM raw_shop.addresses ORDER BY 1") == [
        (1, "Lyon"),
        (2, "Lyon"),
    ]


def test_secrets_stay_out_of_messages_logs_and_files(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path, caplog: Any
) -> None:
    """The API refuses the key: the error of requests holds the URL with `api_key=` in it."""
    folder = _shop(make_project, shop_api)
    shop_api.route("GET", "/customers", lambda r: Response({"error": "expired"}, 401))
    caplog.set_level("DEBUG")
    defs = build_definitions(folder / ".dango" / "sources.yml")
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        result = _materialize(defs, instance, [dg.AssetKey(["shop", "customers"])])
    assert not result.success
    text = failure_text(result)
    assert "sources[0](shop): dlt failed: PipelineStepFailed" in text
    assert "401 Client Error" in text and "api_key=***" in text
    assert [r.arg("api_key") for r in shop_api.requests_to("/customers")] == [SECRET]
    assert_secret_absent(
        [SECRET], texts=[text, caplog.text], folders=[instance_dir, folder / ".dango"]
    )


def test_a_secret_from_the_environment_is_masked_too(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path, monkeypatch: Any
) -> None:
    folder = _shop(make_project, shop_api, secret="not-the-key")
    monkeypatch.setenv("SOURCES__SHOP_SOURCE__API_KEY", SECRET)  # dlt reads it first
    shop_api.route("GET", "/products", lambda r: Response({"error": "down"}, 403))
    defs = build_definitions(folder / ".dango" / "sources.yml")
    with dg.DagsterInstance.ephemeral() as instance:
        result = _materialize(defs, instance, [dg.AssetKey(["shop", "products"])])
    assert not result.success
    assert [r.arg("api_key") for r in shop_api.requests_to("/products")] == [SECRET]
    text = failure_text(result)
    assert "403 Client Error" in text
    assert_secret_absent([SECRET], texts=[text])


def test_the_process_is_left_as_it_was(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path, monkeypatch: Any
) -> None:
    folder = _shop(make_project, shop_api)
    monkeypatch.chdir(tmp_path)
    run_dir = dlt.current.run_context().run_dir
    before = (list(sys.path), dict(os.environ), Path.cwd())
    defs = build_definitions(folder / ".dango" / "sources.yml")
    with dg.DagsterInstance.ephemeral() as instance:
        assert _materialize(defs, instance).success
    assert (list(sys.path), dict(os.environ), Path.cwd()) == before
    assert dlt.current.run_context().run_dir == run_dir


def test_rest_api_assets_takes_a_dlt_native_source_from_the_working_directory(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path, monkeypatch: Any
) -> None:
    folder = _shop(make_project, shop_api)
    monkeypatch.chdir(folder)
    assets = rest_api_assets(
        {
            "type": "dlt_native",
            "dlt_native": {"source_module": "custom_sources.shop", "source_name": "shop_source"},
        },
        name="shop",
    )
    database = tmp_path / "mine.duckdb"
    result = dg.materialize(
        assets,
        resources={"io_manager": DuckDBIOManager(database=str(database))},
        selection=[dg.AssetKey(["shop", "products"])],
    )
    assert result.success
    assert rows(database, "SELECT count(*) FROM raw_shop.products") == [(3,)]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("X = 1\n", "custom_sources.shop ({file}) has no function shop_source"),
        (
            "def shop_source():\n    return [1, 2]\n",
            "returned list, not a dlt source; decorate the function with @dlt.source",
        ),
        (
            f"def shop_source():\n    raise ValueError('key {SECRET} refused')\n",
            "calling custom_sources.shop:shop_source() failed: ValueError: key *** refused",
        ),
    ],
)
def test_a_source_that_cannot_load_says_why(
    code: str, message: str, make_project: MakeProject, shop_api: LocalAPI
) -> None:
    folder = _shop(make_project, shop_api)
    module = folder / "custom_sources" / "shop.py"
    module.write_text(code)
    defs = build_definitions(folder / ".dango" / "sources.yml")
    (key,) = defs.resolve_asset_graph().get_all_asset_keys()
    assert key == dg.AssetKey(["shop", "shop_source"])
    with dg.DagsterInstance.ephemeral() as instance:
        result = _materialize(defs, instance)
    text = failure_text(result)
    assert message.format(file=module.resolve()) in text
    assert SECRET not in text


def _log_says(instance: dg.DagsterInstance, text: str) -> bool:
    return any(
        text in (entry.user_message or "")
        for run in instance.get_runs()
        for entry in instance.all_logs(run.run_id)
    )


def test_dlt_waits_while_another_process_holds_the_database(
    make_project: MakeProject, shop_api: LocalAPI, tmp_path: Path
) -> None:
    folder = _shop(make_project, shop_api)
    database = folder / ".dango" / "warehouse.duckdb"
    database.parent.mkdir(exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                con = duckdb.connect({str(database)!r})
                print("locked", flush=True)
                sys.stdin.readline()  # holds the file until the test says
                con.close()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    defs = build_definitions(folder / ".dango" / "sources.yml")
    outcome: list[Any] = []
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        worker = threading.Thread(
            target=lambda: outcome.append(
                _materialize(defs, instance, [dg.AssetKey(["shop", "products"])])
            )
        )
        worker.start()
        try:
            # the lock is let go only once dlt was refused and said it waits
            for _ in range(1200):
                if _log_says(instance, "is locked by another process") or not worker.is_alive():
                    break
                time.sleep(0.05)
            assert _log_says(instance, "is locked by another process")
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=60)
            worker.join(timeout=120)
    (result,) = outcome
    assert result.success, failure_text(result)
    assert rows(database, "SELECT count(*) FROM raw_shop.products") == [(3,)]
