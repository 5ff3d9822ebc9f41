"""dlt's rest_api source into dlt's DuckDB destination (runs in bench/.venv-dlt).

`--variant default` keeps dlt's default loader file format (insert_values for DuckDB);
`--variant parquet` passes loader_file_format="parquet". Extract, normalize and load are
called one by one (what pipeline.run does) so their times can be reported separately.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import DATASET, Timer, not_available, parse_args, report, rest_api_config

timer = Timer()

try:
    import dlt
    from dlt.sources.rest_api import rest_api_source
except ImportError as exc:  # pragma: no cover - wrong interpreter
    not_available(f"dlt not importable: {exc}")

timer.mark("import")


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    fmt = args.variant if args.variant not in ("", "default") else None
    config = rest_api_config(args.url, args.scenario, args.page_size)
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{args.scenario}",
        pipelines_dir=os.path.join(args.state_dir, "pipelines"),
        destination=dlt.destinations.duckdb(args.db),
        dataset_name=DATASET,
    )
    source = rest_api_source(config)
    pipeline.extract(source, loader_file_format=fmt)
    timer.mark("extract")
    pipeline.normalize()
    timer.mark("normalize")
    info = pipeline.load()
    timer.mark("load")
    info.raise_on_failed_jobs()
    report(timer, dlt_version=dlt.__version__, loader_file_format=fmt or "default")


if __name__ == "__main__":
    main()
