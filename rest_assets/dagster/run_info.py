"""What one step knows about its run, read once from Dagster's execution context.

The step body hands this (not the context) to the code that works out cursors and scopes,
so that code is plain functions of the instance, the asset key and the partition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import dagster as dg


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class RunInfo:
    """The instance, the run's partition keys and time window, and where log lines go."""

    instance: dg.DagsterInstance
    run_id: str = ""
    partitioned: bool = False
    partition_keys: tuple[str, ...] = ()
    time_window: dg.TimeWindow | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    info: Callable[[str], None] = _ignore
    warning: Callable[[str], None] = _ignore

    @classmethod
    def from_context(cls, context: dg.AssetExecutionContext) -> RunInfo:
        partitioned = context.has_partition_key or context.has_partition_key_range
        keys: tuple[str, ...] = tuple(context.partition_keys) if partitioned else ()
        window = None
        if partitioned and isinstance(
            context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition
        ):
            window = context.partition_time_window
        return cls(
            instance=context.instance,
            run_id=context.run.run_id,
            partitioned=context.assets_def.partitions_def is not None,
            partition_keys=keys,
            time_window=window,
            tags=dict(context.run.tags),
            info=context.log.info,
            warning=context.log.warning,
        )
