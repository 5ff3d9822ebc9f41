"""Every paginator parameter dlt 1.31 documents (fact sheet §1), one resource each, loaded
end to end by rest-assets and by dlt itself against the same loopback API.

Each case is checked three ways: rest-assets' requests and rows against the ones dlt's
documented semantics give (written in `configs`), and, where dlt is available, dlt's own
requests and rows against the same expectations, so a wrong expectation fails too.
"""

from __future__ import annotations

import dagster as dg
import pytest

from tests.dlt_compat import configs
from tests.dlt_compat.api import CompatAPI
from tests.dlt_compat.conftest import Outcome, run_dlt, run_ours

CASES = sorted(configs.PAGINATOR_CASES)


@pytest.fixture(scope="module")
def ours(
    compat_api: CompatAPI,
    module_instance: dg.DagsterInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> Outcome:
    database = tmp_path_factory.mktemp("ours") / "w.duckdb"
    outcome = run_ours(compat_api, "paginators", database, module_instance)
    assert outcome.error is None, outcome.error
    return outcome


@pytest.fixture(scope="module")
def theirs(compat_api: CompatAPI, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    outcome = run_dlt(compat_api, "paginators", tmp_path_factory.mktemp("dlt"))
    assert outcome.error is None, outcome.error
    return outcome


def test_every_documented_parameter_has_a_case() -> None:
    params = {spec["param"].split(" ")[0] for spec in configs.PAGINATOR_CASES.values()}
    documented = {
        "page_number.base_page", "page_number.page", "page_number.page_param",
        "page_number.page_body_path", "page_number.total_path", "page_number.maximum_page",
        "page_number.stop_after_empty_page:", "page_number.has_more_path",
        "offset.limit", "offset.offset", "offset.offset_param", "offset.offset_body_path",
        "offset.total_path", "offset.maximum_offset", "offset.stop_after_empty_page:",
        "offset.has_more_path", "cursor.cursor_path", "cursor.cursor_body_path",
        "cursor.stop_after_empty_page", "cursor.has_more_path", "header_link.links_next_key",
        "json_link.next_url_path", "header_cursor.cursor_key",
    }  # fmt: skip
    assert documented <= params


@pytest.mark.parametrize("case", CASES)
def test_rest_assets_sends_what_dlt_semantics_give(ours: Outcome, case: str) -> None:
    spec = configs.PAGINATOR_CASES[case]
    assert ours.requests[case] == spec["ours"], spec["param"]
    assert ours.ids(case) == spec["ids"], spec["param"]


@pytest.mark.parametrize("case", CASES)
def test_dlt_itself_sends_the_same(theirs: Outcome, ours: Outcome, case: str) -> None:
    spec = configs.PAGINATOR_CASES[case]
    assert theirs.requests[case] == spec["requests"], spec["param"]
    assert theirs.ids(case) == ours.ids(case) == spec["ids"], spec["param"]
    # columns too: the records' own fields land alike
    assert theirs.column(case, "name") == ours.column(case, "name")


def test_the_one_request_we_save(theirs: Outcome, ours: Outcome) -> None:
    # total_path: null and a short last page: dlt asks once more (an empty page), we do not
    case = "off_total_path_null"
    assert theirs.requests[case] == [*ours.requests[case], "GET ?limit=3&offset=9"]
