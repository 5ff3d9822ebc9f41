"""What an asset definition says before any run: where its table is, what it requests or
sends, which config line made it.

Resource assets: the table's address (`rest_assets.dagster.metadata.TableAddress`), the
column schema when `columns:` are configured, the request (`rest_assets.dagster.
request_shape`) or, for a Python resource, `records_from`; `write_disposition`,
`primary_key`; `dagster/code_references` to the resource's line in the config file. Output
assets: what they send where (`destination`, `source_table`, `columns_sent`,
`idempotency_key`, `batch_size`) and their config line.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.config.locations import ConfigLocation
from rest_assets.config.models import OutputConfig, ResourceConfig, SourceConfig
from rest_assets.dagster.columns import ColumnNotes
from rest_assets.dagster.metadata import TableAddress
from rest_assets.dagster.request_shape import request_metadata
from rest_assets.http.redact import redact_url

CODE_REFERENCES_KEY = "dagster/code_references"
OWN_COLUMN_PREFIX = "_ra_"


def records_origin(resource: ResourceConfig) -> str:
    """Where a Python resource's records come from, in words."""
    records = resource.records
    if isinstance(records, str):
        return f"the Python function {records}"
    if callable(records):
        module = getattr(records, "__module__", None)
        name = getattr(records, "__qualname__", None) or getattr(records, "__name__", "")
        return f"the Python function {module}:{name}" if module else f"the Python function {name}"
    count = len(records) if isinstance(records, list | tuple) else 0
    return f"{count} record{'' if count == 1 else 's'} given in the config"


def resource_metadata(
    source: SourceConfig,
    resource: ResourceConfig,
    address: TableAddress,
    notes: ColumnNotes,
    location: ConfigLocation | None,
) -> dict[str, Any]:
    """The definition metadata of a resource's asset."""
    out: dict[str, Any] = address.metadata()
    schema = notes.definition_schema()
    if schema is not None:
        out["dagster/column_schema"] = dg.MetadataValue.table_schema(schema)
    if resource.records is not None:
        out["records_from"] = dg.MetadataValue.text(records_origin(resource))
    else:
        out.update(request_metadata(source, resource))
    out["write_disposition"] = dg.MetadataValue.text(resource.write_disposition)
    if resource.primary_key:
        out["primary_key"] = dg.MetadataValue.text(", ".join(resource.primary_key))
    if location is not None:
        out[CODE_REFERENCES_KEY] = code_references(location, f"{source.name}/{resource.name}")
    return out


def output_metadata(
    source: SourceConfig,
    output: OutputConfig,
    table: TableAddress,
    order_by: Sequence[str],
    location: ConfigLocation | None,
) -> dict[str, Any]:
    """The definition metadata of an output asset: what it sends, where, how."""
    out: dict[str, Any] = {
        "destination": dg.MetadataValue.text(f"{output.method} {destination_url(source, output)}"),
        "source_table": dg.MetadataValue.text(table.name),
        "columns_sent": dg.MetadataValue.text(columns_sent(output)),
        "idempotency_key": dg.MetadataValue.text(idempotency(output, order_by)),
        "batch_size": dg.MetadataValue.int(output.batch_size),
    }
    if location is not None:
        out[CODE_REFERENCES_KEY] = code_references(location, f"{source.name}/{output.name}")
    return out


def destination_url(source: SourceConfig, output: OutputConfig) -> str:
    """Where an output sends its batches (redacted)."""
    if output.path.startswith(("http://", "https://")):
        return redact_url(output.path)
    return f"{redact_url(source.client.base_url).rstrip('/')}/{output.path.lstrip('/')}"


def columns_sent(output: OutputConfig) -> str:
    """The columns an output sends, in words."""
    if output.columns:
        return ", ".join(output.columns)
    return f"every column but rest-assets' own ({OWN_COLUMN_PREFIX}*)"


def idempotency(output: OutputConfig, order_by: Sequence[str]) -> str:
    """How an output's batches are keyed, in words."""
    header = output.idempotency_header
    order = list(output.idempotency_key) or list(order_by)
    ordered = f"rows in order of {', '.join(order)}" if order else "rows in order of every column"
    if header is None:
        return f"none sent; {ordered}"
    return f"{header} header, a hash of each batch; {ordered}"


def code_references(location: ConfigLocation, what: str) -> dg.CodeReferencesMetadataValue:
    """A code reference to a line of the config file."""
    label = f"{Path(location.file).name}: {what}"
    # Dagster marks these classes beta and warns on every construction: one warning per
    # asset on every definitions load is noise, so it is silenced here only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        reference = dg.LocalFileCodeReference(
            file_path=location.file, line_number=location.line, label=label
        )
        return dg.CodeReferencesMetadataValue(code_references=[reference])
