"""Schedules (and later sensors and checks) built with Dagster's own APIs."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from rest_assets.config.models import ScheduleConfig, SourceConfig
from rest_assets.dagster.naming import asset_key, asset_name


def schedules_for(
    source: SourceConfig, assets: Sequence[dg.AssetsDefinition]
) -> list[dg.ScheduleDefinition]:
    out: list[dg.ScheduleDefinition] = []
    if source.schedule is not None:
        keys = [key for a in assets for key in a.keys]
        out.append(_schedule(f"{source.name}_schedule", source.schedule, keys))
    for resource in source.resources:
        if resource.schedule is not None:
            key = asset_key(source, resource.name)
            out.append(
                _schedule(
                    f"{source.name}_{asset_name(resource.name)}_schedule", resource.schedule, [key]
                )
            )
    return out


def _schedule(
    name: str, spec: ScheduleConfig, keys: Sequence[dg.AssetKey]
) -> dg.ScheduleDefinition:
    status = dg.DefaultScheduleStatus.RUNNING if spec.running else dg.DefaultScheduleStatus.STOPPED
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=spec.cron,
        execution_timezone=spec.timezone,
        target=dg.AssetSelection.assets(*keys),
        default_status=status,
    )
