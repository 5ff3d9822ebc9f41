"""What one load is asked to do (:class:`LoadSpec`), with what (:class:`StagedLoad`), and
what it did (:class:`LoadResult`)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from rest_assets.config.columns import ColumnSpec, normalize_columns
from rest_assets.config.tables import MergeStrategyConfig, SchemaContractConfig
from rest_assets.errors import ConfigError
from rest_assets.load.connection import DEFAULT_LOCK_TIMEOUT, DEFAULT_MEMORY_LIMIT
from rest_assets.load.ledger import LedgerEntry
from rest_assets.load.naming import NAMINGS, Naming, column_names, normalize_key
from rest_assets.load.sql import format_table_name

if TYPE_CHECKING:
    from rest_assets.load.staging import StagingArea

WriteDisposition = Literal["replace", "append", "merge"]
WRITE_DISPOSITIONS: tuple[str, ...] = ("replace", "append", "merge")
TypeInference = Literal["dlt", "duckdb"]

# Columns a table may get from flattening nested objects: past it, the widest objects are
# kept as JSON columns (a record's own fields are always columns). DuckDB's cost per column
# is high: 3,000 flattened columns took 23 s and 0.9 GB for two records.
DEFAULT_MAX_COLUMNS = 1000

_last_ns = 0
_ns_lock = threading.Lock()


def new_load_id() -> str:
    """A unique load id that sorts by creation time: epoch nanoseconds + a random suffix.

    Within one process ids strictly increase even if the clock stands still or steps back.
    """
    global _last_ns
    with _ns_lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        stamp = _last_ns
    return f"{stamp:020d}.{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LoadSpec:
    """Where and how one load lands; checked when created, so a bad spec fails before the
    database is touched.

    - ``write_disposition``: ``replace``, ``append`` or ``merge``; ``merge`` follows
      ``merge`` (a :class:`~rest_assets.config.tables.MergeStrategyConfig`; None:
      delete-insert), keyed by ``primary_key`` and ``merge_key`` (one column or several;
      merge without a key appends). See :mod:`rest_assets.load.dispositions`.
    - ``columns``: explicit column hints (see :func:`rest_assets.config.columns.normalize_columns`),
      resolved into ``column_specs`` under the load's naming.
    - ``naming``: ``snake_case`` or ``direct`` (:mod:`rest_assets.load.naming`);
      ``type_inference``: ``dlt`` (ISO timestamps become TIMESTAMPTZ, naive ones read as UTC;
      dates, times and UUIDs stay text) or ``duckdb`` (DuckDB's own inference).
    - ``schema_contract``: what a new table, column or type does (None: evolve);
      see :mod:`rest_assets.load.contract`.
    - ``resource``: the resource writing, when several resources share the table: its rows
      carry ``_ra_resource``, a ``replace`` replaces only them (a merge matches keys across
      all rows).
    - ``max_columns``: the column budget for flattening nested objects.
    - ``max_table_nesting``: nested objects and lists go to ``parent__child`` columns and
      ``<table>__<field>`` child tables up to this many levels (None: no limit); deeper
      values, and all lists when ``nested_as_json``, are stored as JSON.
    - ``partition_key``: stored in every root row's ``_ra_partition``; a ``replace`` with
      ``replace_partitions`` deletes only the rows of those partitions (and their child rows).
    - ``ledger``: stateful loads, checked and recorded in the same transaction
      (:mod:`rest_assets.load.ledger`).
    - ``memory_limit``: DuckDB's buffer memory during the commit (e.g. ``"512MB"``; None:
      DuckDB's default, 80% of RAM); beyond it temporary tables spill to disk.
    - ``lock_timeout``: seconds to wait while another process holds the file lock.
    """

    schema: str
    table: str
    write_disposition: WriteDisposition = "append"
    primary_key: Sequence[str] = ()
    columns: Mapping[str, Any] | None = None
    max_table_nesting: int | None = None
    nested_as_json: bool = False
    load_id: str = field(default_factory=new_load_id)
    partition_key: str | None = None
    replace_partitions: Sequence[str] | None = None
    ledger: LedgerEntry | None = None
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    merge_key: Sequence[str] = ()
    merge: MergeStrategyConfig | None = None
    schema_contract: SchemaContractConfig | None = None
    naming: Naming = "snake_case"
    type_inference: TypeInference = "dlt"
    resource: str | None = None
    max_columns: int = DEFAULT_MAX_COLUMNS
    column_specs: Mapping[str, ColumnSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.write_disposition not in WRITE_DISPOSITIONS:
            raise ConfigError(
                f"write_disposition must be one of {', '.join(WRITE_DISPOSITIONS)}, "
                f"got {self.write_disposition!r}"
            )
        nesting = self.max_table_nesting
        if nesting is not None and (not isinstance(nesting, int) or nesting < 0):
            raise ConfigError(f"max_table_nesting must be a non-negative integer, got {nesting!r}")
        if self.naming not in NAMINGS:
            raise ConfigError(f"naming must be one of {', '.join(NAMINGS)}, got {self.naming!r}")
        if self.type_inference not in ("dlt", "duckdb"):
            raise ConfigError(f"type_inference must be dlt or duckdb, got {self.type_inference!r}")
        # frozen: the normalized forms are set once, here; key and hint names are column
        # names under the load's naming, as dlt normalizes them
        specs = {}
        for raw, spec in normalize_columns(self.columns).items():
            name = normalize_key(raw, self.naming)
            specs[name] = replace(spec, name=name)
        object.__setattr__(self, "column_specs", specs)
        for attr in ("primary_key", "merge_key"):
            keys = list(column_names(_key_list(getattr(self, attr)), self.naming))
            hinted = [s.name for s in specs.values() if getattr(s, attr)]
            keys += [k for k in hinted if k not in keys]
            object.__setattr__(self, attr, tuple(keys))
        if self.replace_partitions is not None:
            object.__setattr__(self, "replace_partitions", tuple(self.replace_partitions))
        strategy = self.merge.strategy if self.merge is not None else None
        if strategy in ("upsert", "insert-only") and not self.primary_key:
            raise ConfigError(f"merge strategy {strategy} needs a primary_key ({self.table_name})")

    @property
    def strategy(self) -> str:
        """The merge strategy (``delete-insert`` unless ``merge`` says otherwise)."""
        return "delete-insert" if self.merge is None else self.merge.strategy

    @property
    def hard_delete(self) -> ColumnSpec | None:
        """The column whose value marks a record as deleted (a ``hard_delete`` hint)."""
        return next((s for s in self.column_specs.values() if s.hard_delete), None)

    @property
    def dedup_sort(self) -> ColumnSpec | None:
        """The column that decides which record of a key a merge keeps."""
        return next((s for s in self.column_specs.values() if s.dedup_sort), None)

    @property
    def table_name(self) -> str:
        """``schema.table`` as shown in metadata and messages."""
        return format_table_name(self.schema, self.table)


def _key_list(value: str | Sequence[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else [str(k) for k in value or ()]


@dataclass(frozen=True)
class StagedLoad:
    """Staged records and the spec to commit them with: what an extraction hands on."""

    staging: StagingArea
    spec: LoadSpec


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one commit.

    ``row_count`` is the table's row count after the commit, ``rows_written`` the rows this load
    inserted into it, ``columns`` the table's ``(name, DuckDB type)`` after the commit and
    ``child_tables`` maps each child table written by this load to the rows inserted into it.
    ``load_id`` may sort later than the spec's: a load always lands after those in the table.
    """

    row_count: int
    rows_written: int
    columns: list[tuple[str, str]]
    child_tables: dict[str, int]
    table_name: str
    table: str = ""  # as created (names match case-insensitively)
    load_id: str = ""
    # what the load changed on its own and says so: objects kept as JSON past the column
    # budget, renamed keys, values a schema contract discarded...
    notes: tuple[str, ...] = ()
    rows_deleted: int = 0  # merge: rows removed by key or hard delete; scd2: rows retired
