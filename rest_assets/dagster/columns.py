"""What each column of a resource's tables holds, as Dagster's `TableSchema` and lineage.

Every column gets a description: the config's own (`columns: {id: {description: ...}}`),
else what rest-assets knows of it: its own columns (`_ra_load_id`, `_ra_id`,
`_ra_parent_id`, `_ra_root_id`, `_ra_list_idx`, `_ra_partition`), copies of parent fields
(`include_from_parent`), flattened fields (`author__name`: `author.name` of each record),
and plain fields. Primary key columns (and columns configured `nullable: false`) carry
`TableColumnConstraints`.

Column lineage (`dagster/column_lineage`): a copied parent field depends on the parent
asset's column; a child table's `_ra_parent_id` / `_ra_root_id` on the `_ra_id` of the row
it belongs to. Descriptions are plain text: the UI shows them unrendered in places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from rest_assets.config.columns import normalize_columns
from rest_assets.config.models import ColumnConfig
from rest_assets.extract.plan import ResourcePlan
from rest_assets.load.columns import (
    LIST_IDX,
    LOAD_ID,
    PARENT_ID,
    PARTITION_COLUMN,
    ROOT_ID,
    ROW_ID,
)

NESTING = "__"
# the value column of a child table of plain values (a list of strings, numbers...)
VALUE_COLUMN = "value"
INFERRED = "inferred"


@dataclass(frozen=True)
class Copied:
    """A column copied from the parent row (`include_from_parent`)."""

    parent: str  # the parent resource
    field: str  # the field as written (`author.name`)
    parent_column: str  # the parent table's column holding it (`author__name`)
    upstream: bool  # whether the parent is an asset (selected), so lineage can point at it


@dataclass(frozen=True)
class ColumnNotes:
    """What rest-assets knows about the columns of one resource's table."""

    table: str  # the resource's table name
    primary_key: tuple[str, ...] = ()
    configured: Mapping[str, ColumnConfig] = field(default_factory=dict)
    copied: Mapping[str, Copied] = field(default_factory=dict)
    partitioned: bool = False

    def describe(self, name: str, child: str | None = None, child_of: str | None = None) -> str:
        """The description of column `name` of the root table, or of the child table `child`
        whose items belong to the rows of the table `child_of`."""
        lowered = name.lower()
        if child is None:
            configured = _lookup(self.configured, name)
            if configured is not None and configured.description:
                return configured.description
            copied = _lookup(self.copied, name)
            if copied is not None:
                return f"{copied.field} of the parent {copied.parent} row"
        own = self._own(lowered, child_of or self.table)
        if own is not None:
            return own
        dotted = name.replace(NESTING, ".") if NESTING in name.strip("_") else name
        if child is not None:
            items = list_field(child, child_of or self.table)
            if lowered == VALUE_COLUMN:
                return f"The item itself: {items} is a list of plain values"
            return f"{dotted} of each item of {items}"
        return f"{dotted} of each record" + (" (primary key)" if self._key(name) else "")

    def _own(self, lowered: str, child_of: str) -> str | None:
        if lowered == LOAD_ID:
            return "The load that wrote this row (load ids sort by load time)"
        if lowered == ROW_ID:
            return "Row id given by rest-assets; rows of child tables point at it"
        if lowered == PARENT_ID:
            return f"_ra_id of the {child_of} row this list item belongs to"
        if lowered == ROOT_ID:
            return f"_ra_id of the {self.table} row this list item comes from"
        if lowered == LIST_IDX:
            return "Position of the item in its list, from 0"
        if lowered == PARTITION_COLUMN:
            return "Partition key of the run that loaded this row"
        return None

    def _key(self, name: str) -> bool:
        return name.lower() in {k.lower() for k in self.primary_key}

    def constraints(self, name: str) -> dg.TableColumnConstraints | None:
        """Constraints of a root table column: primary key, not null, row id."""
        lowered = name.lower()
        if self._key(name):
            single = len(self.primary_key) == 1
            other = ["primary key"] if single else [f"part of the primary key ({self._keys()})"]
            return dg.TableColumnConstraints(nullable=False, unique=single, other=other)
        if lowered == ROW_ID:
            return dg.TableColumnConstraints(nullable=False, unique=True)
        if lowered == LOAD_ID:
            return dg.TableColumnConstraints(nullable=False)
        configured = _lookup(self.configured, name)
        if configured is not None and not configured.nullable:
            return dg.TableColumnConstraints(nullable=False)
        return None

    def _keys(self) -> str:
        return ", ".join(self.primary_key)

    def column(
        self, name: str, kind: str, child: str | None = None, child_of: str | None = None
    ) -> dg.TableColumn:
        """A Dagster column with its description and constraints (see `describe`)."""
        if child is None:
            constraints = self.constraints(name)
        elif name.lower() == ROW_ID:
            constraints = dg.TableColumnConstraints(nullable=False, unique=True)
        elif name.lower() in (LOAD_ID, PARENT_ID, ROOT_ID, LIST_IDX):
            constraints = dg.TableColumnConstraints(nullable=False)
        else:
            constraints = None
        return dg.TableColumn(
            name=name,
            type=kind,
            description=self.describe(name, child, child_of),
            constraints=constraints,
        )

    def schema(
        self,
        columns: Sequence[tuple[str, str]],
        child: str | None = None,
        child_of: str | None = None,
    ) -> dg.TableSchema:
        """The `TableSchema` of `(name, DuckDB type)` columns of the root table, or of the
        child table `child` (items of the rows of `child_of`)."""
        return dg.TableSchema(columns=[self.column(n, t, child, child_of) for n, t in columns])

    def definition_schema(self) -> dg.TableSchema | None:
        """The schema known before any load: with `columns:` configured, those columns
        (their DuckDB types, else `inferred`), the copied parent fields and rest-assets' own
        columns. Other fields of the records are added by the loads."""
        if not self.configured:
            return None
        specs = normalize_columns({n: c.model_dump() for n, c in self.configured.items()})
        columns = [(name, spec.duckdb_type or INFERRED) for name, spec in specs.items()]
        columns += [(name, INFERRED) for name in self.copied]
        columns += [(LOAD_ID, "VARCHAR"), (ROW_ID, "VARCHAR")]
        if self.partitioned:
            columns.append((PARTITION_COLUMN, "VARCHAR"))
        return self.schema(columns)

    def copied_lineage(
        self, parent_key: dg.AssetKey | None, present: Sequence[str] | None = None
    ) -> dg.TableColumnLineage | None:
        """Lineage of the copied parent fields (those in `present`, when given)."""
        if parent_key is None:
            return None
        names = {n.lower(): n for n in present} if present is not None else None
        deps: dict[str, list[dg.TableColumnDep]] = {}
        for column, copied in self.copied.items():
            if not copied.upstream:
                continue
            actual = column if names is None else names.get(column.lower())
            if actual is not None:
                deps[actual] = [dg.TableColumnDep(parent_key, copied.parent_column)]
        return dg.TableColumnLineage(deps_by_column=deps) if deps else None


