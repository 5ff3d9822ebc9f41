"""The custom-API tutorial's option 2 (`type: dlt_native`) run by dlt, as Dango runs it.

Both examples of the page are on disk exactly as printed (`.dango/sources.yml`,
`custom_sources/*.py`, `.dlt/secrets.toml`, under data/dango/): `my_api_source` (users, and
orders loaded incrementally and merged) and the HubSpot contacts source. They run through
`rest-assets materialize` from the project folder (no config argument) and through
`build_definitions` and a real DagsterInstance, against the examples' hosts on loopback
(tests/seeds/loopback.py): rows in DuckDB under `raw_<source>`, the bearer token the API
received, the second run resuming from dlt's own state, no secret in logs, DuckDB files or
the Dagster home. A missing secret, a module that is not there and a missing extra each
leave one stand-in asset whose runs fail saying so, while the rest of the file runs.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from rest_assets import build_definitions
from rest_assets.cli import main
from rest_assets.demo.server import Request, Response
from tests.seeds.loopback import HostsProxy
from tests.seeds.support import (
    assert_secret_absent,
    copy_project,
    failure_text,
    latest_metadata,
    materialize,
    rows,
    serve,
)

# the stand-in of a missing extra is tested with or without it; the rest needs it
needs_dlt = pytest.mark.skipif(
    importlib.util.find_spec("dagster_dlt") is None, reason="needs the extra rest-assets[dlt]"
)

MY_API_KEY = "your-api-key-here"  # the tutorial's .dlt/secrets.toml, [sources.my_api_source]
HUBSPOT_KEY = "pat-xxx"  # [sources.hubspot_contacts_source]


@pytest.fixture(autouse=True)
def _no_dlt_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    # dlt reports anonymous usage unless told not to; nothing may leave the machine
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass
class CliRun:
    code: int
    out: str
    err: str
    logs: str


def _cli(capsys: Any, caplog: pytest.LogCaptureFixture, *args: str) -> CliRun:
    caplog.clear()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err, caplog.text)


def _bearer(token: str, handler: Any) -> Any:
    def checked(request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {token}":
            return Response({"error": "unauthorized"}, 401)
        return handler(request)

    return checked


class OrdersAPI:
    """`https://api.example.com` as `my_api_source` expects it: `/users`, and `/orders`
    filtered by `updated_after`, two per page, linked by an absolute `next_page_url`."""

    def __init__(self) -> None:
        self.orders = [
            {"id": i, "status": "open", "updated_at": f"2024-02-0{i}T00:00:00Z"} for i in (1, 2, 3)
        ]

    def users(self, request: Request) -> Response:
        return Response({"data": [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]})

    def orders_page(self, request: Request) -> Response:
        after = request.arg("updated_after") or ""
        matching = sorted(
            (o for o in self.orders if o["updated_at"] >= after), key=lambda o: o["updated_at"]
        )
        page = int(request.arg("page") or 1)
        chunk = matching[(page - 1) * 2 : page * 2]
        body: dict[str, Any] = {"data": chunk}
        if page * 2 < len(matching):
            body["next_page_url"] = (
                f"https://api.example.com/orders?updated_after={after}&page={page + 1}"
            )
        return Response(body)


@needs_dlt
def test_my_api_source_runs_from_the_project_folder_and_resumes_from_dlt_state(
    hosts: HostsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = serve(hosts, "api.example.com")
    orders = OrdersAPI()
    api.route("GET", "/users", _bearer(MY_API_KEY, orders.users))
    api.route("GET", "/orders", _bearer(MY_API_KEY, orders.orders_page))
    folder = copy_project("tutorial_dlt_native", tmp_path)
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(folder)
    caplog.set_level(logging.DEBUG)

    validated = _cli(capsys, caplog, "validate")
    assert validated.code == 0, validated.err
    assert "my_custom_api/orders" in validated.out and "my_custom_api/users" in validated.out
    assert "source my_custom_api (Dango type: dlt_native, run by dlt)" in validated.out
    assert (
        "sources[0].dlt_native -> my_custom_api/orders: dlt resource orders of "
        "custom_sources.my_api:my_api_source; merge into raw_my_custom_api.orders "
        "(primary key id)"
    ) in validated.out
    assert "replace into raw_my_custom_api.users" in validated.out

    first = _cli(capsys, caplog, "--log-level", "DEBUG", "materialize")
    assert first.code == 0, first.err
    database = folder / ".dango" / "warehouse.duckdb"
    assert rows(database, "SELECT id, name FROM raw_my_custom_api.users ORDER BY id") == [
        (1, "ann"),
        (2, "bob"),
    ]
    assert rows(database, "SELECT count(*) FROM raw_my_custom_api.orders") == [(3,)]
    assert [(r.arg("updated_after"), r.arg("page")) for r in api.requests_to("/orders")] == [
        ("2024-01-01T00:00:00Z", None),  # the incremental's initial_value
        ("2024-01-01T00:00:00Z", "2"),  # the next_page_url
    ]
    assert {r.header("Authorization") for r in api.requests} == {f"Bearer {MY_API_KEY}"}
    assert {r.header("Content-Type") for r in api.requests} == {"application/json"}
    assert "my_custom_api/orders" in first.out and "raw_my_custom_api.orders" in first.out

    # the API changes: order 2 is updated, order 4 is new
    orders.orders[1].update(status="shipped", updated_at="2024-03-01T00:00:00Z")
    orders.orders.append({"id": 4, "status": "open", "updated_at": "2024-03-02T00:00:00Z"})
    sent_before = len(api.requests_to("/orders"))
    second = _cli(capsys, caplog, "--log-level", "DEBUG", "materialize")
    assert second.code == 0, second.err
    resumed = api.requests_to("/orders")[sent_before:]
    # dlt's last value of updated_at, kept by dlt in the dataset and restored by it
    assert resumed[0].arg("updated_after") == "2024-02-03T00:00:00Z"
    assert rows(database, "SELECT id, status FROM raw_my_custom_api.orders ORDER BY id") == [
        (1, "open"),
        (2, "shipped"),
        (3, "open"),
        (4, "open"),
    ]
    assert rows(database, "SELECT count(*) FROM raw_my_custom_api._dlt_pipeline_state")[0][0] >= 2

    with dg.DagsterInstance.from_config(str(home)) as instance:
        meta = latest_metadata(instance, ["my_custom_api", "orders"])
        assert meta["dagster/row_count"] == 4
        assert meta["dagster/table_name"] == "raw_my_custom_api.orders"
        assert meta["dlt_incremental"] == "updated_at = 2024-03-02T00:00:00Z"
        assert latest_metadata(instance, ["my_custom_api", "users"])["dagster/row_count"] == 2
    graph = build_definitions(folder / ".dango" / "sources.yml").resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "my_custom_api/users",
        "my_custom_api/orders",
    }
    node = graph.get(dg.AssetKey(["my_custom_api", "orders"]))
    assert node.group_name == "my_custom_api"
    assert {"dlt", "duckdb"} <= set(node.kinds)
    assert "merge into raw_my_custom_api.orders" in (node.description or "")
    users = graph.get(dg.AssetKey(["my_custom_api", "users"]))
    assert (users.description or "").startswith("Load all users.")  # its docstring

    scanned = assert_secret_absent(
        [MY_API_KEY],
        texts=[r.out + r.err + r.logs for r in (validated, first, second)],
        folders=[home, folder / ".dango"],
    )
    assert scanned > 5 and (folder / ".dango" / "warehouse.dlt_pipelines").is_dir()


class ContactsAPI:
    """`https://api.hubapi.com/crm/v3/objects/contacts`: two contacts per page, the next
    page's `after` in `paging.next.after`."""

    def __init__(self) -> None:
        self.contacts = [self.contact(i, 1_700_000_000_000 + i) for i in (1, 2, 3)]

    @staticmethod
    def contact(i: int, updated: int, email: str | None = None) -> dict[str, Any]:
        properties = {
            "email": email or f"c{i}@example.com",
            "firstname": f"first{i}",
            "lastname": f"last{i}",
            "company": "acme",
            "phone": None,
        }
        return {"id": str(i), "properties": properties, "createdAt": 1, "updatedAt": updated}

    def page(self, request: Request) -> Response:
        start = int(request.arg("after") or 0)
        body: dict[str, Any] = {"results": self.contacts[start : start + 2]}
        if start + 2 < len(self.contacts):
            body["paging"] = {"next": {"after": str(start + 2)}}
        return Response(body)


