"""Schema contracts (rest_assets.load.contract) on real DuckDB files: each entity (tables,
columns, data_type) in each mode (evolve, freeze, discard_row, discard_value); a failed
contract changes nothing, neither rows nor DDL, and leaves nothing pending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.config.tables import SchemaContractConfig
from rest_assets.load import LoadSpec, StagingArea, commit
from rest_assets.load.contract import SchemaContractError


class Loader:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "w.duckdb"
        self.stage = tmp_path / "stage"
        self.n = 0

    def __call__(self, records: list[Any], contract: Any = None, table: str = "t") -> Any:
        self.n += 1
        schema_contract = (
            None if contract is None else SchemaContractConfig.model_validate(contract)
        )
        with StagingArea(self.stage) as area:
            area.write(records)
            spec = LoadSpec(
                "raw", table, "append", load_id=f"l{self.n}", schema_contract=schema_contract
            )
            return commit(self.db, area, spec)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()

    def state(self) -> tuple[Any, ...]:
        """Every table's DDL and rows: what a failed contract must leave as it was."""
        with duckdb.connect(str(self.db), read_only=True) as con:
            ddl = con.execute("SELECT table_name, sql FROM duckdb_tables() ORDER BY 1").fetchall()
            rows = [con.execute(f'SELECT * FROM raw."{t}" ORDER BY ALL').fetchall() for t, _ in ddl]
        return tuple(ddl), tuple(map(tuple, rows))


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    loader = Loader(tmp_path)
    loader([{"id": 1, "n": 1, "kids": [{"k": 1}]}])
    return loader


def test_string_mode_applies_to_every_entity() -> None:
    contract = SchemaContractConfig.model_validate("freeze")
    assert (contract.tables, contract.columns, contract.data_type) == ("freeze",) * 3
    partial = SchemaContractConfig.model_validate({"columns": "discard_row"})
    assert (partial.tables, partial.columns, partial.data_type) == (
        "evolve",
        "discard_row",
        "evolve",
    )
    with pytest.raises(ValueError, match="evolve, freeze, discard_row, discard_value"):
        SchemaContractConfig.model_validate("bogus")


@pytest.mark.parametrize(
    ("contract", "fault"),
    [
        ({"columns": "freeze"}, [{"id": 2, "n": 2, "extra": "x"}]),
        ({"data_type": "freeze"}, [{"id": 2, "n": "abc"}]),
        ({"tables": "freeze"}, [{"id": 2, "n": 2, "kids": [{"k": 2}], "pets": [{"p": 1}]}]),
        ("freeze", [{"id": 2, "n": 2, "kids": [{"k": 2, "new": True}]}]),
    ],
)
def test_freeze_fails_the_load_and_changes_nothing(
    load: Loader, contract: Any, fault: list[Any]
) -> None:
    before = load.state()
    with pytest.raises(SchemaContractError, match="freeze: nothing was loaded"):
        load(fault, contract)
    assert load.state() == before
    # nothing pending: the next (valid) load goes through
    load([{"id": 3, "n": 3}], contract)
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(1,), (3,)]


def test_freeze_tables_refuses_a_new_resources_first_table(tmp_path: Path) -> None:
    # dlt's semantics: a table that does not exist yet is a new table
    with pytest.raises(SchemaContractError, match="does not exist"):
        Loader(tmp_path)([{"id": 1}], {"tables": "freeze"})


def test_columns_discard_row_and_discard_value(load: Loader) -> None:
    records = [{"id": 2, "n": 2, "extra": "x"}, {"id": 3, "n": 3}]
    result = load(records, {"columns": "discard_row"})
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(1,), (3,)]
    assert any("discard_row" in note for note in result.notes)
    load([{"id": 4, "n": 4, "extra": "x"}], {"columns": "discard_value"})
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(1,), (3,), (4,)]
    assert "extra" not in [
        c for (c,) in load.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 't'")
    ]
    # a new column with only nulls carries no data: no violation, no column
    load([{"id": 5, "n": 5, "empty": None}], {"columns": "freeze"})


def test_data_type_discard_row_and_discard_value(load: Loader) -> None:
    load([{"id": 2, "n": "abc"}, {"id": 3, "n": "7"}], {"data_type": "discard_row"})
    assert load.sql("SELECT id, n FROM raw.t ORDER BY id") == [(1, 1), (3, 7)]
    load([{"id": 4, "n": "xyz"}], {"data_type": "discard_value"})
    assert load.sql("SELECT id, n FROM raw.t ORDER BY id") == [(1, 1), (3, 7), (4, None)]
    # the column kept its type
    assert load.sql(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 't' AND column_name = 'n'"
    ) == [("BIGINT",)]


def test_data_type_evolve_widens_and_coercible_values_never_violate(load: Loader) -> None:
    load([{"id": 2, "n": "8"}], {"data_type": "freeze"})  # "8" fits BIGINT: no violation
    load([{"id": 3, "n": "abc"}], {"data_type": "evolve"})
    assert load.sql("SELECT n FROM raw.t ORDER BY id") == [("1",), ("8",), ("abc",)]


def test_discarding_a_new_child_table_keeps_the_parent_rows(load: Loader) -> None:
    load([{"id": 2, "n": 2, "pets": [{"p": 1}]}], {"tables": "discard_row"})
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(1,), (2,)]
    tables = [t for (t,) in load.sql("SELECT table_name FROM duckdb_tables()")]
    assert "t__pets" not in tables


def test_discarding_a_root_row_drops_its_child_rows(load: Loader) -> None:
    load(
        [{"id": 2, "n": 2, "extra": 1, "kids": [{"k": 2}]}, {"id": 3, "n": 3, "kids": [{"k": 3}]}],
        {"columns": "discard_row"},
    )
    assert load.sql("SELECT k FROM raw.t__kids ORDER BY k") == [(1,), (3,)]
