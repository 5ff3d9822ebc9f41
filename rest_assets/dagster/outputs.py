"""Output assets: the reverse direction, rows of a DuckDB table POSTed to an API in batches.

An output is configured under a source (`outputs:`) and uses that source's client: base
URL, headers, auth, rate limit and retries. Its asset depends on the asset whose table it
sends, so the lineage shows `blog/posts -> blog/publish_posts`. Rows are first copied out of
DuckDB into a Parquet snapshot (the file lock is held for that copy only), then sent batch
by batch in a stable order, each batch with an `Idempotency-Key` derived from its content:
a re-run over unchanged data sends the same keys, which APIs that honour them deduplicate.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.config.models import OutputConfig, SourceConfig
from rest_assets.dagster.definition_metadata import (
    OWN_COLUMN_PREFIX,
    columns_sent,
    destination_url,
    idempotency,
    output_metadata,
)
from rest_assets.dagster.io_manager import IO_MANAGER_KEY, table_for_key
from rest_assets.dagster.metadata import TableAddress, schema_and_table
from rest_assets.dagster.naming import asset_key, key_columns, schema_name, table_name
from rest_assets.dagster.progress import Progress
from rest_assets.dagster.specs import SpecContext
from rest_assets.errors import ConfigError
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.records import auth_spec
from rest_assets.http.sender import BatchSender
from rest_assets.load import LoadError, snapshot_to_parquet, tempdirs

# An output reads a table and sends its rows: kinds say both, and that it is not an ingestion.
OUTPUT_KINDS = ("rest", "duckdb", "reverse_etl")


@dataclass(frozen=True)
class Upstream:
    """Where an output's rows come from: the asset (for lineage) and its DuckDB table."""

    key: dg.AssetKey
    schema: str
    table: str
    order_by: tuple[str, ...] = ()


def resolve_upstream(
    output: OutputConfig, source: SourceConfig, sources: Sequence[SourceConfig], where: str
) -> Upstream:
    """Turn `from:` into an asset key and a table, failing at load time when it is unknown."""
    ref = output.from_.strip()
    by_name = {s.name: s for s in sources}
    if "/" in ref:
        prefix, _, name = ref.rpartition("/")
        owner = by_name.get(prefix)
        if owner is not None:
            return _resource_upstream(owner, name, f"{where}.from")
        key = dg.AssetKey([*prefix.split("/"), name])
        schema, table = table_for_key(key)
        return Upstream(key, schema, table)
    if "." in ref:
        try:
            schema, table = schema_and_table(ref)  # database.schema.table or schema.table
        except ValueError as exc:
            raise ConfigError(f"{where}.from: {exc}") from None
        for candidate in sources:
            if schema_name(candidate) == schema:
                for resource in candidate.resources:
                    if table_name(candidate, resource) == table:
                        return _resource_upstream(candidate, resource.name, f"{where}.from")
        return Upstream(dg.AssetKey([schema, table]), schema, table)
    return _resource_upstream(source, ref, f"{where}.from")


def _resource_upstream(source: SourceConfig, name: str, where: str) -> Upstream:
    try:
        resource = source.resource(name)
    except KeyError:
        known = ", ".join(r.name for r in source.resources) or "none"
        raise ConfigError(
            f"{where}: source {source.name!r} has no resource {name!r} (resources: {known}); "
            "write a resource name, source/resource, or a table as schema.table"
        ) from None
    return Upstream(
        asset_key(source, resource.name),
        schema_name(source),
        table_name(source, resource),
        tuple(key_columns(source, resource.primary_key)),
    )


def output_assets_for(
    source: SourceConfig,
    sources: Sequence[SourceConfig],
    where: str,
    clients: SourceClients,
    context: SpecContext | None = None,
) -> list[dg.AssetsDefinition]:
    """One asset per configured output of a source, sending through the source's clients."""
    return [
        _make_output_asset(
            source,
            output,
            resolve_upstream(output, source, sources, f"{where}.outputs[{i}]({output.name})"),
            clients,
            context or SpecContext(),
        )
        for i, output in enumerate(source.outputs)
    ]


def describe_output(
    source: SourceConfig, output: OutputConfig, upstream: Upstream, table: str
) -> str:
    """An output's description, plain text: the config's own, then what it sends where."""
    lines = [output.description or f"{source.name}: {output.name}", ""]
    lines.append(
        f"Sends the rows of {table} to {output.method} {destination_url(source, output)} in "
        f"batches of {output.batch_size} (columns: {columns_sent(output)})."
    )
    lines.append(f"Idempotency key: {idempotency(output, upstream.order_by)}.")
    return "\n".join(lines)


