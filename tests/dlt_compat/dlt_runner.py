"""Run one source of `configs` through dlt 1.31 itself and print what it loaded, as JSON.

    python dlt_runner.py '{"source": "paginators", "base_url": "...", "workdir": "..."}'

Runs in an interpreter that has dlt (not rest-assets): it imports `configs.py` by its file
path. The pipeline's directory and DuckDB file live in `workdir`, so a second call with the
same workdir continues from the first one's state (incremental runs). Prints
`{"error": ..., "tables": {table: [rows without dlt's own columns]}}`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
# one attempt per request: a failing case should fail fast, as rest-assets' side does
os.environ.setdefault("RUNTIME__REQUEST_MAX_ATTEMPTS", "1")


def _configs() -> Any:
    path = Path(__file__).with_name("configs.py")
    spec = importlib.util.spec_from_file_location("dlt_compat_configs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dlt reads a resource function's module
    spec.loader.exec_module(module)
    return module


def _tables(pipeline: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with pipeline.sql_client() as client:
        names = [
            row[0]
            for row in client.execute_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                pipeline.dataset_name,
            )
        ]
        for name in sorted(names):
            if name.startswith("_dlt") or "__" in name:
                continue
            table = client.make_qualified_table_name(name)
            with client.execute_query(f"SELECT * FROM {table}") as cursor:
                columns = [c[0] for c in cursor.description]
                rows = cursor.fetchall()
            out[name] = [
                {
                    c: (v if isinstance(v, int | float | str | bool) or v is None else str(v))
                    for c, v in zip(columns, row, strict=True)
                    if not c.startswith("_dlt")
                }
                for row in rows
            ]
    return out


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    import dlt
    from dlt.sources.rest_api import rest_api_source

    configs = _configs()
    workdir = Path(args["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    config = configs.SOURCES[args["source"]](args["base_url"])
    pipeline = dlt.pipeline(
        pipeline_name=f"compat_{args['source']}",
        pipelines_dir=str(workdir / "pipelines"),
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name="compat",
    )
    error = None
    try:
        pipeline.run(rest_api_source(config, name=args["source"]))
    except Exception as exc:  # reported to the test, which decides
        error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    tables = _tables(pipeline) if (workdir / "dlt.duckdb").exists() else {}
    print(json.dumps({"error": error, "tables": tables}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
