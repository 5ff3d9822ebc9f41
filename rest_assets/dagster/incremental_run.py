"""Running an extractor under a run's incremental scope: plain, per-parent, or in windows.

- plain: every batch goes through the run's tracker (`filtered_sink`).
- per-parent cursors (an incremental child): each parent row carries its own placeholder
  values and tracker (`rest_assets.extract.parent_cursors`); the batches are already filtered.
- windows (`incremental.window`): one request sequence per window, with that window's
  `{incremental.start_value}` / `{incremental.end_value}`; one tracker follows the cursor over
  all of them, so the cursor is committed once, at the end, together with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rest_assets.dagster.state.scope import RunScope, filtered_sink
from rest_assets.extract.incremental import RangeExhausted
from rest_assets.extract.records import ExtractStats, ParentRow, ResourceExtractor


def run_extractor(
    extractor: ResourceExtractor,
    scope: RunScope,
    write: Callable[[list[Any]], Any],
    parents: Iterable[ParentRow] | None,
) -> ExtractStats:
    """Fetch everything this run covers into `write`; returns the extractor's stats."""
    if scope.parent_cursors is not None and parents is not None:
        return extractor.run(write, parents=scope.parent_cursors.prepare(parents))
    if scope.windows is not None and scope.tracker is not None:
        return _run_windows(extractor, scope, write, parents)
    try:
        return extractor.run(filtered_sink(scope, write), parents=parents, values=scope.values)
    except RangeExhausted:
        return extractor.stats  # row_order: later pages are out of range


def _run_windows(
    extractor: ResourceExtractor,
    scope: RunScope,
    write: Callable[[list[Any]], Any],
    parents: Iterable[ParentRow] | None,
) -> ExtractStats:
    tracker = scope.tracker
    assert tracker is not None and scope.windows is not None
    spec = tracker.spec
    final_end = tracker.end
    windows = list(scope.windows)
    scope.window_count = len(windows)
    for number, (start, end) in enumerate(windows, 1):
        # this window's records only, [start, end); the last one keeps the run's own end
        tracker.end = final_end if number == len(windows) else end
        tracker.end_inclusive = False
        values = {**scope.values, **spec.values(None, start=start, end=end)}
        values["incremental.last_value"] = scope.values.get("incremental.last_value")
        batches = extractor.batches(parents, values)
        for batch in batches:
            write(tracker.filter(batch))
            if tracker.exhausted:
                batches.close()  # row_order: the rest of this window is out of range
                break
    tracker.end = final_end
    return extractor.stats
