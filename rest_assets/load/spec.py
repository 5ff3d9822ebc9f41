"""What one load is asked to do (:class:`LoadSpec`), with what (:class:`StagedLoad`), and
what it did (:class:`LoadResult`)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rest_assets.config.columns import ColumnSpec, normalize_columns
from rest_assets.errors import ConfigError
from rest_assets.load.connection import DEFAULT_LOCK_TIMEOUT, DEFAULT_MEMORY_LIMIT
from rest_assets.load.ledger import LedgerEntry
from rest_assets.load.sql import format_table_name

if TYPE_CHECKING:
    from rest_assets.load.staging import StagingArea

WriteDisposition = Literal["replace", "append", "merge"]
WRITE_DISPOSITIONS: tuple[str, ...] = ("replace", "append", "merge")

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

    - ``write_disposition``: ``replace``, ``append`` or ``merge`` (by ``primary_key``, one
      column or several; within one load the last record of a key wins; merge without a key
      appends).
    - ``columns``: explicit column hints (see :func:`rest_assets.config.columns.normalize_columns`),
      resolved into ``column_specs``.
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
        # frozen: the normalized forms are set once, here
        key = self.primary_key
        keys = (key,) if isinstance(key, str) else tuple(str(k) for k in key or ())
        object.__setattr__(self, "primary_key", keys)
        if self.replace_partitions is not None:
            object.__setattr__(self, "replace_partitions", tuple(self.replace_partitions))
        object.__setattr__(self, "column_specs", normalize_columns(self.columns))

    @property
    def table_name(self) -> str:
        """``schema.table`` as shown in metadata and messages."""
        return format_table_name(self.schema, self.table)


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
