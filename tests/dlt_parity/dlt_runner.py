"""Runs a RESTAPIConfig through dlt 1.31 itself and prints its tables as JSON.

Executed by an interpreter that has ``dlt[duckdb]==1.31.0`` (see conftest.py), never
imported by the test process. Reads one JSON job from argv[1]:

    {"config": RESTAPIConfig, "name": source name, "workdir": dir, "loads": n,
     "control": URL called with ?load=i before load i, "naming": "snake_case" | "direct"}

and prints ``{"tables": {table: {"columns": [[name, type]...], "rows": [[...]...]}},
"errors": [one per load: null or the error's text]}``. dlt's own columns (``_dlt_*``) are
left out except the scd2 validity columns, shown as "active" (valid_to is NULL or not).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def main() -> int:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    if job.get("naming"):
        os.environ["SCHEMA__NAMING"] = job["naming"]
    import dlt
    from dlt.sources.rest_api import rest_api_source

    workdir = job["workdir"]
    pipeline = dlt.pipeline(
        pipeline_name="parity",
        pipelines_dir=os.path.join(workdir, "pipelines"),
        destination=dlt.destinations.duckdb(os.path.join(workdir, "dlt.duckdb")),
        dataset_name="ds",
    )
    errors: list[str | None] = []
    for load in range(job["loads"]):
        urllib.request.urlopen(f"{job['control']}?load={load}").read()
        try:
            pipeline.run(rest_api_source(job["config"], name=job["name"]))
            errors.append(None)
        except Exception as exc:  # the test compares failures too
            errors.append(f"{type(exc).__name__}: {exc}")
            pipeline.drop_pending_packages()
    tables: dict[str, Any] = {}
    with pipeline.sql_client() as client:
        names = client.execute_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ds' "
            "AND table_name NOT LIKE '_dlt_%' ORDER BY 1"
        )
        for (table,) in names:
            described = client.execute_sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'ds' AND table_name = ? ORDER BY ordinal_position",
                table,
            )
            columns = [
                [n, t]
                for n, t in described
                if not n.startswith("_dlt_") or n in ("_dlt_valid_from", "_dlt_valid_to")
            ]
            select = ", ".join(
                f'("{n}" IS NULL) AS "{n}"' if n == "_dlt_valid_to" else f'"{n}"'
                for n, _ in columns
                if n != "_dlt_valid_from"
            )
            rows = client.execute_sql(f'SELECT {select} FROM ds."{table}"')
            tables[table] = {
                "columns": columns,
                "rows": sorted([[_value(v) for v in row] for row in rows], key=repr),
            }
    print(json.dumps({"tables": tables, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
