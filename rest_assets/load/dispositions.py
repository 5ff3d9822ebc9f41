"""What a write disposition does to the tables, inside the commit's transaction.

Every statement runs in the load's one transaction, so a failure anywhere leaves every table
as it was. The root table's rows are read from one relation per load (:class:`Rows`: the
staged records flattened and cast to the table's types, minus the rows a schema contract
discarded); child rows follow the root rows actually inserted.

- ``append``: insert every row.
- ``replace``: delete the table's rows and their child rows, then insert. With
  ``replace_partitions`` only those partitions' rows go; in a table several resources share,
  only this resource's rows (and rows from before the table was shared).
- ``merge`` with ``delete-insert`` (the default): keys are the ``primary_key`` and the
  ``merge_key``. The load's records are de-duplicated by primary key (the last record of a
  key wins, or the one a ``dedup_sort`` column ranks first; ``deduplicated: true`` skips
  this); table rows whose primary key, or whose merge key, is in the load are deleted with
  their child rows; then the records are inserted, except those a ``hard_delete`` column
  flags (true for a boolean column, any value otherwise). Without keys a merge appends.
- ``upsert``: by primary key only (a merge key is ignored, as in dlt): de-duplicated, rows
  of the load's keys replaced, flagged records delete their key and are never inserted;
  ``skip_unchanged_rows`` leaves rows equal to their record untouched (compared on
  ``row_version_column_name`` when given).
- ``insert-only``: records whose primary key the table lacks are inserted, nothing else
  changes.
- ``scd2``: each record version is identified by a hash of the record (or
  ``row_version_column_name``); active table rows whose version is not in the load are
  retired (their ``valid_to`` set to the boundary timestamp) — within the load's merge keys
  when there is a ``merge_key`` —, and versions new to the table are inserted with
  ``valid_from`` = the boundary and ``valid_to`` NULL (or ``active_record_timestamp``).
  Flagged (``hard_delete``) records retire their key's version and insert nothing.
  Identical records of one load are inserted once. Child rows are inserted with new
  versions only, never deleted.

``source_filter`` keeps only the load's rows matching an SQL condition (over the table's
column names); ``destination_scope`` limits the table rows a merge may delete or retire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from rest_assets.load.catalog import Catalog
from rest_assets.load.column_types import canonical_type
from rest_assets.load.columns import (
    LOAD_ID,
    PARENT_ID,
    PARTITION_COLUMN,
    POS,
    RESOURCE_COLUMN,
    ROOT_ID,
    ROW_ID,
)
from rest_assets.load.errors import LoadError
from rest_assets.load.evolve import EvolvedTable
from rest_assets.load.naming import normalize_key
from rest_assets.load.plan import TablePlan, TempNames
from rest_assets.load.spec import LoadSpec
from rest_assets.load.sql import quote_ident, quote_literal

SYSTEM_COLUMNS = frozenset(
    c.lower() for c in (LOAD_ID, ROW_ID, PARTITION_COLUMN, RESOURCE_COLUMN, PARENT_ID, ROOT_ID)
)


@dataclass
class Prepared:
    """A planned table, its target table as evolved, and how its rows are read."""

    plan: TablePlan
    table: EvolvedTable | None  # None: a schema contract discarded this (new) table
    select: list[tuple[str, str]]  # target column, expression over the flat relation
    keep: list[str] = field(default_factory=list)  # contract conditions on the flat rows

    @property
    def skipped(self) -> bool:
        return self.table is None


@dataclass
class Outcome:
    written: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    deleted: int = 0  # root rows deleted (merge, replace) or retired (scd2)


def validity_columns(spec: LoadSpec) -> tuple[str, str] | None:
    """The scd2 validity columns (from, to) under the load's naming; None for other loads."""
    if spec.write_disposition != "merge" or spec.strategy != "scd2" or spec.merge is None:
        return None
    start, end = spec.merge.validity_column_names
    return normalize_key(start, spec.naming), normalize_key(end, spec.naming)


def reserved_columns(spec: LoadSpec) -> tuple[str, ...]:
    """Root column names a record field may not take in this load (they are the merge's)."""
    return validity_columns(spec) or ()


