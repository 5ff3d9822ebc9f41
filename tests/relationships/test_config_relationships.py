"""Config-level rules of relationships: field paths, Python resources, parent_rows, schema."""

from __future__ import annotations

from typing import Any

import pytest

from rest_assets.config.load import source_from_dict
from rest_assets.errors import ConfigError
from rest_assets.extract.fields import parse_field
from rest_assets.extract.plan import plan_source


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("id", ("id",)),
        ("author.id", ("author", "id")),
        ("$.author.id", ("author", "id")),
        ("['@odata.id']", ("@odata.id",)),
        ('items[0]["x y"]', ("items", 0, "x y")),
        ("naïve.ß", ("naïve", "ß")),
    ],
)
def test_field_paths_parse_to_names_and_indexes(text: str, segments: tuple[Any, ...]) -> None:
    assert parse_field(text).segments == segments


@pytest.mark.parametrize("text", ["items[*].id", "$..id", "a[0:2]", "a[?(@.x)]", "[0]", ""])
def test_field_paths_that_select_several_values_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_field(text)


def test_field_path_evaluates_raw_records() -> None:
    record = {"labels": [{"name": "bug"}], "user": {"login": "x"}, "n": None}
    assert parse_field("labels[0].name").evaluate(record) == "bug"
    assert parse_field("labels[5].name").evaluate(record) is None
    assert parse_field("user.login.deeper").evaluate(record) is None
    assert parse_field("n.x").evaluate(record) is None


def _plans(*resources: Any, **defaults: Any) -> dict[str, Any]:
    config = {
        "client": {"base_url": "http://127.0.0.1:9"},
        "resource_defaults": defaults,
        "resources": list(resources),
    }
    return plan_source(source_from_dict(config, "s"))


def seeds() -> list[dict[str, Any]]:
    return [{"id": 1}]


def test_python_resources_as_functions_dicts_and_lists() -> None:
    plans = _plans(
        seeds,
        {"name": "listed", "records": [{"id": 2}]},
        {"name": "child", "endpoint": "x/{resources.seeds.id}"},
        write_disposition="merge",
    )
    assert plans["seeds"].resource.records is seeds
    assert plans["child"].parent == "seeds" and plans["child"].parent_rows == "new"
    with pytest.raises(ConfigError, match="callable without a name"):
        _plans(lambda: [])
    with pytest.raises(ConfigError, match="has no endpoint path"):
        _plans({"name": "r", "records": seeds, "endpoint": "somewhere"})
    with pytest.raises(ConfigError, match=r"records must be a callable"):
        _plans({"name": "r", "records": 42})


def test_parent_rows_defaults_and_rules() -> None:
    parent = {"name": "p"}
    child = {"name": "c", "endpoint": "p/{resources.p.id}"}
    assert _plans(parent, child)["c"].parent_rows == "all"  # replace child
    assert _plans(parent, child, write_disposition="append")["c"].parent_rows == "new"
    assert (
        _plans(parent, {**child, "parent_rows": "all"}, write_disposition="merge")["c"].parent_rows
        == "all"
    )
    with pytest.raises(ConfigError, match="parent_rows applies to dependent resources"):
        _plans({"name": "p", "parent_rows": "new"})


def test_upstream_skips_unselected_ancestors() -> None:
    plans = _plans(
        {"name": "a"},
        {"name": "b", "selected": False, "endpoint": "a/{resources.a.id}"},
        {"name": "c", "selected": False, "endpoint": "b/{resources.b.id}"},
        {"name": "d", "endpoint": "c/{resources.c.id}"},
    )
    assert [plans[n].upstream for n in "abcd"] == [None, "a", "a", "a"]
    with pytest.raises(ConfigError, match="no asset to schedule"):
        _plans({"name": "a", "selected": False, "schedule": {"cron": "0 * * * *"}})


def test_schema_is_an_alias_of_columns() -> None:
    plans = _plans({"name": "r", "schema": [{"name": "at", "type": "timestamp"}]})
    assert plans["r"].resource.columns["at"].data_type == "timestamp"


def test_an_unselected_resource_cannot_be_incremental() -> None:
    with pytest.raises(ConfigError, match="cannot be incremental"):
        _plans(
            {
                "name": "p",
                "selected": False,
                "endpoint": {
                    "path": "p",
                    "params": {"since": "{incremental.start_value}"},
                    "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01"},
                },
            },
            {"name": "c", "endpoint": "p/{resources.p.id}"},
        )
