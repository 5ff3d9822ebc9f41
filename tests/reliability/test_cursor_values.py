"""One odd cursor value must not fail every run: MySQL's zero date among ISO timestamps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import read_cursor
from rest_assets.demo.server import LocalAPI, Response
from tests.reliability.faulty_api import stamp
from tests.reliability.harness import error_text, record

ODD = "0000-00-00 00:00:00"


def _source(url: str, name: str, rule: str | None) -> dict[str, Any]:
    incremental: dict[str, Any] = {"cursor_path": "updated_at", "initial_value": stamp(0)}
    if rule is not None:
        incremental["on_cursor_value_invalid"] = rule
    return {
        "name": name,
        "client": {"base_url": url, "rate_limit": {"max_retries": 0}},
        "resources": [
            {
                "name": "items",
                "write_disposition": "append",
                "primary_key": "id",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "paginator": "single_page",
                    "params": {"since": "{incremental.start_value}"},
                    "incremental": incremental,
                },
            }
        ],
    }


@pytest.mark.parametrize("rule", [None, "raise"])
def test_a_cursor_value_that_cannot_be_compared(
    rule: str | None, local: LocalAPI, shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    items = [{"id": n, "updated_at": stamp(n)} for n in (1, 2, 3)]
    items.insert(1, {"id": 7, "updated_at": ODD})  # the API ignores `since`: every run gets it
    local.route("GET", "/items", lambda r: Response({"data": items}))
    name = f"oddcursor{'' if rule is None else rule}"
    db = tmp_path / "w.duckdb"
    defs = build_definitions({"sources": [_source(local.url, name, rule)]}, database=db)
    key = asset_key(name, "items")

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            list(defs.assets or []),
            instance=shared_instance,
            resources=defs.resources,
            raise_on_error=False,
        )

    def rows() -> int:
        if not db.exists():
            return 0
        with duckdb.connect(str(db), read_only=True) as con:
            listed = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ?", [f"raw_{name}"]
            ).fetchone()
            if not listed or not listed[0]:
                return 0
            found = con.execute(f"SELECT count(*) FROM raw_{name}.items").fetchone()
        return int(found[0]) if found else 0

    def cursor() -> str | None:
        state = read_cursor(shared_instance, key).state
        return None if state is None else str(state.last_value)

    first = run()
    if rule == "raise":
        assert not first.success
        text = error_text(first)
        assert "id=7" in text and repr(ODD) in text and "on_cursor_value_invalid" in text
        assert rows() == 0 and cursor() is None
        record(
            "cursor value '0000-00-00 00:00:00' among ISO timestamps, on_cursor_value_invalid: "
            "raise",
            0,
            rows(),
            None,
            None,
            "failed naming the record (id=7) and the value; nothing written",
        )
        return
    assert first.success
    warnings = [str(e.message) for e in shared_instance.all_logs(first.run_id) if e.level == 30]
    odd = [w for w in warnings if "cannot be compared" in w]
    assert odd and "id=7" in odd[0] and repr(ODD) in odd[0], warnings
    assert (rows(), cursor()) == (3, stamp(3))
    items.append({"id": 4, "updated_at": stamp(4)})
    second = run()
    assert second.success  # and again: the odd record does not fail the next run
    assert (rows(), cursor()) == (4, stamp(4))
    record(
        "cursor value '0000-00-00 00:00:00' among ISO timestamps (default), two runs",
        4,
        rows(),
        stamp(0),
        cursor(),
        "both runs succeeded; the record excluded, a warning names it (id=7)",
    )
