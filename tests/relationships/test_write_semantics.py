"""Write semantics through Dagster into DuckDB: merge, schema drift, explicit types, child
tables and nesting, hostile names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from rel_support import latest, materialize, sql

from rest_assets import DuckDBIOManager, asset_key, build_definitions, rest_api_assets
from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import ConfigError
from tests.support.metadata import child_figures

ITEMS = asset_key("shop", "items")


class ItemsAPI:
    """`GET /items` answers whatever `pages` holds (one list per page, `?page=`)."""

    def __init__(self) -> None:
        self.server = LocalAPI()
        self.pages: list[list[dict[str, Any]]] = [[]]
        self.server.route("GET", "/items", self._items)
        self.server.route("GET", "/things/", self._parts, prefix=True)

    def _items(self, request: Request) -> Response:
        page = int(request.arg("page", "1") or 1)
        return Response(self.pages[page - 1] if page <= len(self.pages) else [])

    def _parts(self, request: Request) -> Response:
        thing = request.path.split("/")[2]
        return Response([{"part": f"{thing}-p{i}", "select": i} for i in (1, 2)])


@pytest.fixture
def api() -> Iterator[ItemsAPI]:
    items = ItemsAPI()
    items.server.start()
    yield items
    items.server.stop()


def _source(api: ItemsAPI, **resource: Any) -> dict[str, Any]:
    return {
        "client": {
            "base_url": api.server.url,
            "paginator": {"type": "page_number", "base_page": 1, "stop_after_empty_page": True},
        },
        "resources": [{"name": "items", "endpoint": "items", **resource}],
    }


def test_merge_on_composite_key_last_duplicate_wins_and_updates_are_visible(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(
        _source(api, write_disposition="merge", primary_key=["shop", "id"]), name="shop"
    )
    api.pages = [
        [{"shop": "a", "id": 1, "v": "old"}, {"shop": "b", "id": 1, "v": "b1"}],
        [{"shop": "a", "id": 1, "v": "newer"}, {"shop": "a", "id": 2, "v": "a2"}],
    ]
    assert materialize(assets, instance, db).success
    rows = "SELECT shop, id, v FROM raw_shop.items ORDER BY shop, id"
    # the duplicate key (a, 1) on a later page wins inside one load
    assert sql(db, rows) == [("a", 1, "newer"), ("a", 2, "a2"), ("b", 1, "b1")]
    api.pages = [[{"shop": "b", "id": 1, "v": "updated"}, {"shop": "c", "id": 9, "v": "c9"}]]
    assert materialize(assets, instance, db).success
    assert sql(db, rows) == [("a", 1, "newer"), ("a", 2, "a2"), ("b", 1, "updated"), ("c", 9, "c9")]
    meta = latest(instance, ITEMS)
    assert (meta["dagster/row_count"], meta["rows_written"]) == (4, 2)


@pytest.mark.parametrize(("disposition", "expected"), [("append", 3), ("replace", 1)])
def test_append_and_replace(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path, disposition: str, expected: int
) -> None:
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(_source(api, write_disposition=disposition), name="shop")
    api.pages = [[{"id": 1}, {"id": 2}]]
    assert materialize(assets, instance, db).success
    api.pages = [[{"id": 3}]]
    assert materialize(assets, instance, db).success
    assert sql(db, "SELECT count(*) FROM raw_shop.items") == [(expected,)]


def test_schema_drift_adds_columns_and_widens_types_instead_of_failing(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(_source(api, write_disposition="append"), name="shop")
    api.pages = [[{"id": 1, "amount": 5, "code": 7}]]
    assert materialize(assets, instance, db).success
    types = {c.name: c.type for c in latest(instance, ITEMS)["dagster/column_schema"].columns}
    assert (types["amount"], types["code"]) == ("BIGINT", "BIGINT")

    api.pages = [
        [{"id": 2, "amount": 2.5, "code": "X-7", "extra": True, "meta": {"source": "api"}}]
    ]
    assert materialize(assets, instance, db).success
    types = {c.name: c.type for c in latest(instance, ITEMS)["dagster/column_schema"].columns}
    assert types["amount"] == "DOUBLE" and types["code"] == "VARCHAR"
    assert types["extra"] == "BOOLEAN" and types["meta__source"] == "VARCHAR"
    assert sql(
        db, "SELECT id, amount, code, extra, meta__source FROM raw_shop.items ORDER BY id"
    ) == [
        (1, 5.0, "7", None, None),
        (2, 2.5, "X-7", True, "api"),
    ]


ALL_TYPES = {
    "s": ("string", 12, "VARCHAR", "12"),
    "i": ("integer", "42", "BIGINT", 42),
    "l": ("long", 9007199254740993, "BIGINT", 9007199254740993),
    "f": ("float", 1, "DOUBLE", 1.0),
    "d": ("double", "2.5", "DOUBLE", 2.5),
    "b": ("boolean", "true", "BOOLEAN", True),
    "t": ("timestamp", "2024-05-01T10:00:00Z", "TIMESTAMP WITH TIME ZONE", None),
    "dt": ("date", "2024-05-01", "DATE", None),
    "bin": ("binary", "raw", "BLOB", b"raw"),
    "j": ("json", {"k": [1, 2]}, "JSON", '{"k":[1,2]}'),
}


@pytest.mark.parametrize("form", ["columns_dict", "schema_list"])
def test_explicit_types_from_yaml_as_columns_or_schema(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path, form: str
) -> None:
    if form == "columns_dict":
        spec = "columns:\n" + "".join(
            f"          {n}: {{data_type: {t}}}\n" for n, (t, *_) in ALL_TYPES.items()
        )
    else:
        spec = "schema:\n" + "".join(
            f"          - {{name: {n}, type: {t}}}\n" for n, (t, *_) in ALL_TYPES.items()
        )
    path = tmp_path / "sources.yml"
    path.write_text(
        f"""
