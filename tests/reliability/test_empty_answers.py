"""A 200 is not always data: answers without records never destroy a `replace` table.

Each case: run 1 loads 2 rows into a replace table; run 2 meets the answer under test. An
error body, or a body without the configured data selector, fails naming the resource, the
URL and what came back; an empty answer (204, no bytes, `{"data": null}`) fails as well
unless the resource says `allow_empty: true`. The table and its latest materialization stay
as they were in every failed case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.reliability.harness import error_text, record

ROWS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


@dataclass
class Answer:
    body: Any
    status: int = 200


@dataclass
class Case:
    fault: str
    answer: Answer
    selector: str | None = "data"
    allow_empty: bool = False
    disposition: str = "replace"
    succeeds: bool = False
    error: tuple[str, ...] = ()
    rows_after: int = 2


CASES = [
    Case(
        "200 {error: maintenance} vs data_selector: data",
        Answer({"error": "maintenance, try again later"}),
        error=("status 200 with an error instead of records", "maintenance, try again later"),
    ),
    Case(
        "200 {error: maintenance}, auto selector",
        Answer({"error": "maintenance, try again later"}),
        selector=None,
        error=("status 200 with an error instead of records",),
    ),
    Case(
        "200 GitHub-style {message, documentation_url}, auto selector",
        Answer({"message": "API rate limit exceeded", "documentation_url": "https://x/y"}),
        selector=None,
        error=("with an error instead of records", "API rate limit exceeded"),
    ),
    Case(
        "200 GraphQL {data: null, errors: [...]} vs data_selector: data.items",
        Answer({"data": None, "errors": [{"message": "field 'items' is down"}]}),
        selector="data.items",
        error=("with an error instead of records", "field 'items' is down"),
    ),
    Case(
        "200 {results: [...]} vs data_selector: data (selector missing)",
        Answer({"results": [{"id": 9}]}),
        error=("without 'data' (endpoint.data_selector)", "keys ['results']"),
    ),
    Case(
        "200 {data: null}, replace",
        Answer({"data": None}),
        error=("no records (the last load wrote 2 rows)", "allow_empty: true"),
    ),
    Case(
        "200 with an empty body, replace",
        Answer(b""),
        error=("no records (the last load wrote 2 rows)", "allow_empty: true"),
    ),
    Case(
        "HTTP 204, replace",
        Answer(b"", status=204),
        error=("no records (the last load wrote 2 rows)", "would empty raw_"),
    ),
    Case(
        "200 {data: []}, replace with allow_empty: true",
        Answer({"data": []}),
        allow_empty=True,
        succeeds=True,
        rows_after=0,
    ),
    Case(
        "HTTP 204, merge (nothing to destroy)",
        Answer(b"", status=204),
        disposition="merge",
        succeeds=True,
    ),
]


def _source(url: str, name: str, case: Case) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"path": "items", "paginator": "single_page"}
    if case.selector is not None:
        endpoint["data_selector"] = case.selector
    resource: dict[str, Any] = {
        "name": "items",
        "primary_key": "id",
        "write_disposition": case.disposition,
        "endpoint": endpoint,
    }
    if case.allow_empty:
        resource["allow_empty"] = True
    return {
        "name": name,
        "client": {"base_url": url, "rate_limit": {"max_retries": 0}},
        "resources": [resource],
    }


def _healthy(case: Case) -> Any:
    if case.selector == "data.items":
        return {"data": {"items": ROWS}}
    return {"data": ROWS}


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> int | None:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1)
    return records.records[0].storage_id if records.records else None


def _rows(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0]) if found else 0


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_an_answer_without_records_never_destroys_a_replace_table(
    case: Case,
    local: LocalAPI,
    shared_instance: dg.DagsterInstance,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"empty{CASES.index(case)}"
    answers = [Answer(_healthy(case)), case.answer]

    def items(request: Request) -> Response:
        answer = answers[0]
        return Response(answer.body, answer.status)

    local.route("GET", "/items", items)
    db = tmp_path / "w.duckdb"
    defs = build_definitions({"sources": [_source(local.url, name, case)]}, database=db)
    key = asset_key(name, "items")
    table = f"raw_{name}.items"

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            list(defs.assets or []),
            instance=shared_instance,
            resources=defs.resources,
            raise_on_error=False,
        )

    assert run().success
    assert _rows(db, table) == 2
    before = _latest(shared_instance, key)
    answers.pop(0)
    result = run()
    after = _latest(shared_instance, key)
    found = _rows(db, table)
    assert found == case.rows_after
    if case.succeeds:
        assert result.success
        assert after != before
        warnings = [
            str(e.message)
            for e in shared_instance.all_logs(result.run_id)
            if e.level == 30  # logging.WARNING
        ]
        assert any("no records (the last load wrote 2 rows)" in w for w in warnings), warnings
        outcome = (
            "run succeeded; warning logged: "
            + next(w for w in warnings if "no records" in w).split(": ", 1)[1]
        )
    else:
        assert not result.success
        text = error_text(result)
        assert "resource 'items'" in text or f"{name}.items" in text, text
        for part in case.error:
            assert part in text, text
        assert "duckdb" not in text.lower().replace(".duckdb", "")
        assert after == before  # no new materialization
        cause = text.strip().splitlines()[-1].split("items: ", 1)[-1]
        outcome = "failed, table kept: " + cause.replace("resource 'items': ", "")
    record(case.fault, case.rows_after, found, None, None, outcome)
