"""How records become tables, as configured: naming, type inference, merge strategies and
schema contracts, in dlt's shapes.

- ``naming: snake_case | direct`` and ``type_inference: dlt | duckdb`` (source keys);
- ``write_disposition: {disposition: merge, strategy: delete-insert | upsert | scd2 |
  insert-only, ...}`` with dlt's strategy options (:class:`MergeStrategyConfig`);
- ``schema_contract: evolve | freeze | discard_row | discard_value`` or
  ``{tables, columns, data_type}`` (:class:`SchemaContractConfig`), on a source, a resource
  or ``resource_defaults``.

These models only check the shapes; the load layer applies them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

Naming = Literal["snake_case", "direct"]
TypeInference = Literal["dlt", "duckdb"]
ContractMode = Literal["evolve", "freeze", "discard_row", "discard_value"]
CONTRACT_MODES: tuple[str, ...] = ("evolve", "freeze", "discard_row", "discard_value")
MergeStrategy = Literal["delete-insert", "upsert", "scd2", "insert-only"]
MERGE_STRATEGIES: tuple[str, ...] = ("delete-insert", "upsert", "scd2", "insert-only")

# dlt's destination formats: accepted with a warning (DuckDB tables are what rest-assets writes)
TableFormat = Literal["iceberg", "delta", "hive", "native"]
FileFormat = Literal[
    "preferred", "jsonl", "typed-jsonl", "insert_values", "parquet", "csv", "reference", "model"
]

# the options each strategy takes (dlt 1.31's typed dicts)
_OPTIONS: dict[str, tuple[str, ...]] = {
    "delete-insert": ("deduplicated", "source_filter", "destination_scope"),
    "upsert": ("skip_unchanged_rows", "row_version_column_name", "source_filter"),
    "insert-only": ("source_filter",),
    "scd2": (
        "validity_column_names",
        "active_record_timestamp",
        "boundary_timestamp",
        "row_version_column_name",
        "source_filter",
        "destination_scope",
    ),
}

DEFAULT_VALIDITY_COLUMNS = ("_dlt_valid_from", "_dlt_valid_to")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemaContractConfig(_Strict):
    """What a load does with a new table, a new column or a value of another type: evolve
    (accept), freeze (fail the load; nothing changes), discard_row (drop the record) or
    discard_value (drop the value). Unset entities evolve."""

    tables: ContractMode = "evolve"
    columns: ContractMode = "evolve"
    data_type: ContractMode = "evolve"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # dlt: a mode alone applies to all three entities
        if isinstance(value, str):
            if value not in CONTRACT_MODES:
                raise ValueError(
                    f"schema_contract must be one of {', '.join(CONTRACT_MODES)} or a mapping "
                    f"of tables / columns / data_type to one of them, got {value!r}"
                )
            return {"tables": value, "columns": value, "data_type": value}
        if isinstance(value, dict):
            # dlt allows an explicit null: that entity evolves
            return {k: v for k, v in value.items() if v is not None}
        return value


class MergeStrategyConfig(_Strict):
    """A merge strategy and its options, from ``write_disposition: {disposition: merge,
    strategy: ..., ...}``."""

    strategy: MergeStrategy = "delete-insert"
    deduplicated: bool = False
    source_filter: str | None = None
    destination_scope: str | None = None
    skip_unchanged_rows: bool = False
    row_version_column_name: str | None = None
    validity_column_names: tuple[str, str] = DEFAULT_VALIDITY_COLUMNS
    active_record_timestamp: str | None = None
    boundary_timestamp: str | None = None

    @field_validator("active_record_timestamp", "boundary_timestamp", mode="before")
    @classmethod
    def _timestamp_text(cls, value: Any) -> Any:
        # YAML reads 9999-12-31 as a date: the load takes it as text
        return None if value is None else str(value)

    @field_validator("validity_column_names", mode="before")
    @classmethod
    def _two_names(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(
                "validity_column_names takes two column names, e.g. [valid_from, valid_to]"
            )
        return tuple(value)


def split_write_disposition(value: Any) -> tuple[Any, dict[str, Any] | None]:
    """dlt's ``write_disposition`` (a name, or ``{disposition, strategy, ...}``) as the
    disposition and the merge strategy's settings (None: a plain disposition)."""
    if not isinstance(value, dict):
        _check_disposition(value)
        return value, None
    if "disposition" not in value:
        raise ValueError(
            "write_disposition as a mapping needs a disposition, e.g. "
            "{disposition: merge, strategy: upsert}"
        )
    options = dict(value)
    disposition = options.pop("disposition", None)
    _check_disposition(disposition)
    if disposition != "merge":
        if options:
            raise ValueError(
                f"write_disposition {disposition!r} takes no options (got "
                f"{', '.join(sorted(options))}); strategies and their options are for merge"
            )
        return disposition, None
    strategy = options.get("strategy", "delete-insert")
    if strategy == "cdc":
        raise ValueError(
            "merge strategy cdc is not supported; use strategy: upsert with a hard_delete "
            "column hint (columns: {deleted: {hard_delete: true}})"
        )
    if strategy not in _OPTIONS:
        raise ValueError(
            f"unknown merge strategy {strategy!r}; strategies: {', '.join(MERGE_STRATEGIES)}"
        )
    allowed = set(_OPTIONS[strategy])
    extra = sorted(k for k in options if k != "strategy" and k not in allowed)
    if extra:
        raise ValueError(
            f"merge strategy {strategy} does not take {', '.join(extra)}; it takes "
            f"{', '.join(sorted(allowed))}"
        )
    return "merge", options


def _check_disposition(value: Any) -> None:
    if value == "skip":
        raise ValueError(
            "write_disposition skip is not supported (dlt's DuckDB loader refuses it too); "
            "set selected: false on a resource that should not be loaded"
        )
    if not isinstance(value, dict) and value not in ("append", "replace", "merge"):
        raise ValueError(
            f"write_disposition must be append, replace or merge (or "
            f"{{disposition: merge, strategy: ...}}), got {value!r}"
        )
