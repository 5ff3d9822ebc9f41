"""The near-ideal reference: requests.Session + orjson + one DuckDB statement.

Pages are parsed once with orjson (the `next` link needs it), each page's record list is
written back with one orjson call to a JSON file in a staging directory, and DuckDB's
read_json turns the directory into a table in one CREATE TABLE AS (or, for the incremental
second run, one DELETE + INSERT transaction). Nested objects and lists stay DuckDB STRUCT /
LIST columns: this is the floor that a declarative pipeline cannot beat, not a like-for-like
port of dlt's normalisation into flattened columns and child tables.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    DATASET,
    INITIAL_CURSOR,
    WIDE_PAGE_SIZE,
    Timer,
    parse_args,
    report,
    wide_name,
)

timer = Timer()

import shutil  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

import duckdb  # noqa: E402
import orjson  # noqa: E402
import requests  # noqa: E402

timer.mark("import")


def pages(session: requests.Session, url: str, params: dict[str, Any] | None) -> Iterator[list]:
    """Yield each page's `data` list, following the `next` link."""
    next_url: str | None = url
    while next_url:
        response = session.get(next_url, params=params, timeout=60)
        response.raise_for_status()
        body = orjson.loads(response.content)
        params = None  # the next link carries every parameter already
        next_url = body.get("next")
        yield body["data"]


class Stage:
    """Writes record lists as JSON array files; counts rows."""

    def __init__(self, root: str, name: str) -> None:
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.files = 0
        self.rows = 0

    def write(self, records: list) -> None:
        if not records:
            return
        with open(os.path.join(self.dir, f"{self.files:06d}.json"), "wb") as fh:
            fh.write(orjson.dumps(records))
        self.files += 1
        self.rows += len(records)

    @property
    def glob(self) -> str:
        return os.path.join(self.dir, "*.json")


def source(stage: Stage) -> str:
    return f"read_json('{stage.glob}', format='array')"


def replace_table(con: duckdb.DuckDBPyConnection, table: str, stage: Stage) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {DATASET}.{table} AS SELECT * FROM {source(stage)}")


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    base = args.url.rstrip("/")
    staging = tempfile.mkdtemp(prefix="ideal-", dir=args.state_dir)
    session = requests.Session()
    con = duckdb.connect(args.db)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    extra: dict[str, Any] = {}
    try:
        if args.scenario in ("200k", "1m"):
            stage = Stage(staging, "items")
            for records in pages(session, f"{base}/items", {"limit": args.page_size}):
                stage.write(records)
            timer.mark("extract")
            replace_table(con, "items", stage)
            timer.mark("load")
        elif args.scenario == "incremental":
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = 'items'",
                [DATASET],
            ).fetchone()[0]
            cursor = INITIAL_CURSOR
            if exists:
                # the cursor is simply the newest updated_at already landed
                cursor = con.execute(
                    f"SELECT strftime(max(updated_at), '%Y-%m-%dT%H:%M:%SZ') FROM {DATASET}.items"
                ).fetchone()[0]
            stage = Stage(staging, "items")
            params = {"limit": args.page_size, "updated_since": cursor}
            for records in pages(session, f"{base}/items", params):
                stage.write(records)
            timer.mark("extract")
            if not exists:
                replace_table(con, "items", stage)
            elif stage.rows:
                con.execute("BEGIN")
                con.execute(
                    f"CREATE TEMP TABLE new_items AS SELECT * FROM {source(stage)};"
                    f"DELETE FROM {DATASET}.items WHERE id IN (SELECT id FROM new_items);"
                    f"INSERT INTO {DATASET}.items BY NAME SELECT * FROM new_items;"
                )
                con.execute("COMMIT")
            timer.mark("load")
            extra = {"cursor": cursor, "fetched": stage.rows}
        elif args.scenario in ("wide", "job"):
            # one stage and table per resource; `--workers` resources fetched at a time
            def fetch_resource(n: int) -> Stage:
                stage = Stage(staging, wide_name(n))
                for records in pages(session, f"{base}/wide/{n}", {"limit": WIDE_PAGE_SIZE}):
                    stage.write(records)
                return stage

            with ThreadPoolExecutor(max(args.workers, 1)) as pool:
                stages = list(pool.map(fetch_resource, range(args.resources)))
            timer.mark("extract")
            for n, stage in enumerate(stages):
                replace_table(con, wide_name(n), stage)
            timer.mark("load")
        elif args.scenario == "fanout":
            parents = Stage(staging, "parents")
            ids: list[int] = []
            for records in pages(session, f"{base}/parents", {"limit": 100}):
                parents.write(records)
                ids.extend(r["id"] for r in records)
            children = Stage(staging, "children")

            def fetch(pid: int) -> list:
                out: list = []
                for records in pages(session, f"{base}/parents/{pid}/children", None):
                    out.extend(records)
                return out

            # one buffer for all children: 500 tiny pages are better as a few files
            buffer: list = []
            if args.workers > 1:
                with ThreadPoolExecutor(args.workers) as pool:
                    for records in pool.map(fetch, ids):
                        buffer.extend(records)
            else:
                for pid in ids:
                    buffer.extend(fetch(pid))
            children.write(buffer)
            timer.mark("extract")
            replace_table(con, "parents", parents)
            replace_table(con, "children", children)
            timer.mark("load")
        con.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(timer, **extra)


if __name__ == "__main__":
    main()
