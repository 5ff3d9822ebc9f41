"""dlt's rest_api source into dlt's DuckDB destination (runs in bench/.venv-dlt).

`--variant default` keeps dlt's default loader file format (insert_values for DuckDB);
`--variant parquet` passes loader_file_format="parquet". Extract, normalize and load are
called one by one (what pipeline.run does) so their times can be reported separately.

Parallelism, as dlt documents it (docs/reference/performance): resources marked
`parallelized` (the wide and job configs set it in `resource_defaults`) are extracted
together in a thread pool of `extract.workers` threads; here 8 (`EXTRACT__WORKERS`, dlt's
default is 5), the same width as rest-assets' `max_concurrency`. `--variant parquet-serial`
is parquet with dlt's default parallelism: no `parallelized` key, 5 workers (unused).
Environment settings already present win (e.g. `NORMALIZE__WORKERS=2` to try dlt's
process pool for normalize).
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
    serial = args.variant == "parquet-serial"
    fmt = {"": None, "default": None, "parquet-serial": "parquet"}.get(args.variant, args.variant)
    config = rest_api_config(args.url, args.scenario, args.page_size, args.resources)
    if serial:
        for part in (config.get("resource_defaults", {}), *config["resources"]):
            part.pop("parallelized", None)
    elif args.scenario in ("wide", "job"):
        os.environ.setdefault("EXTRACT__WORKERS", "8")
    knobs = {k: v for k, v in os.environ.items() if k.split("__")[0] in _SECTIONS}
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
    report(timer, dlt_version=dlt.__version__, loader_file_format=fmt or "default", settings=knobs)


# dlt's config sections whose environment settings the result records
_SECTIONS = ("EXTRACT", "NORMALIZE", "LOAD", "DATA_WRITER")


if __name__ == "__main__":
    main()
