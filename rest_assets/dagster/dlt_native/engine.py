"""dlt itself: the project's run context, the user's source, the pipeline that loads it.

Imported only when the extra `rest-assets[dlt]` is installed (rest_assets.dagster.dlt_native.
build checks first).

- `dlt_project(folder)`: while it is open, dlt's run context is the project folder, so dlt
  reads `<folder>/.dlt/secrets.toml` and `config.toml` (then its global folder, `~/.dlt`)
  and the environment exactly as it would for a script run from there; the working
  directory and the environment are left alone. dlt's run context belongs to the whole
  process, so one dlt_native source at a time is inside it (`DLT_LOCK`); the same lock
  keeps dlt's DuckDB connections and rest-assets' own from being open in this process at
  once through a dlt_native step (in-process runs execute one step at a time anyway).
- `call_source`: the `@dlt.source` function called with no arguments, as Dango does; dlt
  resolves its `dlt.secrets.value` / `dlt.config.value` arguments then.
- `pipeline_for`: one dlt pipeline per source: named after it, dataset `raw_<source>` (the
  source's schema), destination DuckDB on the definitions' database file. Its working
  folder sits beside that file (`<database>.dlt_pipelines/<source>`); dagster-dlt empties it
  before each run and dlt restores the state, incremental cursors included, from the
  `_dlt_pipeline_state` table it keeps in the dataset; the trace dlt saves there is removed
  after each run (`drop_trace`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException, LookupTrace
from dlt.common.runtime.run_context import RunContext, switched_run_context
from dlt.extract.source import DltSource
from dlt.pipeline.pipeline import Pipeline
from dlt.pipeline.trace import TRACE_FILE_NAME

from rest_assets.config.dialects.dango import DltNativeSource
from rest_assets.dagster.dlt_native.errors import DltNativeError
from rest_assets.dagster.dlt_native.secrets import secret_values, source_redactor
from rest_assets.dagster.dlt_native.user_module import import_source_module
from rest_assets.http.redact import Redactor

DLT_LOCK = threading.RLock()
_ENVIRONMENT_PROVIDER = "Environment Variables"


@dataclass(frozen=True)
class DltProject:
    """The project folder dlt runs in, and the redactor of the secrets dlt may read there."""

    folder: Path
    settings_dir: Path
    redactor: Redactor


@contextmanager
def dlt_project(folder: Path) -> Iterator[DltProject]:
    """dlt's run context switched to `folder` (one source at a time in this process)."""
    with DLT_LOCK, switched_run_context(RunContext(str(folder))) as context:
        settings = Path(context.settings_dir).resolve()
        values = secret_values([settings, Path(context.global_dir)], os.environ)
        yield DltProject(folder, settings, source_redactor(values))


def call_source(native: DltNativeSource, project: DltProject) -> DltSource:
    """The user's dlt source: the module imported, the function called with no arguments."""
    settings = native.config.dlt_native
    module = import_source_module(settings.source_module, project.folder)
    function = getattr(module, settings.source_name, None)
    if not callable(function):
        raise DltNativeError(
            f"{settings.source_module} ({module.__file__}) has no function "
            f"{settings.source_name}; source_name names the @dlt.source function in that module"
        )
    try:
        source = function()
    except ConfigFieldMissingException as exc:
        raise DltNativeError(missing_value_text(native.__name__, exc, project)) from None
    except Exception as exc:
        raise DltNativeError(
            f"calling {native.__name__}() failed: {type(exc).__name__}: "
            f"{project.redactor.redact(str(exc))}"
        ) from None
    if not isinstance(source, DltSource):
        raise DltNativeError(
            f"{native.__name__}() returned {type(source).__name__}, not a dlt source; decorate "
            "the function with @dlt.source"
        )
    if not source.selected_resources:
        raise DltNativeError(f"{native.__name__}() has no selected resources: nothing to load")
    return source


def missing_value_text(function: str, exc: ConfigFieldMissingException, project: DltProject) -> str:
    """Which values dlt did not find, where to put them, and every place dlt looked.

    dlt tries the same sections in the environment and in both TOML files; its traces of the
    environment give them all, with the variable names.
    """
    name = function.rsplit(":", 1)[-1]
    lines = []
    for field in exc.fields:
        variables = {
            ".".join(t.sections): t.key
            for t in exc.traces.get(field, [])
            # nested configurations (credentials objects) trace their own fields
            if isinstance(t, LookupTrace) and t.provider == _ENVIRONMENT_PROVIDER
        }
        # the tutorial's layout, [sources.<function>], when dlt reads it
        wanted = f"sources.{name}"
        section = wanted if wanted in variables else next(iter(variables), wanted)
        places = [f"[{s}]" if s else "the top level" for s in variables]
        looked = (
            ", ".join(places[:-1]) + f" and {places[-1]}" if len(places) > 1 else "".join(places)
        )
        lines.append(
            f"dlt found no value for `{field}` of {function}: put it in "
            f"{project.settings_dir / 'secrets.toml'} under [{section}] "
            f'({field} = "..."), or set {variables.get(section, field.upper())} in the '
            f"environment (dlt looks in {looked} of .dlt/secrets.toml and config.toml, and in "
            f"the variables {', '.join(variables.values())})"
        )
    return "\n".join(lines)


def pipeline_for(source_name: str, dataset: str, database: str) -> Pipeline:
    """The dlt pipeline of one source, loading into `dataset` of the DuckDB file."""
    path = Path(database)
    return dlt.pipeline(
        pipeline_name=source_name,
        destination=dlt.destinations.duckdb(str(path)),
        dataset_name=dataset,
        pipelines_dir=str(path.with_name(f"{path.stem}.dlt_pipelines")),
    )


def drop_trace(pipeline: Pipeline) -> None:
    """Remove the trace dlt saves in the working folder after every run: a failed step's
    exception is kept there as dlt wrote it, secrets in a request's URL included. The run's
    (masked) failure is in Dagster's event log; the rest of the folder is dlt's as always."""
    Path(pipeline.working_dir, TRACE_FILE_NAME).unlink(missing_ok=True)


def row_counts(pipeline: Pipeline, tables: Sequence[str]) -> dict[str, int]:
    """Rows in each of the dataset's tables that exists (through dlt's own connection)."""
    counts: dict[str, int] = {}
    # include_incomplete: dagster-dlt's metadata pops the columns' names and types out of
    # the live schema, which then counts its tables as incomplete
    existing = set(pipeline.default_schema.data_table_names(include_incomplete=True))
    with pipeline.sql_client() as client:
        for table in tables:
            if table not in existing:
                continue
            rows = client.execute_sql(
                f"SELECT count(*) FROM {client.make_qualified_table_name(table)}"
            )
            if rows:
                counts[table] = int(rows[0][0])
    return counts


def incremental_state(pipeline: Pipeline, source: DltSource, resource: str) -> Mapping[str, Any]:
    """dlt's incremental state of a resource: `{cursor path: last value}` (empty if none)."""
    sources = pipeline.state.get("sources") or {}
    resources = (sources.get(source.name) or {}).get("resources") or {}
    cursors = (resources.get(resource) or {}).get("incremental") or {}
    return {path: state.get("last_value") for path, state in cursors.items()}
