"""Auto-detected paginators of five real-world shapes, logged once per resource across 50 child
requests (dlt 1915, 2505); OAuth2 client credentials by HTTP Basic and in the form, with a
token at a custom path (dlt 4206). All through Dagster."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import build_definitions
from tests.beyond_dlt.conftest import PARENTS, project
from tests.beyond_dlt.pains_api import CLIENT_ID, CLIENT_SECRET, SHAPES, TOKEN, PainsAPI
from tests.incremental.conftest import rows, run

EXPECTED = {
    "github": "header_link",
    "pokeapi": "json_link(next_url_path='next')",
    "graph": "@odata.nextLink",
    "stripe": "stripe(",
    "hubspot": "paging.next.after",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_detection_is_logged_once_per_resource_over_50_children(
    shape: str, instance: dg.DagsterInstance, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "w.duckdb"
    child: dict[str, Any] = {
        "name": "things",
        "endpoint": {
            "path": f"shapes/{shape}/{{resources.parents.id}}",
            "paginator": "auto",
            "data_selector": None,
        },
    }
    with PainsAPI(parents=50, per_page=10) as api:
        defs = build_definitions(project(api, [PARENTS, child]), database=db)
        with caplog.at_level(logging.INFO, logger="rest_assets.http"):
            assert run(defs, instance).success
        sent = api.sent("/shapes/")
    assert len(sent) == 150  # every one of the 50 children walked its 3 pages
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_pains.things") == [(300, 300)]
    decisions = [r.getMessage() for r in caplog.records if "auto-detected" in r.getMessage()]
    assert len(decisions) == 1, decisions
    assert "'things'" in decisions[0] and EXPECTED[shape] in decisions[0]


@pytest.mark.parametrize("client_auth", ["client_secret_basic", "client_secret_post"])
def test_oauth2_client_credentials_both_ways_and_a_custom_token_path(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path, client_auth: str
) -> None:
    db = tmp_path / "w.duckdb"
    auth = {
        "type": "oauth2_client_credentials",
        "access_token_url": f"{pains.url}/token",
        "client_id": CLIENT_ID,
        "client_secret": "${PAINS_SECRET}",
        "client_auth": client_auth,
        "token_path": "data.token",
        "expires_in_path": "data.ttl",
    }
    resource = {"name": "secure", "endpoint": {"path": "secure/items", "data_selector": "data"}}
    defs = build_definitions(project(pains, [resource], auth=auth), database=db)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAINS_SECRET", CLIENT_SECRET)
        assert run(defs, instance).success
    assert rows(db, "SELECT count(*) FROM raw_pains.secure") == [(2,)]
    (token_request,) = pains.sent("/token")
    basic = (token_request.header("Authorization") or "").startswith("Basic ")
    assert basic == (client_auth == "client_secret_basic")
    assert (CLIENT_SECRET.encode() in token_request.body) == (client_auth == "client_secret_post")
    # neither the secret nor the token reaches Dagster's event log
    logged = " ".join(str(e) for e in instance.all_logs(instance.get_runs()[0].run_id))
    assert CLIENT_SECRET not in logged and TOKEN not in logged
