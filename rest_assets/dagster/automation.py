"""Schedules and new-data sensors built with Dagster's own APIs."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import dagster as dg

from rest_assets.config.models import ScheduleConfig, SensorConfig, SourceConfig
from rest_assets.dagster.naming import asset_name
from rest_assets.dagster.partitions import partition_kind, partitions_def_for, window_sensor_key
from rest_assets.dagster.specs import ResourceSpec
from rest_assets.dagster.state.cursors import read_cursor
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.incremental import CursorState, IncrementalSpec, RangeExhausted
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ResourceExtractor
from rest_assets.extract.steps import Record


def schedules_for(
    source: SourceConfig, specs: Sequence[ResourceSpec], assets: Sequence[dg.AssetsDefinition]
) -> list[dg.ScheduleDefinition]:
    """Cron schedules of a source and of its resources.

    A time-partitioned asset gets a schedule of its own that runs the latest partition;
    window- and parent-partitioned assets are left to their sensor and parent.
    """
    out: list[dg.ScheduleDefinition] = []
    partitions = {key: a.partitions_def for a in assets for key in a.keys}
    timed = {k for k, p in partitions.items() if isinstance(p, _TIME_PARTITIONS)}
    plain = [k for k, p in partitions.items() if p is None]
    if source.schedule is not None and plain:
        out.append(
            _schedule(
                f"{source.name}_schedule",
                source.schedule,
                plain,
                f"Materializes the unpartitioned assets of source {source.name}.",
            )
        )
    for spec in specs:
        resource, key = spec.plan.resource, spec.key
        schedule = resource.schedule or (source.schedule if key in timed else None)
        if schedule is None or (key not in timed and key not in plain):
            continue
        name = f"{source.name}_{asset_name(resource.name)}_schedule"
        if key in timed:
            partitions_def = partitions[key]
            assert partitions_def is not None
            out.append(_partitioned_schedule(name, schedule, key, partitions_def))
        elif resource.schedule is not None:
            out.append(_schedule(name, schedule, [key], f"Materializes {key.to_user_string()}."))
    return out


_TIME_PARTITIONS = dg.TimeWindowPartitionsDefinition


def _status(spec: ScheduleConfig) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if spec.running else dg.DefaultScheduleStatus.STOPPED


def _schedule(
    name: str, spec: ScheduleConfig, keys: Sequence[dg.AssetKey], description: str
) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=name,
        description=f"{description} Cron {spec.cron} ({spec.timezone}).",
        cron_schedule=spec.cron,
        execution_timezone=spec.timezone,
        target=dg.AssetSelection.assets(*keys),
        default_status=_status(spec),
    )


def _partitioned_schedule(
    name: str, spec: ScheduleConfig, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition
) -> dg.ScheduleDefinition:

    @dg.schedule(
        name=name,
        cron_schedule=spec.cron,
        execution_timezone=spec.timezone,
        target=dg.AssetSelection.assets(key),
        default_status=_status(spec),
        description=(
            f"Materializes the latest complete partition of {key.to_user_string()}. "
            f"Cron {spec.cron} ({spec.timezone})."
        ),
    )
    def _latest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        with dg.partition_loading_context(effective_dt=context.scheduled_execution_time):
            last = partitions_def.get_last_partition_key()
        if last is None:
            return dg.SkipReason("no complete partition yet")
        return dg.RunRequest(run_key=last, partition_key=last)

    return _latest


def incremental_sensors_for(
    source: SourceConfig, specs: Sequence[ResourceSpec], clients: SourceClients, where: str
) -> list[dg.SensorDefinition]:
    """One sensor per incremental resource that has no parent and no time partitions.

    Each tick fetches one page from the current cursor and requests a run only when that page
    holds records beyond it (for window partitions: adds the window's partition first).
    Stopped by default; `sensor: {running: true}` starts it, `sensor: {enabled: false}` drops it.
    """
    out: list[dg.SensorDefinition] = []
    for spec in specs:
        plan = spec.plan
        resource = plan.resource
        config = resource.sensor or SensorConfig()
        if not config.enabled or plan.parent is not None:
            continue
        if resource.records is not None:
            continue  # a Python resource has no endpoint to poll
        if partition_kind(resource) not in (None, "windows"):
            continue
        incremental = IncrementalSpec.for_endpoint(
            resource.endpoint, plan.where, resource.primary_key
        )
        if incremental is None:
            continue
        out.append(_new_data_sensor(source, spec, incremental, config, clients))
    return out


def _new_data_sensor(
    source: SourceConfig,
    resource_spec: ResourceSpec,
    spec: IncrementalSpec,
    config: SensorConfig,
    clients: SourceClients,
) -> dg.SensorDefinition:
    plan = resource_spec.plan
    resource = plan.resource
    key = resource_spec.key
    partitions_def = partitions_def_for(source, resource)
    status = dg.DefaultSensorStatus.RUNNING if config.running else dg.DefaultSensorStatus.STOPPED
    sensor_name = f"{source.name}_{asset_name(resource.name)}_new_data"
    # No run_key: a failed run must be retried on a later tick, so runs still in flight are
    # what keeps the sensor from piling up requests.
    in_flight = dg.RunsFilter(
        statuses=[
            dg.DagsterRunStatus.QUEUED,
            dg.DagsterRunStatus.NOT_STARTED,
            dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED,
        ],
        tags={"dagster/sensor_name": sensor_name},
    )

    @dg.sensor(
        name=sensor_name,
        description=(
            f"Polls one page of {source.name}/{resource.name} from its cursor and requests a "
            "run when there are records beyond it."
        ),
        asset_selection=[key],
        minimum_interval_seconds=config.minimum_interval_seconds,
        default_status=status,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        if context.instance.get_runs_count(in_flight):
            return dg.SkipReason("a run requested by this sensor has not finished yet")
        state = read_cursor(context.instance, key).state
        new = probe_new_records(clients, plan, spec, state)
        if not new:
            return dg.SkipReason(f"no records beyond the cursor {_text(state)}")
        if not isinstance(partitions_def, dg.DynamicPartitionsDefinition):
            return dg.SensorResult(run_requests=[dg.RunRequest()])
        partition = window_sensor_key(spec, state)
        requests = []
        assert partitions_def.name is not None
        if not context.instance.has_dynamic_partition(partitions_def.name, partition):
            requests.append(partitions_def.build_add_request([partition]))
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=partition)],
            dynamic_partitions_requests=requests,
        )

    return _sensor


def _text(state: object) -> str:
    value = getattr(state, "last_value", None)
    return "initial" if value is None else str(value)


def probe_new_records(
    clients: SourceClients, plan: ResourcePlan, spec: IncrementalSpec, state: object
) -> int:
    """How many records of the first page from the cursor are beyond it (one request)."""
    cursor = state if isinstance(state, CursorState) else None
    resource = plan.resource
    one_page = resource.model_copy(
        update={"endpoint": resource.endpoint.model_copy(update={"max_pages": 1})}
    )
    client = clients.client(timeout=resource.endpoint.timeout)
    extractor = ResourceExtractor(client, one_page, plan.steps, resource_auth=resource.auth)
    tracker = spec.tracker(cursor)
    found = 0

    def count(batch: list[Record]) -> None:
        nonlocal found
        found += len(tracker.filter(batch))
        if found:
            raise RangeExhausted("found new records")

    try:
        with contextlib.suppress(RangeExhausted):
            extractor.run(count, values=spec.values(cursor))
    finally:
        client.close()
    return found
