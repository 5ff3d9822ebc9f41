"""Path placeholders from plain params (fact sheet §3), `path: ""` (§5) and response
actions (§4): rest-assets and dlt 1.31 send the same requests and load the same rows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from tests.dlt_compat.api import CompatAPI
from tests.dlt_compat.conftest import NO_DLT, Outcome, dlt_python, run_dlt, run_ours


def _both(
    api: CompatAPI, source: str, instance: dg.DagsterInstance, tmp: Path
) -> tuple[Outcome, Outcome | None]:
    ours = run_ours(api, source, tmp / "ours.duckdb", instance)
    assert ours.error is None, ours.error
    if dlt_python() is None:
        return ours, None
    theirs = run_dlt(api, source, tmp / "dlt")
    assert theirs.error is None, theirs.error
    return ours, theirs


def _same(ours: Outcome, theirs: Outcome | None, columns: tuple[str, ...] = ()) -> None:
    if theirs is None:
        pytest.skip(NO_DLT)
    # per case, in order; cases with several resources (fetched concurrently here) sorted
    assert theirs.sent() == ours.sent()
    for table in ours.tables:
        assert theirs.ids(table) == ours.ids(table), table
        for column in columns:
            assert theirs.column(table, column) == ours.column(table, column), (table, column)


def test_plain_params_fill_path_placeholders_and_leave_the_query(
    compat_api: CompatAPI, module_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    ours, theirs = _both(compat_api, "placeholders", module_instance, tmp_path)
    paths = sorted(zip(ours.paths["ph"], ours.requests["ph"], strict=True))
    assert paths == [
        # `num` (an int) is spliced in; org and per_page come from resource_defaults
        ("/c/ph/n/10/items", "GET ?org=dlt-hub&per_page=5"),
        ("/c/ph/repos/dlt-hub/dlt/issues", "GET ?per_page=5&state=all"),
        # plain params mixed with a parent field in the path and a parent field in a param
        ("/c/ph/repos/dlt-hub/dlt/issues/10/comments", "GET ?extra=1&n=10&per_page=5"),
        ("/c/ph/repos/dlt-hub/dlt/issues/20/comments", "GET ?extra=2&n=10&per_page=5"),
    ]
    assert ours.ids("comments") == [100, 200]
    _same(ours, theirs, ("number", "issue"))


def test_empty_path_requests_the_base_url_itself(
    compat_api: CompatAPI, module_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    ours, theirs = _both(compat_api, "path_empty", module_instance, tmp_path)
    assert ours.paths == {"root": ["/c/root/list"]}
    assert ours.ids("root") == [1, 2]
    _same(ours, theirs, ("name",))


def test_response_actions_as_dlt_applies_them(
    compat_api: CompatAPI,
    module_instance: dg.DagsterInstance,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO"):
        ours, theirs = _both(compat_api, "actions", module_instance, tmp_path)
    seen = {table: set(ours.column(table, "seen").values()) for table in ours.tables}
    assert seen["ra_bare"] == {"a"}  # a bare callable: every response
    assert seen["ra_action_only"] == {"a"}  # {action: fn}: every response
    assert seen["ra_order"] == {"abc"}  # every matching entry, in list order
    # status and content must both match: only page 0 holds "item 2"
    assert ours.column("ra_status_and_content", "seen") == {
        1: "a", 2: "a", 3: "a", 4: None, 5: None, 6: None, 7: None
    }  # fmt: skip
    # ignore by status: no rows, no error, one request; by content: it ends the pagination
    assert "ra_ignore_404" not in ours.tables
    assert ours.requests["ra_ignore_404"] == ["GET ?page=0"]
    assert ours.ids("ra_ignore_content") == [1, 2, 3]
    assert ours.requests["ra_ignore_content"] == ["GET ?page=0", "GET ?page=1"]
    # one line per resource says how many responses were ignored
    lines = [m for m in ours.messages if "ignored by response_actions" in m]
    assert sorted(lines) == [
        "actions.ra_ignore_404: 1 response ignored by response_actions (status 404: 1)",
        "actions.ra_ignore_content: 1 response ignored by response_actions (status 200: 1)",
    ]
    # nothing else to say: the paginator's settings fit the responses
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "'ra_" in r.getMessage()]
    assert not warnings
    _same(ours, theirs, ("seen", "name"))