class Dispositions:
    """Deletes and inserts of one load (the transaction is open)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        catalog: Catalog,
        spec: LoadSpec,
        names: TempNames,
    ) -> None:
        self.con = con
        self.catalog = catalog
        self.spec = spec
        self.names = names
        self.outcome = Outcome()

    def target(self, table: str) -> str:
        return self.catalog.qualified(self.spec.schema, table)

    # ------------------------------------------------------------------------ entry points

    def write(self, prepared: list[Prepared], children: list[str]) -> Outcome:
        """Apply the disposition to the root table (``prepared[0]``), its existing child
        tables ``children`` and the planned child tables."""
        root = prepared[0]
        assert root.table is not None
        rows = self.rows(root)
        spec = self.spec
        if spec.write_disposition == "replace":
            self.clear(root.table.name, children)
            inserted = self.insert_root(root, rows, rows)
        elif spec.write_disposition == "merge" and spec.strategy == "scd2":
            inserted = self.scd2(root, rows)
        elif spec.write_disposition == "merge" and (spec.primary_key or spec.merge_key):
            inserted = self.merge(root, rows, children)
        else:
            inserted = self.insert_root(root, rows, rows)
        self.insert_children(
            prepared, inserted, root_filtered=inserted != rows.flat or rows.filtered
        )
        return self.outcome

    def clear_only(self, root: str, children: list[str]) -> Outcome:
        """A load of no records: only a replace changes anything (it empties the table)."""
        if self.spec.write_disposition == "replace":
            self.clear(root, children)
        return self.outcome

    # ------------------------------------------------------------------------ the rows

    def rows(self, root: Prepared) -> Rows:
        """The load's root rows as one relation in the table's columns (plus their staging
        position), after the contract's and the ``source_filter``'s conditions."""
        cols = ", ".join(f"{e} AS {quote_ident(n)}" for n, e in root.select)
        inner = f"SELECT {cols}, {POS} FROM {root.plan.flat}"
        if root.keep:
            inner += f" WHERE {' AND '.join(root.keep)}"
        source_filter = self.spec.merge.source_filter if self.spec.merge is not None else None
        if source_filter:
            # the filter speaks of the table's columns: apply it to the cast values
            inner = f"SELECT * FROM ({inner}) WHERE ({source_filter})"
        view = self.names("rows")
        self.con.execute(f"CREATE TEMP VIEW {view} AS {inner}")
        return Rows(view, [n for n, _ in root.select], bool(root.keep or source_filter))

    def dedup(self, rows: Rows, keys: Sequence[str]) -> Rows:
        """One row per key value: the last record of the load, or the first by dedup_sort."""
        order = f"{POS} DESC"
        sort = self.spec.dedup_sort
        if sort is not None and self.has(rows, sort.name):
            direction = "DESC" if sort.dedup_sort == "desc" else "ASC"
            order = f"{quote_ident(self.column(rows, sort.name))} {direction}, {order}"
        partition = ", ".join(quote_ident(self.column(rows, k)) for k in keys)
        table = self.names("kept")
        # ORDER BY: the survivors keep staging order (a window's output order is arbitrary)
        self.con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT * FROM {rows.flat} QUALIFY row_number() "
            f"OVER (PARTITION BY {partition} ORDER BY {order}) = 1 ORDER BY {POS}"
        )
        return Rows(table, rows.columns, True)

    def has(self, rows: Rows, name: str) -> bool:
        return any(c.lower() == name.lower() for c in rows.columns)

    def column(self, rows: Rows, name: str) -> str:
        for c in rows.columns:
            if c.lower() == name.lower():
                return c
        raise KeyError(name)

    def key_columns(self, rows: Rows, keys: Sequence[str], what: str) -> list[str]:
        missing = [k for k in keys if not self.has(rows, k)]
        if missing:
            raise LoadError(
                f"{what} column(s) {', '.join(missing)} not found in the records of "
                f"{self.spec.schema}.{self.spec.table}; columns: {', '.join(rows.columns)}"
            )
        return [self.column(rows, k) for k in keys]

    def flagged(self, root: Prepared, alias: str = "") -> str | None:
        """SQL true for a row its hard_delete column marks deleted (None: no such column)."""
        hint = self.spec.hard_delete
        if hint is None or root.table is None:
            return None
        found = root.table.columns.get(hint.name.lower())
        if found is None:
            return None
        name, dtype = found
        ref = f"{alias}{quote_ident(name)}"
        if canonical_type(dtype) == "BOOLEAN":
            return f"coalesce({ref}, false)"
        return f"{ref} IS NOT NULL"

    # ------------------------------------------------------------------------ scopes

    def scope(self, table: str, alias: str = "") -> list[str]:
        """Conditions on a table's rows that this load may replace or retire: its
        partitions, its resource's rows in a shared table."""
        spec = self.spec
        present = {n.lower() for n, _ in self.catalog.columns(spec.schema, table)}
        out = []
        if spec.replace_partitions is not None and spec.write_disposition == "replace":
            keys = ", ".join(quote_literal(k) for k in spec.replace_partitions)
            if PARTITION_COLUMN in present:
                out.append(f"{alias}{quote_ident(PARTITION_COLUMN)} IN ({keys})")
            else:
                out.append("false")  # no row was ever loaded for a partition
        if spec.resource is not None and RESOURCE_COLUMN in present:
            # rows from before the table was shared have no resource: the first replace
            # takes them
            col = f"{alias}{quote_ident(RESOURCE_COLUMN)}"
            out.append(f"({col} = {quote_literal(spec.resource)} OR {col} IS NULL)")
        return out

    # ------------------------------------------------------------------------ replace

    def clear(self, root: str, children: list[str]) -> None:
        """Delete the rows a replace replaces, child rows first."""
        conditions = self.scope(root)
        if not conditions:
            for name in [root, *children]:
                self.con.execute(f"DELETE FROM {self.target(name)}")
            return
        where = " AND ".join(conditions)
        root_target = self.target(root)
        for child in children:
            self.con.execute(
                f"DELETE FROM {self.target(child)} WHERE {ROOT_ID} IN "
                f"(SELECT {ROW_ID} FROM {root_target} WHERE {where})"
            )
        row = self.con.execute(f"DELETE FROM {root_target} WHERE {where}").fetchone()
        self.outcome.deleted += int(row[0]) if row else 0

    # ------------------------------------------------------------------------ merges

    def merge(self, root: Prepared, rows: Rows, children: list[str]) -> str:
        """delete-insert, upsert and insert-only; returns the relation of inserted rows."""
        spec = self.spec
        assert root.table is not None
        strategy = spec.strategy
        pk = self.key_columns(rows, spec.primary_key, "primary key") if spec.primary_key else []
        mk: list[str] = []
        if strategy == "delete-insert" and spec.merge_key:
            mk = self.key_columns(rows, spec.merge_key, "merge key")
        deduplicated = spec.merge is not None and spec.merge.deduplicated
        kept = self.dedup(rows, pk) if pk and not deduplicated else rows
        flagged = self.flagged(root)
        if strategy == "insert-only":
            return self.insert_new_keys(root, kept, pk, flagged)
        unchanged = None
        if strategy == "upsert" and spec.merge is not None and spec.merge.skip_unchanged_rows:
            unchanged = self.unchanged(root, kept, pk)
            kept = self.without(kept, unchanged)
        for keys in ([pk] if pk else []) + ([mk] if mk else []):
            self.delete_matching(root.table.name, kept, keys, children)
        insert = kept if flagged is None else self.where(kept, f"NOT ({flagged})")
        return self.insert_root(root, insert, rows)

    def unchanged(self, root: Prepared, kept: Rows, pk: list[str]) -> str:
        """The ids of loaded rows equal to their table row (skip_unchanged_rows)."""
        assert root.table is not None and self.spec.merge is not None
        version = self.spec.merge.row_version_column_name
        if version:
            compared = [self.column(kept, normalize_key(version, self.spec.naming))]
        else:
            compared = [c for c in kept.columns if c.lower() not in SYSTEM_COLUMNS]
        match = " AND ".join(
            f"t.{quote_ident(c)} IS NOT DISTINCT FROM s.{quote_ident(c)}"
            for c in dict.fromkeys([*pk, *compared])
        )
        table = self.names("same")
        self.con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT s.{ROW_ID} AS id FROM {kept.flat} s "
            f"WHERE EXISTS (SELECT 1 FROM {self.target(root.table.name)} t WHERE {match})"
        )
        return table

    def without(self, rows: Rows, ids: str) -> Rows:
        return self.where(rows, f"{ROW_ID} NOT IN (SELECT id FROM {ids})")

    def snapshot(self, rows: Rows, source: Rows) -> Rows:
        """``rows`` as they are now: a view that compares with the target table would see the
        rows the insert adds; its row ids are fixed first (they are unique in ``source``)."""
        ids = self.names("ids")
        self.con.execute(f"CREATE TEMP TABLE {ids} AS SELECT {ROW_ID} AS id FROM {rows.flat}")
        return self.where(source, f"{ROW_ID} IN (SELECT id FROM {ids})")

    def where(self, rows: Rows, condition: str) -> Rows:
        view = self.names("rows")
        self.con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {rows.flat} WHERE {condition}")
        return Rows(view, rows.columns, True)

    def delete_matching(self, table: str, kept: Rows, keys: list[str], children: list[str]) -> None:
        """Delete table rows whose ``keys`` values are in the load (and their child rows)."""
        staged = ", ".join(
            f"{quote_ident(k)} AS {quote_ident(f'__ra_k{i}')}" for i, k in enumerate(keys)
        )
        match = " AND ".join(
            f"t.{quote_ident(k)} IS NOT DISTINCT FROM s.{quote_ident(f'__ra_k{i}')}"
            for i, k in enumerate(keys)
        )
        scope = self.destination_scope()
        if scope:
            match += f" AND ({scope})"
        source = f"(SELECT DISTINCT {staged} FROM {kept.flat})"
        target = self.target(table)
        if children:
            replaced = self.names("replaced")
            self.con.execute(
                f"CREATE TEMP TABLE {replaced} AS SELECT t.{ROW_ID} AS id FROM {target} t "
                f"JOIN {source} s ON {match}"
            )
            for child in children:
                self.con.execute(
                    f"DELETE FROM {self.target(child)} "
                    f"WHERE {ROOT_ID} IN (SELECT id FROM {replaced})"
                )
        row = self.con.execute(f"DELETE FROM {target} t USING {source} s WHERE {match}").fetchone()
        self.outcome.deleted += int(row[0]) if row else 0

    def destination_scope(self) -> str | None:
        merge = self.spec.merge
        return merge.destination_scope if merge is not None else None

    def insert_new_keys(
        self, root: Prepared, kept: Rows, pk: list[str], flagged: str | None
    ) -> str:
        assert root.table is not None
        match = " AND ".join(
            f"t.{quote_ident(k)} IS NOT DISTINCT FROM s.{quote_ident(k)}" for k in pk
        )
        condition = f"NOT EXISTS (SELECT 1 FROM {self.target(root.table.name)} t WHERE {match})"
        if flagged is not None:
            condition += f" AND NOT ({flagged})"
        view = self.names("rows")
        self.con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT * FROM {kept.flat} s WHERE {condition}"
        )
        return self.insert_root(root, self.snapshot(Rows(view, kept.columns, True), kept), kept)

    # ------------------------------------------------------------------------ scd2

    def scd2(self, root: Prepared, rows: Rows) -> str:
        spec = self.spec
        assert root.table is not None and spec.merge is not None
        columns = validity_columns(spec)
        assert columns is not None
        valid_from, valid_to = (quote_ident(root.table.columns[c.lower()][0]) for c in columns)
        merge = spec.merge
        version_column = (
            self.key_columns(
                rows, [normalize_key(merge.row_version_column_name, spec.naming)], "row version"
            )[0]
            if merge.row_version_column_name
            else ROW_ID
        )
        version = quote_ident(version_column)
        active_value = (
            f"CAST({quote_literal(merge.active_record_timestamp)} AS TIMESTAMPTZ)"
            if merge.active_record_timestamp
            else "NULL"
        )
        boundary = (
            f"CAST({quote_literal(merge.boundary_timestamp)} AS TIMESTAMPTZ)"
            if merge.boundary_timestamp
            else "now()"
        )
        kept = self.dedup(rows, [version_column])
        flagged = self.flagged(root)
        live = kept if flagged is None else self.where(kept, f"NOT ({flagged})")
        target = self.target(root.table.name)

        def active(alias: str) -> str:
            if merge.active_record_timestamp:
                return f"{alias}{valid_to} = {active_value}"
            return f"{alias}{valid_to} IS NULL"

        scope = [active("t."), *self.scope(root.table.name, "t.")]
        if spec.merge_key:
            mk = self.key_columns(rows, spec.merge_key, "merge key")
            match = " AND ".join(
                f"s.{quote_ident(k)} IS NOT DISTINCT FROM t.{quote_ident(k)}" for k in mk
            )
            scope.append(f"EXISTS (SELECT 1 FROM {kept.flat} s WHERE {match})")
        if merge.destination_scope:
            scope.append(f"({merge.destination_scope})")
        retire = (
            f"UPDATE {target} t SET {valid_to} = {boundary} WHERE {' AND '.join(scope)} AND "
            f"NOT EXISTS (SELECT 1 FROM {live.flat} s WHERE s.{version} IS NOT DISTINCT FROM "
            f"t.{version})"
        )
        row = self.con.execute(retire).fetchone()
        self.outcome.deleted += int(row[0]) if row else 0
        still_active = " AND ".join([active("t."), *self.scope(root.table.name, "t.")])
        new = self.where(
            live,
            f"NOT EXISTS (SELECT 1 FROM {target} t WHERE {still_active} AND "
            f"t.{version} IS NOT DISTINCT FROM {live.flat}.{version})",
        )
        extra = [(valid_from, boundary), (valid_to, active_value)]
        return self.insert_root(root, self.snapshot(new, live), rows, extra)

    # ------------------------------------------------------------------------ inserts

    def insert_root(
        self,
        root: Prepared,
        insert: Rows,
        rows: Rows,
        extra: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Insert the root rows of ``insert``; returns the relation of the inserted rows."""
        assert root.table is not None
        cols = [quote_ident(n) for n in insert.columns] + [c for c, _ in extra]
        values = [quote_ident(n) for n in insert.columns] + [v for _, v in extra]
        row = self.con.execute(
            f"INSERT INTO {self.target(root.table.name)} ({', '.join(cols)}) "
            f"SELECT {', '.join(values)} FROM {insert.flat}"
        ).fetchone()
        self.outcome.written[root.table.name] = int(row[0]) if row else 0
        return insert.flat

    def insert_children(self, prepared: list[Prepared], roots: str, *, root_filtered: bool) -> None:
        """Insert each child table's rows: of the inserted root rows only, and of parent rows
        a contract kept. A new child table that stayed empty is dropped again."""
        kept: dict[int, str | None] = {
            0: f"SELECT {ROW_ID} FROM {roots}" if root_filtered else None
        }
        scd2 = validity_columns(self.spec) is not None
        for index, p in enumerate(prepared):
            if index == 0:
                continue
            parent = p.plan.parent if p.plan.parent is not None else 0
            if p.skipped or prepared[parent].skipped:
                prepared[index].table = None  # its parent's rows did not go in: neither do these
                continue
            assert p.table is not None
            conditions = list(p.keep)
            parent_ids = kept.get(parent)
            if parent_ids is not None and parent == 0:
                conditions.append(f"{ROOT_ID} IN ({parent_ids})")
            elif parent_ids is not None:
                conditions.append(f"{PARENT_ID} IN ({parent_ids})")
            if scd2:
                # versions already in the table keep their child rows
                conditions.append(
                    f"{ROW_ID} NOT IN (SELECT {ROW_ID} FROM {self.target(p.table.name)})"
                )
            where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            kept[index] = f"SELECT {ROW_ID} FROM {p.plan.flat}{where}" if where else None
            cols = ", ".join(quote_ident(n) for n, _ in p.select)
            values = ", ".join(e for _, e in p.select)
            # scd2: identical records of one load share their row ids, and so their child rows
            distinct = f"DISTINCT ON ({ROW_ID}) " if scd2 else ""
            row = self.con.execute(
                f"INSERT INTO {self.target(p.table.name)} ({cols}) "
                f"SELECT {distinct}{values} FROM {p.plan.flat}{where}"
            ).fetchone()
            count = int(row[0]) if row else 0
            if p.table.created and count == 0:
                # an always-empty list: no child table for it (yet)
                self.con.execute(f"DROP TABLE {self.target(p.table.name)}")
                continue
            self.outcome.written[p.table.name] = count


@dataclass(frozen=True)
class Rows:
    """A relation of root rows in the table's columns (and ``__ra_pos``)."""

    flat: str
    columns: list[str]
    filtered: bool = False  # some loaded rows are not in it