def child_lineage(
    key: dg.AssetKey, root: str, child_of: str, columns: Sequence[tuple[str, str]]
) -> dg.TableColumnLineage | None:
    """A child table's links to the asset's rows: `_ra_root_id` (and `_ra_parent_id`, when
    the items belong to the root table itself) depend on the asset's `_ra_id`."""
    present = {n.lower(): n for n, _ in columns}
    deps: dict[str, list[dg.TableColumnDep]] = {}
    if ROOT_ID in present:
        deps[present[ROOT_ID]] = [dg.TableColumnDep(key, ROW_ID)]
    if PARENT_ID in present and child_of.lower() == root.lower():
        deps[present[PARENT_ID]] = [dg.TableColumnDep(key, ROW_ID)]
    return dg.TableColumnLineage(deps_by_column=deps) if deps else None


def notes_for(plan: ResourcePlan, table: str, partitioned: bool) -> ColumnNotes:
    """The column notes of a resource's table."""
    resource = plan.resource
    copied: dict[str, Copied] = {}
    if plan.parent is not None:
        prefix = f"_{plan.parent}_"
        for name in resource.include_from_parent:
            path = plan.fields[name]
            parent_column = path.column if path.is_flat else str(path.segments[0])
            copied[f"{prefix}{path.suffix}"] = Copied(
                plan.parent, path.text, parent_column, upstream=plan.parent == plan.upstream
            )
    keys = list(resource.primary_key)
    keys += [n for n, c in resource.columns.items() if c.primary_key and n not in keys]
    return ColumnNotes(table, tuple(keys), dict(resource.columns), copied, partitioned)


def parent_table(child: str, tables: Sequence[str]) -> str:
    """The table whose rows a child table's items belong to: the longest other table name
    the child's name extends (`posts__comments__likes` -> `posts__comments`)."""
    best = ""
    for name in tables:
        if len(name) > len(best) and child.lower().startswith(name.lower() + NESTING):
            best = name
    return best or child.split(NESTING, 1)[0]


def list_field(child: str, child_of: str) -> str:
    """The field a child table's items come from, dotted: `posts__comments__likes` under
    `posts__comments` -> `likes`; under `posts` -> `comments.likes`."""
    rest = (
        child[len(child_of) + len(NESTING) :]
        if child.lower().startswith(child_of.lower() + NESTING)
        else child
    )
    return rest.replace(NESTING, ".")


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    if name in values:
        return values[name]
    lowered = name.lower()
    return next((v for k, v in values.items() if k.lower() == lowered), None)