# The page's HubSpot source declares its incremental cursor as `updatedAt` but yields the
# records with the field renamed to `updated_at`; dlt refuses every record of it. dlt reads
# an incremental's settings from its config too, so one entry of `.dlt/config.toml` (dlt's
# section: sources.<module>.<resource>.<argument>) names the cursor as the records have it,
# and the Python file stays as printed.
CURSOR_FIX = """[sources.hubspot_contacts.contacts.updated_after]
cursor_path = "updated_at"
"""


@needs_dlt
def test_hubspot_example_as_printed_fails_with_dlts_reason(
    hosts: HostsProxy, tmp_path: Path, caplog: Any
) -> None:
    api = serve(hosts, "api.hubapi.com")
    api.route("GET", "/crm/v3/objects/contacts", _bearer(HUBSPOT_KEY, ContactsAPI().page))
    folder = copy_project("tutorial_hubspot", tmp_path)
    defs = build_definitions(folder / ".dango" / "sources.yml")
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        result = materialize(defs, instance)
    assert not result.success
    text = failure_text(result)
    assert "sources[0](hubspot): dlt failed: PipelineStepFailed" in text
    assert "Cursor element with JSON path `updatedAt` was not found" in text
    assert len(api.requests) == 1  # dlt stops at the first record
    assert_secret_absent([HUBSPOT_KEY], texts=[text, caplog.text], folders=[instance_dir])