sources:
  - name: shop
    client: {{base_url: {api.server.url}, paginator: single_page}}
    resources:
      - name: items
        {spec}
"""
    )
    api.pages = [[{n: value for n, (_, value, *_) in ALL_TYPES.items()}]]
    defs = build_definitions(path, database=tmp_path / "w.duckdb")
    assert dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources
    ).success
    types = {c.name: c.type for c in latest(instance, ITEMS)["dagster/column_schema"].columns}
    assert {n: types[n] for n in ALL_TYPES} == {n: v[2] for n, v in ALL_TYPES.items()}
    row = sql(tmp_path / "w.duckdb", f"SELECT {', '.join(ALL_TYPES)} FROM raw_shop.items")[0]
    for (name, (_, _, _, want)), got in zip(ALL_TYPES.items(), row, strict=True):
        if want is not None:
            assert got == want, name
    assert str(row[7]) == "2024-05-01"


def test_unknown_column_type_and_both_forms_fail_at_definitions_load(api: ItemsAPI) -> None:
    with pytest.raises(
        ConfigError, match=r"resources\[0\]\(items\)\.columns\.x: unknown data_type"
    ):
        rest_api_assets(_source(api, columns={"x": "varchar2"}), name="shop")
    with pytest.raises(ConfigError, match="columns or schema, not both"):
        rest_api_assets(
            _source(api, columns={"x": "string"}, schema=[{"name": "x", "type": "json"}])
        )


ORDERS = [
    {
        "id": 1,
        "lines": [
            {"sku": "a", "qty": 1, "discounts": [{"code": "X"}]},
            {"sku": "b", "qty": 2, "discounts": []},
        ],
    },
    {"id": 2, "lines": [{"sku": "c", "qty": 3, "discounts": [{"code": "Y"}, {"code": "Z"}]}]},
]


def test_nested_lists_become_linked_child_tables_up_to_max_table_nesting(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api.pages = [ORDERS]
    db = tmp_path / "full.duckdb"
    assert materialize(rest_api_assets(_source(api), name="shop"), instance, db).success
    assert child_figures(latest(instance, ITEMS), "rows_written") == {
        "items__lines": 3,
        "items__lines__discounts": 3,
    }
    linked = sql(
        db,
        "SELECT o.id, l.sku, d.code FROM raw_shop.items o "
        "JOIN raw_shop.items__lines l ON l._ra_parent_id = o._ra_id "
        "JOIN raw_shop.items__lines__discounts d ON d._ra_parent_id = l._ra_id "
        "ORDER BY o.id, l._ra_list_idx, d._ra_list_idx",
    )
    assert linked == [(1, "a", "X"), (2, "c", "Y"), (2, "c", "Z")]

    db = tmp_path / "one.duckdb"
    assert materialize(
        rest_api_assets(_source(api, max_table_nesting=1), name="shop"), instance, db
    ).success
    assert child_figures(latest(instance, ITEMS), "rows_written") == {"items__lines": 3}
    discounts = sql(db, "SELECT sku, discounts FROM raw_shop.items__lines ORDER BY sku")
    assert discounts[0] == ("a", '[{"code":"X"}]')

    db = tmp_path / "json.duckdb"
    assert materialize(
        rest_api_assets(_source(api, nested_as_json=True), name="shop"), instance, db
    ).success
    assert child_figures(latest(instance, ITEMS), "rows_written") == {}
    tables = {r[0] for r in sql(db, "SELECT table_name FROM information_schema.tables")}
    assert tables == {"items"}
    assert sql(db, "SELECT json_extract(lines, '$[0].sku') FROM raw_shop.items WHERE id = 2") == [
        ('"c"',)
    ]


HOSTILE = 'it"ems; DROP TABLE canary; --'
HOSTILE_CHILD = "sélect.parts"


def test_hostile_names_cannot_inject_sql_end_to_end(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE canary (x INTEGER)")
    api.pages = [
        [
            {
                "id": "t1",
                'we"ird': 1,
                "select": "kw",
                "a.b": 2,
                "ünï": "u",
                "x'); DROP TABLE canary;--": 3,
            },
            {"id": "t2", 'we"ird': 2, "select": "kw2", "a.b": 3, "ünï": "v"},
        ]
    ]
    config = {
        "client": {"base_url": api.server.url, "paginator": "single_page"},
        "dataset": 'raw "odd".schema',
        "naming": "direct",  # about verbatim names: kept as the API spells them
        "resources": [
            {
                "name": HOSTILE,
                "endpoint": "items",
                "primary_key": 'we"ird',
                "write_disposition": "merge",
            },
            {
                "name": HOSTILE_CHILD,
                "table_name": "order",
                "endpoint": {
                    "path": "things/{thing}/parts",
                    "params": {"thing": {"type": "resolve", "resource": HOSTILE, "field": "id"}},
                },
                "include_from_parent": ["['we\"ird']"],
            },
        ],
    }
    assets = rest_api_assets(config, name="shop")
    parent_key = asset_key("shop", HOSTILE)

    @dg.asset(ins={"parent": dg.AssetIn(key=parent_key)})
    def downstream(parent: Any) -> None:
        assert sorted(parent["select"]) == ["kw", "kw2"]

    result = dg.materialize(
        [*assets, downstream],
        instance=instance,
        resources={"io_manager": DuckDBIOManager(database=str(db))},
        raise_on_error=False,
    )
    assert result.success
    assert sql(db, "SELECT count(*) FROM canary") == [(0,)]
    tables = set(sql(db, "SELECT table_schema, table_name FROM information_schema.tables"))
    assert {('raw "odd".schema', HOSTILE), ('raw "odd".schema', "order")} <= tables
    schema = 'raw ""odd"".schema'
    parent_table = f'"{schema}"."it""ems; DROP TABLE canary; --"'
    rows = sql(db, f'SELECT "we""ird", "select", "a.b", "ünï" FROM {parent_table} ORDER BY 1')
    assert rows == [(1, "kw", 2, "u"), (2, "kw2", 3, "v")]
    included = '"_it""ems; DROP TABLE canary; --_we""ird"'
    parts = sql(db, f'SELECT part, "select", {included} FROM "{schema}"."order" ORDER BY 1')
    assert parts == [("t1-p1", 1, 1), ("t1-p2", 2, 1), ("t2-p1", 1, 2), ("t2-p2", 2, 2)]
    meta = latest(instance, parent_key)
    assert meta["dagster/table_name"] == 'w."raw ""odd"".schema"."it""ems; DROP TABLE canary; --"'
