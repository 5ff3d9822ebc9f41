"""DuckDB IO manager: the one writer of a project's DuckDB file, and DataFrames back out.

Writes:

- the steps of rest-assets sources hand it their staged extractions
  (:meth:`DuckDBIOManager.write_staged`): each is committed to ``StagedTable.schema`` /
  ``StagedTable.table`` with :func:`rest_assets.load.writer.commit` (one transaction), and
  the staged files are removed afterwards, whether the commit succeeded or not;
- a pandas DataFrame (or pyarrow Table) returned by a user asset replaces the table
  ``<key prefix joined with "_">.<last key part>`` (schema ``main``, DuckDB's default, for
  a one-part key) in one transaction;
- ``None`` writes nothing.

Each write records where the table is (``dagster/table_name`` as ``database.schema.table``,
a part holding a dot or a double quote double-quoted; ``dagster/storage_kind``,
``duckdb_file``, ``sample_query``), ``dagster/row_count``, ``dagster/column_schema`` and
``rows_written`` (for staged tables also ``load_id``, the ``child_tables/<table>/...``
entries of each child table and the StagedTable's own metadata).

Inputs: the upstream table is found, in this order, from (1) ``dagster/table_name`` in the
metadata of the upstream asset's latest materialization (``context.instance``), which is where
a StagedTable's schema and table are recorded; (2) ``dagster/table_name`` in the upstream
asset's definition metadata (either as ``database.schema.table`` or ``schema.table``); (3)
the key convention used for DataFrame outputs. A table that was never created (e.g. the
upstream loaded no records yet) loads as an empty DataFrame.
Input metadata ``columns`` (a list of names) limits the columns read.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from rest_assets.dagster.columns import ColumnNotes
from rest_assets.dagster.materialization_metadata import child_table_entries
from rest_assets.dagster.metadata import (
    TABLE_NAME_KEY,
    schema_and_table,
    table_metadata,
    text_value,
)
from rest_assets.load import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MEMORY_LIMIT,
    DatabasePathError,
    LoadResult,
    StagedLoad,
    check_writable,
    commit,
    format_table_name,
    loaded_tables,
    read_table,
    replace_table,
    table_exists,
)

if TYPE_CHECKING:  # imported when used: pandas alone adds ~0.4 s to every run's start-up
    import pandas as pd
    import pyarrow as pa

IO_MANAGER_KEY = "io_manager"


@dataclass
class StagedTable:
    """A staged load a user asset returns (rest-assets' own steps commit theirs directly).

    The IO manager commits ``load`` in one transaction (with its own ``lock_timeout`` and
    ``memory_limit``), removes the staged files and adds ``metadata`` to the
    materialization.
    """

    load: StagedLoad
    metadata: dict[str, Any] = field(default_factory=dict)


def _is_frame(obj: Any) -> bool:
    # an object can only be a DataFrame / Arrow table if its library is already imported
    pandas, pyarrow = sys.modules.get("pandas"), sys.modules.get("pyarrow")
    return (pandas is not None and isinstance(obj, pandas.DataFrame)) or (
        pyarrow is not None and isinstance(obj, pyarrow.Table)
    )


def table_for_key(asset_key: dg.AssetKey) -> tuple[str, str]:
    """``(schema, table)`` for an asset key: prefix joined with ``_`` (or ``main``), last part."""
    path = list(asset_key.path)
    schema = "_".join(path[:-1]) if len(path) > 1 else "main"
    return schema, path[-1]


class DuckDBIOManager(dg.ConfigurableIOManager):
    """Stores asset outputs in one DuckDB file; see the module docstring for the rules."""

    database: str = Field(description="Path of the DuckDB file; parent directories are created.")
    lock_timeout: float = Field(
        default=DEFAULT_LOCK_TIMEOUT,
        description="Seconds to keep retrying while another process holds the file lock.",
    )
    memory_limit: str | None = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description=(
            "DuckDB buffer memory while committing a staged table (e.g. '512MB'); beyond it "
            "DuckDB spills to disk, so memory stays flat as loads grow. None: DuckDB's default "
            "(80% of RAM)."
        ),
    )

    # ------------------------------------------------------------------ outputs

    def write_staged(self, staged: StagedLoad) -> LoadResult:
        """Commit a staged load in one transaction; the staged files are removed after."""
        spec = dataclasses.replace(
            staged.spec, lock_timeout=self.lock_timeout, memory_limit=self.memory_limit
        )
        try:
            return commit(self.database, staged.staging, spec)
        finally:
            staged.staging.cleanup()

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Commit a StagedTable, replace a table with a DataFrame (or Arrow table), or ignore
        None."""
        if obj is None:
            return
        if isinstance(obj, StagedTable):
            result = self.write_staged(obj.load)
            context.log.info(
                f"{result.table_name}: {result.rows_written} rows written "
                f"({obj.load.spec.write_disposition}), {result.row_count} rows in table"
            )
            spec = obj.load.spec
            tables = loaded_tables(self.database, spec.schema, result.table)
            notes = ColumnNotes(spec.table, tuple(spec.primary_key))
            context.add_output_metadata(
                {
                    **table_metadata(result, self.database, notes.schema(result.columns)),
                    "load_id": result.load_id,
                    **child_table_entries(context.asset_key, result, tables, notes),
                    **obj.metadata,
                }
            )
        elif _is_frame(obj):
            self._replace_frame(context, obj)
        else:
            raise TypeError(
                f"DuckDBIOManager stores a StagedTable, a pandas DataFrame or a pyarrow Table; "
                f"asset {context.asset_key.to_user_string()} returned {type(obj).__name__}"
            )

    def _replace_frame(self, context: dg.OutputContext, frame: pd.DataFrame | pa.Table) -> None:
        schema, table = table_for_key(context.asset_key)
        result = replace_table(self.database, schema, table, frame, lock_timeout=self.lock_timeout)
        context.add_output_metadata(table_metadata(result, self.database))

    # ------------------------------------------------------------------ inputs

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        """The upstream asset's table as a pandas DataFrame (empty if it was never created)."""
        schema, table = self._upstream_table(context)
        columns = (context.definition_metadata or {}).get("columns")
        if not table_exists(self.database, schema, table, lock_timeout=self.lock_timeout):
            context.log.warning(
                f"table {format_table_name(schema, table)} does not exist yet: "
                "loading an empty DataFrame"
            )
            import pandas as pd

            return pd.DataFrame(columns=list(columns or []))
        return read_table(
            self.database, schema, table, columns=columns, lock_timeout=self.lock_timeout
        )

    def _upstream_table(self, context: dg.InputContext) -> tuple[str, str]:
        key = context.asset_key
        try:
            instance = context.instance
        except dg.DagsterInvariantViolationError:
            instance = None  # e.g. build_input_context() without an instance
        if instance is not None:
            event = instance.get_latest_materialization_event(key)
            materialization = event.asset_materialization if event else None
            if materialization is not None:
                name = text_value(materialization.metadata.get(TABLE_NAME_KEY))
                if name:
                    return schema_and_table(name)
        upstream = context.upstream_output
        if upstream is not None:
            name = text_value((upstream.definition_metadata or {}).get(TABLE_NAME_KEY))
            if name:
                return schema_and_table(name)
        return table_for_key(key)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Create the database's parent directories (a path that cannot be written is
        reported by the step that would write it, before it fetches anything)."""
        try:
            check_writable(self.database)
        except DatabasePathError:
            return
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
