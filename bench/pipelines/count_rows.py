"""Count the rows a pipeline landed: `count_rows.py DB TABLE...` prints one JSON object.

Run with the interpreter of the pipeline that wrote DB (same DuckDB version). A table is
looked for in every schema; dlt's `*_staging` datasets (merge scratch space) are skipped.
"""

from __future__ import annotations

import json
import sys

import duckdb


def main() -> None:
    db, tables = sys.argv[1], sys.argv[2:]
    con = duckdb.connect(db, read_only=True)
    counts: dict[str, object] = {}
    for table in tables:
        found = con.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = ? AND table_schema NOT LIKE '%\\_staging' ESCAPE '\\' "
            "ORDER BY table_schema",
            [table],
        ).fetchall()
        if not found:
            counts[table] = None
            continue
        schema = found[0][0]
        (rows,) = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
        counts[table] = rows
        if len(found) > 1:
            counts[f"{table}:schemas"] = [s for (s,) in found]
    # the child tables a pipeline made (dlt: items__tags, ...), for the report
    counts["_all_tables"] = [
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT LIKE '%\\_staging' ESCAPE '\\' ORDER BY 1, 2"
        ).fetchall()
    ]
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
