"""Column types: dlt's detection by default (only ISO timestamps become timestamps, naive ones
read as UTC), DuckDB's own with type_inference: duckdb, explicit hints with precision, scale
and timezone, coercion between loads, integers beyond 64 bits. Real DuckDB files."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.load import LoadSpec, StagingArea, commit

UTC = dt.timezone.utc

# value -> (DuckDB type under dlt's detection, under DuckDB's own); dlt's column in
# tests/dlt_parity is the same for every row of the first column
STRINGS: dict[str, tuple[str, str]] = {
    "2024-01-06T22:20:00Z": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
    "2024-01-06T22:20:00+02:00": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
    "2024-01-06T22:20:00": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"),
    "2024-01-06 22:20:00": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"),
    "2024-01-06T22:20:00.123456Z": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
    "2024-01-06": ("VARCHAR", "DATE"),
    "00:30": ("VARCHAR", "TIME"),
    "00:30:15": ("VARCHAR", "TIME"),
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8": ("VARCHAR", "UUID"),
    "2024": ("VARCHAR", "VARCHAR"),
    "2024/01/15": ("VARCHAR", "VARCHAR"),
    "Sat, 06 Jan 2024 22:20:00 GMT": ("VARCHAR", "VARCHAR"),
    "12345": ("VARCHAR", "VARCHAR"),
    "true": ("VARCHAR", "VARCHAR"),
    "": ("VARCHAR", "VARCHAR"),
}


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

    def types(self, table: str = "t") -> dict[str, str]:
        return dict(
            self.sql(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'raw' "
                f"AND table_name = '{table}'"
            )
        )

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    return Loader(tmp_path)


@pytest.mark.parametrize("inference", ["dlt", "duckdb"])
def test_string_types_under_each_inference(load: Loader, inference: str) -> None:
    fields = {f"c{i}": value for i, value in enumerate(STRINGS)}
    load([[fields]], type_inference=inference)
    types = load.types()
    expected = {
        f"c{i}": pair[0 if inference == "dlt" else 1] for i, pair in enumerate(STRINGS.values())
    }
    assert {k: types[k] for k in expected} == expected


def test_dlt_detection_keeps_text_as_sent_and_reads_naive_timestamps_as_utc(load: Loader) -> None:
    record = {
        "naive": "2024-01-06 22:20:00",
        "zoned": "2024-01-06T22:20:00+02:00",
        "day": "2024-01-06",
        "clock": "00:30",
        "nested": {"at": "2024-01-06T22:20:00", "clock": "00:30"},
        "events": [{"at": "2024-01-06T22:20:00"}],
    }
    load([[record]], max_table_nesting=1)
    row = load.sql("SELECT naive, zoned, day, clock, nested__at, nested__clock FROM raw.t")[0]
    assert row == (
        dt.datetime(2024, 1, 6, 22, 20, tzinfo=UTC),
        dt.datetime(2024, 1, 6, 20, 20, tzinfo=UTC),
        "2024-01-06",
        "00:30",
        dt.datetime(2024, 1, 6, 22, 20, tzinfo=UTC),
        "00:30",
    )
    assert load.sql('SELECT "at" FROM raw.t__events') == [
        (dt.datetime(2024, 1, 6, 22, 20, tzinfo=UTC),)
    ]


def test_values_kept_as_json_are_the_apis_text(load: Loader) -> None:
    # beyond max_table_nesting a value is JSON: its strings as the API sent them
    load(
        [[{"id": 1, "deep": {"a": {"at": "2024-01-06T22:20:00", "clock": "00:30", "n": 1.50}}}]],
        max_table_nesting=1,
    )
    assert load.types()["deep__a"] == "JSON"
    assert load.sql("SELECT deep__a FROM raw.t") == [
        ('{"at":"2024-01-06T22:20:00","clock":"00:30","n":1.5}',)
    ]


def test_hints_with_precision_scale_and_timezone(load: Loader) -> None:
    columns = {
        "small": {"data_type": "bigint", "precision": 16},
        "mid": {"data_type": "bigint", "precision": 32},
        "huge": {"data_type": "bigint", "precision": 128},
        "money": {"data_type": "decimal", "precision": 10, "scale": 2},
        "naive": {"data_type": "timestamp", "timezone": False},
        "secs": {"data_type": "timestamp", "timezone": False, "precision": 0},
        "nanos": {"data_type": "timestamp", "timezone": False, "precision": 9},
        "aware": {"data_type": "timestamp", "precision": 3},
        "wei": {"data_type": "wei"},
        "code": {"data_type": "text"},
    }
    record = {
        "small": 7,
        "mid": 8,
        "huge": 9,
        "money": "12.345",
        "naive": "2024-01-06T22:20:00",
        "secs": "2024-01-06T22:20:00.9",
        "nanos": "2024-01-06T22:20:00.123456789",
        "aware": "2024-01-06T22:20:00+02:00",
        "wei": 10**30,
        "code": "2024-01-06T22:20:00Z",
    }
    load([[record]], columns=columns)
    assert load.types() | {} == {
        "small": "SMALLINT",
        "mid": "INTEGER",
        "huge": "HUGEINT",
        "money": "DECIMAL(10,2)",
        "naive": "TIMESTAMP",
        "secs": "TIMESTAMP_S",
        "nanos": "TIMESTAMP_NS",
        "aware": "TIMESTAMP WITH TIME ZONE",
        "wei": "DECIMAL(38,0)",
        "code": "VARCHAR",
        "_ra_load_id": "VARCHAR",
        "_ra_id": "VARCHAR",
    }
    row = load.sql("SELECT money, naive, wei, code FROM raw.t")[0]
    assert row == (
        decimal.Decimal("12.35"),
        dt.datetime(2024, 1, 6, 22, 20),
        decimal.Decimal(10**30),
        "2024-01-06T22:20:00Z",  # a text hint keeps the text, not DuckDB's rendering
    )


def test_a_later_load_is_coerced_into_the_columns_types_when_every_value_fits(
    load: Loader,
) -> None:
    load([[{"id": 1, "n": 5, "at": "2024-01-01T00:00:00Z", "ok": True, "s": "x"}]])
    load([[{"id": 2, "n": "6", "at": "2024-01-02", "ok": 1, "s": 7}]])
    assert {k: v for k, v in load.types().items() if not k.startswith("_ra")} == {
        "id": "BIGINT",
        "n": "BIGINT",
        "at": "TIMESTAMP WITH TIME ZONE",
        "ok": "BOOLEAN",
        "s": "VARCHAR",
    }
    assert load.sql('SELECT n, "at", ok, s FROM raw.t ORDER BY id')[1] == (
        6,
        dt.datetime(2024, 1, 2, tzinfo=UTC),
        True,
        "7",
    )


def test_a_value_that_does_not_fit_widens_the_column(load: Loader) -> None:
    load([[{"id": 1, "n": 5, "f": 1}]])
    load([[{"id": 2, "n": "abc", "f": 1.5}]])
    types = load.types()
    assert (types["n"], types["f"]) == ("VARCHAR", "DOUBLE")
    assert load.sql("SELECT n, f FROM raw.t ORDER BY id") == [("5", 1.0), ("abc", 1.5)]


def test_integers_beyond_64_bits_stay_exact(load: Loader) -> None:
    big = 2**64 + 1
    load(
        [
            [
                {"id": 1, "big": big, "neg": -(2**63) - 5, "f": 1.5},
                {"id": 2, "big": 3, "neg": 1, "f": 2},
            ]
        ]
    )
    types = load.types()
    assert (types["big"], types["neg"], types["f"]) == ("HUGEINT", "HUGEINT", "DOUBLE")
    assert load.sql("SELECT big, neg FROM raw.t ORDER BY id") == [(big, -(2**63) - 5), (3, 1)]


def test_integers_beyond_128_bits_are_kept_as_exact_text(load: Loader) -> None:
    huge = 10**45
    result = load([[{"id": 1, "v": huge}]])
    assert load.types()["v"] == "VARCHAR"
    assert load.sql("SELECT v FROM raw.t") == [(str(huge),)]
    assert any("every digit exact" in n for n in result.notes)
