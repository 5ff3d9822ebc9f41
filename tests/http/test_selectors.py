"""DataSelector and compiled JSONPath lookups."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from rest_assets.http.selectors import DataSelector, JSONPath, compile_path, detect_records_path

ROWS = [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}, {"id": 3, "kind": "a"}]


@pytest.mark.parametrize(
    ("expression", "body", "expected"),
    [
        ("data", {"data": ROWS}, ROWS),
        ("results.items", {"results": {"items": ROWS}}, ROWS),
        ("$.results.items", {"results": {"items": ROWS}}, ROWS),
        ("['@odata.value']", {"@odata.value": ROWS}, ROWS),
        ('$["odd key"].rows', {"odd key": {"rows": ROWS}}, ROWS),
        ("$", ROWS, ROWS),
        ("$", ROWS[0], [ROWS[0]]),  # a single entity becomes one record
        ("data", {"data": ROWS[0]}, [ROWS[0]]),
        ("data", {"data": None}, []),
        ("data", {"other": ROWS}, []),
        ("data.items", {"data": [{"items": ROWS}]}, []),  # no implicit list traversal
        ("data[*].items", {"data": [{"items": ROWS[:2]}, {"items": ROWS[2:]}]}, ROWS),
        ("data[?(@.kind == 'a')]", {"data": ROWS}, [ROWS[0], ROWS[2]]),
        ("data[?(@.kind == 'b')]", {"data": ROWS}, [ROWS[1]]),
        ("data[*].id", {"data": ROWS}, [1, 2, 3]),
        ("data[*]", {"data": ROWS}, ROWS),
        ("$.data[*]", {"data": ROWS}, ROWS),
        ("$[*]", ROWS, ROWS),
        ("data.*", {"data": ROWS}, ROWS),
        ("data[*]", {"data": {"a": ROWS[0]}}, [ROWS[0]]),  # jsonpath: the dict's values
        ("data[*]", {"data": None}, []),
    ],
)
def test_explicit_expressions(expression: str, body: Any, expected: list[Any]) -> None:
    assert DataSelector(expression).select(body) == expected


def test_plain_paths_skip_jsonpath() -> None:
    for expression in ("data", "a.b-c.d", "$.a", "['@odata.nextLink']", "x['y.z']"):
        assert compile_path(expression).keys is not None, expression
    for expression in ("data[*]", "$..id", "a[0]", "data[?(@.x)]"):
        assert compile_path(expression).keys is None, expression
    # the fast path and jsonpath-ng agree on what a plain path means
    body = {"a": {"b-c": {"d": 7}}, "@odata.nextLink": "u", "x": {"y.z": 1}}
    from jsonpath_ng.ext import parse

    for expression in ("a.b-c.d", "['@odata.nextLink']", "x['y.z']"):
        slow = [m.value for m in parse(expression).find(body)]
        assert compile_path(expression).find(body) == slow


def test_path_first_and_find() -> None:
    path = JSONPath("paging.next")
    assert path.first({"paging": {"next": None}}, "absent") is None
    assert path.find({"paging": {"next": None}}) == [None]  # a null value is present
    assert path.first({"paging": {}}, "absent") == "absent"
    assert path.find({"paging": "str"}) == []
    assert compile_path(path) is path
    with pytest.raises(ValueError, match="invalid JSONPath"):
        JSONPath("data[?(")
    with pytest.raises(ValueError, match="empty"):
        JSONPath("  ")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (ROWS, "$"),
        ({"data": ROWS, "meta": {"total": 3}}, "data"),
        ({"value": ROWS, "@odata.nextLink": "x"}, "value"),
        ({"count": 3, "results": ROWS, "next": None}, "results"),
        ({"object": "list", "data": [], "has_more": False}, "data"),
        ({"tags": ["x", "y", "z", "w"], "people": ROWS}, "people"),
        ({"response": {"users": ROWS, "errors": [{"e": 1}]}}, "response.users"),
        ({"a": [{"x": 1}], "b": ROWS}, "b"),  # the largest list of objects wins
        ({"my.rows": ROWS}, "['my.rows']"),
        ({"id": 5, "name": "single"}, "$"),
        ("text", "$"),
    ],
)
def test_records_path_detection(body: Any, path: str) -> None:
    assert detect_records_path(body) == path


def test_auto_detection_is_remembered_after_page_one() -> None:
    selector = DataSelector()
    assert selector.expression is None and selector.chosen is None
    assert selector.select({"items": ROWS, "extra": [{"z": 1}]}) == ROWS
    assert selector.chosen == "items"
    # page two has a bigger list elsewhere; the choice made on page one holds
    assert selector.select({"items": ROWS[:1], "extra": ROWS * 3}) == ROWS[:1]
    assert selector.select({"extra": ROWS}) == []


def test_auto_detection_of_an_odd_key_round_trips() -> None:
    selector = DataSelector()
    assert selector.select({"my.rows": ROWS, "n": 3}) == ROWS
    assert selector.select({"my.rows": ROWS[:1]}) == ROWS[:1]


def test_auto_detection_of_a_bare_list_and_a_single_object() -> None:
    selector = DataSelector(None)
    assert selector.select(ROWS) == ROWS
    assert selector.chosen == "$"
    single = DataSelector(None)
    assert single.select({"id": 9}) == [{"id": 9}]
    assert single.chosen == "$"


def test_whole_body_selector_keeps_a_single_entity() -> None:
    # what config's single-entity rule (a path naming a parent field selects "$") relies on:
    # "$" on a single-entity response keeps the whole object, even with lists inside it
    entity = {"id": 1, "comments": ROWS}
    assert DataSelector("$").chosen == "$"
    assert DataSelector("$").select(entity) == [entity]
    assert DataSelector(None).select(entity) == ROWS


def test_select_returns_the_body_list_itself() -> None:
    """The fast path hands back the parsed list (no per-record copying)."""
    rows = [{"id": n} for n in range(1000)]
    assert DataSelector("data").select({"data": rows}) is rows
    assert DataSelector(None).select(rows) is rows


@pytest.mark.parametrize("expression", [None, "data", "data[*]"])
def test_selectors_copy_and_pickle(expression: str | None) -> None:
    body = {"data": ROWS}
    original = DataSelector(expression)
    for clone in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        assert clone.select(body) == DataSelector(expression).select(body)
    if expression is None:
        original.select(body)
        assert copy.deepcopy(original).chosen == "data"
