"""dlt's incremental options (fact sheet §2), one resource each, over two runs: run 1
loads events 1-4, run 2 sees three more (5 arrives late at run 1's last cursor value).

rest-assets' requests and rows are checked against dlt's documented semantics; where dlt
runs, its own requests and rows are compared too, and the few places where we differ on
purpose (docs/migration.md) are spelled out in DIFFERS.
"""

from __future__ import annotations

import dagster as dg
import pytest

from tests.dlt_compat.api import CompatAPI
from tests.dlt_compat.configs import stamp
from tests.dlt_compat.conftest import NO_DLT, Outcome, dlt_python, run_dlt, run_ours


def since(n: int, name: str = "since") -> str:
    return f"GET ?{name}={stamp(n)}"


# case: (run 1 request, run 1 ids, run 2 request, ids after run 2) as rest-assets does it
EXPECTED: dict[str, tuple[str, list[int], str, list[int]]] = {
    # {incremental.start_value} in params; the boundary records (3, 4) are not loaded twice,
    # the late record 5 at the boundary is
    "inc_placeholder": (since(2), [2, 3, 4], since(3), [2, 3, 4, 5, 6, 7]),
    "inc_legacy_param": (since(2), [2, 3, 4], since(3), [2, 3, 4, 5, 6, 7]),
    "inc_start_end_param": (
        f"GET ?from={stamp(2)}&to={stamp(9)}",
        [2, 3, 4],
        f"GET ?from={stamp(3)}&to={stamp(9)}",
        [2, 3, 4, 5, 6, 7],
    ),
    # range_start: open drops the records at the start value (5 too: that is "open")
    "inc_range_start_open": (since(2), [3, 4], since(3), [3, 4, 6, 7]),
    # range_end with end_value 01-04: closed keeps 6 (at 01-04), open drops it
    "inc_range_end_closed": (since(2), [2, 3, 4], since(3), [2, 3, 4, 5, 6]),
    "inc_range_end_open": (since(2), [2, 3, 4], since(3), [2, 3, 4, 5]),
    # lag of a day re-reads from 01-02; what was loaded already is skipped
    "inc_lag": (since(2), [2, 3, 4], since(2), [2, 3, 4, 5, 6, 7]),
    # on_cursor_value_missing: include keeps 9 (no field) and 10 (null), on every run
    "inc_missing_include": ("GET ?", [2, 3, 4, 9, 10], "GET ?", [2, 3, 4, 5, 6, 7, 9, 9, 10, 10]),
    "inc_missing_exclude": ("GET ?", [2, 3, 4], "GET ?", [2, 3, 4, 5, 6, 7]),
    # convert: the value sent is the date of the cursor
    "inc_convert": ("GET ?from=2024-01-02", [2, 3, 4], "GET ?from=2024-01-03", [2, 3, 4, 5, 6, 7]),
    # last_value_func min: the cursor walks down
    "inc_min": (since(6, "before"), [1, 2, 3, 4], since(1, "before"), [1, 2, 3, 4]),
    # row_order desc: records below the start end the walk
    "inc_row_order_desc": ("GET ?", [3, 4], "GET ?", [3, 4, 5, 6, 7]),
    # no initial_value: no start param on run 1
    "inc_no_initial": ("GET ?", [1, 2, 3, 4], since(3), [1, 2, 3, 4, 5, 6, 7]),
    # {incremental.end_value} without an end_value: the param is left out
    "inc_end_unset": (since(2), [2, 3, 4], since(3), [2, 3, 4, 5, 6, 7]),
}

# What dlt 1.31 does differently on run 2 (request, ids), and why (docs/migration.md)
DIFFERS: dict[str, tuple[str, list[int]]] = {
    # end_value makes dlt's run stateless: it re-loads the whole range (duplicates with
    # append); rest-assets keeps the cursor inside the range
    "inc_start_end_param": (
        f"GET ?from={stamp(2)}&to={stamp(9)}",
        [2, 2, 3, 3, 4, 4, 5, 6, 7],
    ),
    "inc_range_end_closed": (since(2), [2, 2, 3, 3, 4, 4, 5, 6]),
    "inc_range_end_open": (since(2), [2, 2, 3, 3, 4, 4, 5]),
    # lag turns dlt's boundary deduplication off: the re-read day is appended again
    "inc_lag": (since(2), [2, 2, 3, 3, 4, 4, 5, 6, 7]),
    # dlt renders an unset end_value as the text "None"
    "inc_end_unset": (f"{since(3)}&to=None", [2, 3, 4, 5, 6, 7]),
}
DIFFERS_RUN1 = {"inc_end_unset": f"{since(2)}&to=None"}


@pytest.fixture(scope="module")
def runs(
    compat_api: CompatAPI,
    module_instance: dg.DagsterInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[Outcome]]:
    """Both systems, run 1 then run 2 each (the API's data is the same for both)."""
    database = tmp_path_factory.mktemp("ours") / "w.duckdb"
    workdir = tmp_path_factory.mktemp("dlt")
    out: dict[str, list[Outcome]] = {"ours": [], "dlt": []}
    for run in (1, 2):
        compat_api.events_run = run
        out["ours"].append(run_ours(compat_api, "incremental", database, module_instance))
        if dlt_python() is not None:
            out["dlt"].append(run_dlt(compat_api, "incremental", workdir))
    compat_api.events_run = 1
    return out


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_rest_assets_runs_as_dlt_semantics_give(runs: dict[str, list[Outcome]], case: str) -> None:
    first, second = runs["ours"]
    assert first.error is None and second.error is None, (first.error, second.error)
    request1, ids1, request2, ids2 = EXPECTED[case]
    assert first.requests[case] == [request1]
    assert first.ids(case) == ids1
    assert second.requests[case] == [request2]
    assert second.ids(case) == ids2


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_dlt_itself(runs: dict[str, list[Outcome]], case: str) -> None:
    if not runs["dlt"]:
        pytest.skip(NO_DLT)
    first, second = runs["dlt"]
    assert first.error is None and second.error is None, (first.error, second.error)
    request1, ids1, request2, ids2 = EXPECTED[case]
    assert first.requests[case] == [DIFFERS_RUN1.get(case, request1)]
    assert first.ids(case) == ids1
    request2, ids2 = DIFFERS.get(case, (request2, ids2))
    assert second.requests[case] == [request2]
    assert second.ids(case) == ids2
