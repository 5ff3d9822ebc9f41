"""The naming rule (rest_assets.load.naming) and the names a commit gives tables and columns.

The examples are dlt 1.31's own (its snake_case convention applied by the relational
normalizer; see tests/dlt_parity for the same records loaded by dlt itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.load import LoadSpec, StagingArea, commit, read_parent_rows
from rest_assets.load.naming import (
    child_table_name,
    column_name,
    keeper_order,
    normalize_key,
    table_name,
)

DLT_NAMES = {
    "displayName": "display_name",
    "E-mail Address": "e_mail_address",
    "attributes.word-count": "attributes_word_count",
    "1st": "_1st",
    "1_2_3": "_1_2_3",
    "Name": "name",
    "_id": "_id",
    "ID": "id",
    "userID": "user_id",
    "URLValue": "url_value",
    "camelCaseHTTPServer": "camel_case_http_server",
    "getHTTPResponse": "get_http_response",
    "v2Value": "v2_value",
    "ISO8601Date": "iso8601_date",
    "ABC123def": "abc123def",
    "snake_Case_Mixed": "snake_case_mixed",
    "😀": "x",
    "emoji 😀 key": "emoji_key",
    "日本語": "x",
    "Ünïcödé": "_n_c_dx",
    "Über-Größe": "_ber_gr_e",
    "straße": "stra_e",
    "price$": "pricex",
    "$ref": "_ref",
    "#count": "_count",
    "%": "x",
    "@type": "atype",
    "user@domain": "useradomain",
    "a+b": "axb",
    "x*y": "xxy",
    "a|b": "alb",
    "col-": "colx",
    "-leading": "_leading",
    "trailing_": "trailingx",
    "  spaced  ": "spaced",
    "with  double  spaces": "with_double_spaces",
    "a.b.c": "a_b_c",
    "foo__bar": "foo__bar",
    "Foo__Bar": "foo__bar",
    "foo___bar": "foo___bar",
    "__dunder__": "dunder",
    "_": "x",
    "": "_empty",
    " ": "_empty",
}


@pytest.mark.parametrize(("key", "expected"), list(DLT_NAMES.items()))
def test_snake_case_matches_dlt(key: str, expected: str) -> None:
    assert normalize_key(key) == expected


def test_direct_keeps_keys_and_names_blank_ones() -> None:
    assert normalize_key("fields__E-mail Address", "direct") == "fields__E-mail Address"
    assert normalize_key("displayName", "direct") == "displayName"
    assert normalize_key("", "direct") == "_empty"


def test_paths_tables_and_child_tables() -> None:
    assert column_name(("attributes", "word-count")) == "attributes__word_count"
    assert column_name(("user", "displayName")) == "user__display_name"
    assert column_name(("user", "displayName"), "direct") == "user__displayName"
    assert table_name("Issue Comments") == "issue_comments"
    assert table_name("repos/{owner}/issues") == "repos_owner_issues"
    assert table_name("My-Resource.Name") == "my_resource_name"
    assert child_table_name("posts", ("tagList",)) == "posts__tag_list"
    assert child_table_name("posts", ("meta", "Items")) == "posts__meta__items"


def test_keeper_order_depends_on_the_keys_only() -> None:
    # the key spelled as the column keeps the name, whatever order the records had
    assert keeper_order([("displayName",), ("display_name",)], "display_name") == [1, 0]
    assert keeper_order([("display_name",), ("displayName",)], "display_name") == [0, 1]
    # a literal a__b and a nested a.b: the nested one keeps it, as in dlt
    assert keeper_order([("a__b",), ("a", "b")], "a__b") == [1, 0]


class Loader:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "w.duckdb"
        self.stage = tmp_path / "stage"
        self.n = 0

    def __call__(self, batches: list[list[Any]], table: str = "t", **kw: Any) -> Any:
        self.n += 1
        with StagingArea(self.stage) as area:
            for batch in batches:
                area.write(batch)
            return commit(self.db, area, LoadSpec("raw", table, load_id=f"l{self.n}", **kw))

    def columns(self, table: str = "t") -> list[str]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            rows = con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
        return [r[0] for r in rows if not r[0].startswith("_ra_")]

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    return Loader(tmp_path)


def test_a_commit_names_columns_and_child_tables_snake_case(load: Loader) -> None:
    record = {
        "id": 1,
        "displayName": "Ann",
        "fields": {"E-mail Address": "a@x", "innerKey": {"deepKey": 1}},
        "tagList": ["x", "y"],
        "lineItems": [{"skuCode": "a"}],
    }
    result = load([[record]])
    assert load.columns() == [
        "id",
        "display_name",
        "fields__e_mail_address",
        "fields__inner_key__deep_key",
    ]
    assert set(result.child_tables) == {"t__tag_list", "t__line_items"}
    assert load.columns("t__line_items") == ["sku_code"]
    assert load.sql("SELECT value FROM raw.t__tag_list ORDER BY _ra_list_idx") == [("x",), ("y",)]


def test_direct_naming_keeps_the_api_keys(load: Loader) -> None:
    load([[{"id": 1, "displayName": "Ann", "fields": {"E-mail Address": "a@x"}}]], naming="direct")
    assert load.columns() == ["id", "displayName", "fields__E-mail Address"]


def test_keys_that_get_one_name_keep_every_value(load: Loader) -> None:
    # displayName and display_name both become display_name: the one spelled so keeps it
    load([[{"displayName": "camel", "display_name": "snake", "a__b": 1, "a": {"b": 2}}]])
    assert load.columns() == ["display_name_2", "display_name", "a__b_2", "a__b"]
    assert load.sql("SELECT display_name, display_name_2, a__b, a__b_2 FROM raw.t") == [
        ("snake", "camel", 2, 1)
    ]


def test_fields_named_like_rest_assets_columns_are_kept_apart(load: Loader) -> None:
    load([[{"_ra_id": "theirs", "v": 1}]])
    assert load.sql("SELECT _ra_id_2 FROM raw.t") == [("theirs",)]


def test_hints_and_keys_name_columns_as_the_records_do(load: Loader) -> None:
    # primary_key, merge_key and column hints are written in the API's spelling or the
    # column's: both mean the same column
    spec: dict[str, Any] = {
        "write_disposition": "merge",
        "primary_key": "userId",
        "columns": {"createdAt": {"data_type": "text"}},
    }
    load([[{"userId": 1, "createdAt": "2024-01-01T00:00:00Z"}]], **spec)
    load([[{"userId": 1, "createdAt": "2024-01-02T00:00:00Z"}]], **spec)
    assert load.sql("SELECT user_id, created_at FROM raw.t") == [(1, "2024-01-02T00:00:00Z")]


def test_parent_fields_are_read_under_the_tables_naming(load: Loader) -> None:
    load(
        [[{"id": 1, "user": {"loginName": "ann"}, "meta": {"rawData": {"x": 1}}}]],
        max_table_nesting=1,
    )
    rows, _ = read_parent_rows(
        str(load.db),
        "raw",
        "t",
        [("user", "loginName"), ("meta", "rawData", "x")],
        load_id_column="_ra_load_id",
    )
    assert [r[:2] for r in rows] == [("ann", 1)]