@needs_dlt
def test_hubspot_contacts_through_a_dagster_instance(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    api = serve(hosts, "api.hubapi.com")
    contacts = ContactsAPI()
    api.route("GET", "/crm/v3/objects/contacts", _bearer(HUBSPOT_KEY, contacts.page))
    folder = copy_project("tutorial_hubspot", tmp_path)
    (folder / ".dlt" / "config.toml").write_text(CURSOR_FIX)
    # not the project folder: the module and .dlt/ are found from the config's place
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    defs = build_definitions(folder / ".dango" / "sources.yml")
    database = folder / ".dango" / "warehouse.duckdb"
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        result = materialize(defs, instance)
        assert result.success, failure_text(result)
        sent = api.requests_to("/crm/v3/objects/contacts")
        assert [r.arg("after") for r in sent] == [None, "2"]
        assert {(r.arg("limit"), r.arg("properties")) for r in sent} == {
            ("100", "email,firstname,lastname,company,phone")
        }
        # requests sends the example's nested filterGroups as its first key only: the
        # cursor never reaches the API, dlt's incremental filters the records instead
        assert {r.arg("filterGroups") for r in sent} == {"filters"}
        assert {r.header("Authorization") for r in sent} == {f"Bearer {HUBSPOT_KEY}"}
        assert rows(
            database, "SELECT id, email, first_name FROM raw_hubspot.contacts ORDER BY id"
        ) == [
            ("1", "c1@example.com", "first1"),
            ("2", "c2@example.com", "first2"),
            ("3", "c3@example.com", "first3"),
        ]
        meta = latest_metadata(instance, ["hubspot", "contacts"])
        assert meta["dlt_incremental"] == "updated_at = 1700000000003"
        assert meta["dagster/row_count"] == 3

        # run 2: contact 1 comes back changed but older than dlt's cursor, contact 4 is new
        contacts.contacts[0] = contacts.contact(1, 1_700_000_000_001, email="stale@example.com")
        contacts.contacts.append(contacts.contact(4, 1_700_000_000_009))
        again = materialize(build_definitions(folder / ".dango" / "sources.yml"), instance)
        assert again.success, failure_text(again)
        assert rows(database, "SELECT id, email FROM raw_hubspot.contacts ORDER BY id") == [
            ("1", "c1@example.com"),
            ("2", "c2@example.com"),
            ("3", "c3@example.com"),
            ("4", "c4@example.com"),
        ]
        meta = latest_metadata(instance, ["hubspot", "contacts"])
        assert meta["dlt_incremental"] == "updated_at = 1700000000009"
    scanned = assert_secret_absent(
        [HUBSPOT_KEY], texts=[caplog.text], folders=[instance_dir, folder / ".dango"]
    )
    assert scanned > 5


def _joined_project(tmp_path: Path, *, module: bool, secret: bool) -> Path:
    """The tutorial's two options in one project: option 1's `my_api` (rest_api, token in
    `.dlt/secrets.toml`) and option 2's `my_custom_api` (dlt_native), the lists joined."""
    folder = copy_project("tutorial_rest", tmp_path)
    native = copy_project("tutorial_dlt_native", tmp_path / "native")
    config = folder / ".dango" / "sources.yml"
    joined = yaml.safe_load(config.read_text())
    joined["sources"].extend(
        yaml.safe_load((native / ".dango" / "sources.yml").read_text())["sources"]
    )
    config.write_text(yaml.safe_dump(joined, sort_keys=False))
    if module:
        shutil.copytree(native / "custom_sources", folder / "custom_sources")
    if secret:
        secrets = folder / ".dlt" / "secrets.toml"
        secrets.write_text(secrets.read_text() + (native / ".dlt" / "secrets.toml").read_text())
    return folder


def _serve_both(hosts: HostsProxy, rest_token: str) -> Any:
    """One api.example.com for both: option 1 with its token, option 2 with the dlt key."""
    api = serve(hosts, "api.example.com")
    orders = OrdersAPI()

    def either(handler: Any) -> Any:
        def checked(request: Request) -> Response:
            token = request.header("Authorization")
            if token not in (f"Bearer {rest_token}", f"Bearer {MY_API_KEY}"):
                return Response({"error": "unauthorized"}, 401)
            return handler(request)

        return checked

    api.route("GET", "/users", either(orders.users))
    api.route("GET", "/orders", either(orders.orders_page))
    return api


REST_TOKEN = "your-api-token-here"  # option 1's [sources.rest_api] MY_API_TOKEN


@needs_dlt
@pytest.mark.parametrize(
    ("module", "secret", "reason"),
    [
        (
            True,
            False,
            "dlt found no value for `api_key` of custom_sources.my_api:my_api_source: put it "
            "in {folder}/.dlt/secrets.toml under [sources.my_api_source]",
        ),
        (
            False,
            True,
            "cannot import custom_sources.my_api: there is no {folder}/custom_sources/my_api.py",
        ),
    ],
    ids=["missing-secret", "missing-module"],
)
def test_a_dlt_native_source_that_cannot_load_leaves_the_rest_running(
    module: bool,
    secret: bool,
    reason: str,
    hosts: HostsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = _joined_project(tmp_path, module=module, secret=secret)
    api = _serve_both(hosts, REST_TOKEN)
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(folder)
    expected = reason.format(folder=folder.resolve())
    validated = _cli(capsys, caplog, "validate")
    assert validated.code == 0, validated.err
    assert (
        "sources[1].dlt_native -> my_custom_api/my_api_source: a stand-in for the dlt source "
        "custom_sources.my_api:my_api_source, whose runs fail: " + expected
    ) in validated.out
    run = _cli(capsys, caplog, "materialize")
    assert run.code == 1
    assert f"sources[1](my_custom_api): {expected}" in run.err
    assert "my_api/users" in run.out and "my_api/orders" in run.out
    database = folder / ".dango" / "warehouse.duckdb"
    assert rows(database, "SELECT count(*) FROM raw_my_api.users") == [(2,)]
    assert {r.header("Authorization") for r in api.requests} == {f"Bearer {REST_TOKEN}"}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_latest_materialization_event(dg.AssetKey(["my_api", "orders"]))
        stand_in = dg.AssetKey(["my_custom_api", "my_api_source"])
        assert instance.get_latest_materialization_event(stand_in) is None
    assert_secret_absent([REST_TOKEN], texts=[run.out, run.err, run.logs], folders=[home])


@needs_dlt
def test_both_tutorial_options_in_one_project_run_in_one_process(
    hosts: HostsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """rest-assets' own DuckDB connections and dlt's take turns on the one file."""
    folder = _joined_project(tmp_path, module=True, secret=True)
    api = _serve_both(hosts, REST_TOKEN)
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(folder)
    run = _cli(capsys, caplog, "materialize")
    assert run.code == 0, run.err
    database = folder / ".dango" / "warehouse.duckdb"
    assert rows(database, "SELECT count(*) FROM raw_my_api.orders") == [(3,)]
    assert rows(database, "SELECT count(*) FROM raw_my_custom_api.orders") == [(3,)]
    tokens = {r.header("Authorization") for r in api.requests}
    assert tokens == {f"Bearer {REST_TOKEN}", f"Bearer {MY_API_KEY}"}
    assert_secret_absent(
        [REST_TOKEN, MY_API_KEY],
        texts=[run.out, run.err, run.logs],
        folders=[home, folder / ".dango"],
    )


def test_without_the_extra_the_source_is_a_stand_in_naming_it(
    hosts: HostsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """dlt and dagster-dlt made unimportable, as in an installation without the extra."""
    for module in ("dlt", "dagster_dlt"):
        monkeypatch.setitem(sys.modules, module, None)  # `import dlt` now fails
    folder = _joined_project(tmp_path, module=True, secret=True)
    _serve_both(hosts, REST_TOKEN)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.chdir(folder)
    expected = (
        "the dlt source custom_sources.my_api:my_api_source runs through dlt, and dlt[duckdb] "
        "and dagster-dlt are not installed: pip install 'rest-assets[dlt]'"
    )
    validated = _cli(capsys, caplog, "validate")
    assert validated.code == 0, validated.err
    assert f"whose runs fail: {expected}" in validated.out
    run = _cli(capsys, caplog, "materialize")
    assert run.code == 1
    assert f"sources[1](my_custom_api): {expected}" in run.err
    database = folder / ".dango" / "warehouse.duckdb"
    assert rows(database, "SELECT count(*) FROM raw_my_api.users") == [(2,)]