def _make_output_asset(
    source: SourceConfig,
    output: OutputConfig,
    upstream: Upstream,
    clients: SourceClients,
    context: SpecContext,
) -> dg.AssetsDefinition:
    key = asset_key(source, output.name)
    table = TableAddress.of(context.database, upstream.schema, upstream.table)
    location = context.locations.entry(output.name) if context.locations else None

    @dg.asset(
        key=key,
        deps=[upstream.key],
        group_name=source.name,
        kinds=set(OUTPUT_KINDS),
        description=describe_output(source, output, upstream, table.name),
        metadata=output_metadata(source, output, table, upstream.order_by, location),
        required_resource_keys={IO_MANAGER_KEY},
    )
    def _output(context) -> dg.MaterializeResult:
        # Unannotated on purpose: Dagster rejects the string annotation on the context.
        database = getattr(context.resources, IO_MANAGER_KEY).database
        return send_output(context, source, output, upstream, database, clients)

    return _output


def send_output(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    output: OutputConfig,
    upstream: Upstream,
    database: str,
    clients: SourceClients,
) -> dg.MaterializeResult:
    """Snapshot the upstream table, send it in batches, and record what was sent."""
    label = f"{source.name}.{output.name}"
    workdir = tempdirs.new_directory("out")
    started = time.perf_counter()
    try:
        snapshot, columns = _snapshot(database, upstream, output, workdir / "rows.parquet")
        progress = Progress(context.log.info, label, unit="batches", every=10)
        with _sender(source, clients) as sender:
            stats = sender.send(
                output.path,
                _batches(snapshot, output.batch_size),
                method=output.method,
                body_key=output.body_key,
                headers=output.headers,
                idempotency_header=output.idempotency_header,
                name=label,
                on_batch=lambda s: progress.update(s.batches, s.rows),
            )
    finally:
        tempdirs.release(workdir)
    elapsed = time.perf_counter() - started
    context.log.info(
        f"{label}: sent {stats.rows} rows in {stats.batches} batches, {stats.requests} "
        f"requests ({stats.retries} retries), {elapsed:.2f}s"
    )
    return dg.MaterializeResult(
        metadata={
            "rows_sent": stats.rows,
            "batches": stats.batches,
            "requests": stats.requests,
            "retries": stats.retries,
            "bytes_sent": stats.bytes,
            "columns_sent": ", ".join(columns),
            "source_table": TableAddress.of(database, upstream.schema, upstream.table).name,
            "send_seconds": round(elapsed, 3),
        }
    )


def _sender(source: SourceConfig, clients: SourceClients) -> BatchSender:
    client = source.client
    return BatchSender(
        base_url=client.base_url,
        headers=client.headers,
        auth=auth_spec(client.auth),
        session=client.session,
        timeout=client.timeout,
        retry=clients.retry_policy,
        rate_limit=clients.rate_limiter,
        show_error_body=client.show_error_body,
    )


def _snapshot(
    database: str, upstream: Upstream, output: OutputConfig, path: Path
) -> tuple[Path | None, list[str]]:
    """Copy the rows to send into a Parquet file, in a stable order; None when no table."""
    if not Path(database).exists():
        raise LoadError(f"no DuckDB file at {database}: materialize {upstream.key} first")

    def choose(present: list[str]) -> tuple[list[str], list[str]]:
        columns = output.columns or [c for c in present if not c.startswith(OWN_COLUMN_PREFIX)]
        missing = [c for c in [*columns, *output.idempotency_key] if c not in present]
        if missing:
            raise ConfigError(
                f"output {output.name!r}: table {upstream.schema}.{upstream.table} has no "
                f"column(s) {', '.join(missing)}; it has {', '.join(present)}"
            )
        order = list(output.idempotency_key) or [c for c in upstream.order_by if c in present]
        # A stable order keeps batch boundaries, and so each batch's key, the same on re-run.
        return columns, order

    columns = snapshot_to_parquet(database, upstream.schema, upstream.table, path, choose)
    if columns is None:
        raise LoadError(
            f"table {upstream.schema}.{upstream.table} does not exist: materialize "
            f"{upstream.key.to_user_string()} first"
        )
    return path, columns


def _batches(snapshot: Path | None, size: int) -> Iterator[list[Mapping[str, Any]]]:
    """Rows of the snapshot in batches of `size`, never more than one batch in memory."""
    if snapshot is None:
        return
    # imported here: pyarrow costs ~80 ms at start-up, and most projects have no outputs
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(snapshot)
    pending: list[Mapping[str, Any]] = []
    for record_batch in reader.iter_batches(batch_size=size):
        pending.extend(record_batch.to_pylist())
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending
