"""One incremental cursor per parent key for child resources (dlt issue 2429).

A child endpoint such as `items/{resources.items.id}/events?since={incremental.start_value}`
asks each parent for *its* records since *its* last value. One cursor shared by all parents
would skip records: a parent whose events are older than another parent's newest one would
start past them. So every parent key gets its own `CursorState`, its own placeholder values
and its own tracker; the map is stored by the Dagster layer next to the data (materialization
metadata), so it moves only when the load commits.

Bounded: at most `max_entries` parents are remembered, the least recently requested evicted
first. An evicted (or new) parent starts from the base state (the value a `cursor set` gave
every parent, else `initial_value`): it re-reads its records, which `merge` absorbs and
`append` loads again. Each parent keeps at most MAX_PARENT_BOUNDARY_KEYS boundary keys.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from rest_assets.extract.incremental import CursorState, CursorTracker, IncrementalSpec
from rest_assets.extract.records import ParentRow

# Records at a parent's last value remembered to skip them next time; more at one value
# may be loaded twice with `append`.
MAX_PARENT_BOUNDARY_KEYS = 50


def parent_key(values: Mapping[str, Any]) -> str:
    """A stable text key of a parent row's placeholder values (`42`, or JSON for several)."""
    if len(values) == 1:
        (value,) = values.values()
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return orjson.dumps(dict(sorted(values.items())), default=str).decode()


class ParentCursors:
    """The per-parent cursor map of one run of a child resource."""

    def __init__(
        self,
        spec: IncrementalSpec,
        stored: Mapping[str, Any] | None = None,
        base: CursorState | None = None,
        max_entries: int | None = None,
    ) -> None:
        self.spec = spec
        self.max_entries = max_entries or spec.config.max_parent_cursors
        self.base = base
        self.states: OrderedDict[str, CursorState] = OrderedDict()
        self.evicted = 0
        if stored:
            if base is None:
                self.base = CursorState.from_json(stored.get("base"))
            self.evicted = int(stored.get("evicted") or 0)
            for entry in stored.get("cursors") or []:
                if isinstance(entry, list | tuple) and len(entry) == 3:
                    state = CursorState.from_json(
                        {"last_value": entry[1], "boundary_keys": entry[2]}
                    )
                    if state is not None:
                        self.states[str(entry[0])] = state
        self.trackers: dict[str, CursorTracker] = {}
        self._lock = threading.Lock()

    def state_of(self, key: str) -> CursorState | None:
        """Where parent `key` starts: its own cursor, else the base state."""
        return self.states.get(key, self.base)

    def prepare(self, rows: Iterable[ParentRow]) -> Iterator[ParentRow]:
        """Each row with its own `{incremental.*}` values and tracker (rows of one key share
        them: a key is requested once per row, as without per-parent cursors)."""
        for row in rows:
            key = parent_key(row.values)
            with self._lock:
                tracker = self.trackers.get(key)
                if tracker is None:
                    state = self.state_of(key)
                    tracker = self.trackers[key] = self.spec.tracker(state)
            values = {**self.spec.values(self.state_of(key)), **row.values}
            yield ParentRow(values=values, included=row.included, tracker=tracker)

    @property
    def kept(self) -> int:
        """Records in range and new, over all parents of this run."""
        return sum(t.kept for t in self.trackers.values())

    def to_json(self) -> dict[str, Any]:
        """The map after this run, least recently requested first, at most `max_entries`."""
        states = OrderedDict(self.states)
        for key, tracker in self.trackers.items():
            state = tracker.state()
            states.pop(key, None)  # requested in this run: among the most recent
            if state is not None:
                states[key] = state
        evicted = self.evicted
        while len(states) > self.max_entries:
            states.popitem(last=False)
            evicted += 1
        return {
            "base": self.base.to_json() if self.base is not None else None,
            "cursors": [
                [key, state.last_value, state.boundary_keys[-MAX_PARENT_BOUNDARY_KEYS:]]
                for key, state in states.items()
            ],
            "evicted": evicted,
        }

    def summary(self, data: Mapping[str, Any]) -> str:
        """`3 parent cursors, newest <value>` for the UI."""
        cursors = data.get("cursors") or []
        newest = None
        for entry in cursors:
            if newest is None or self.spec.compare(entry[1], newest) > 0:
                newest = entry[1]
        text = f"{len(cursors)} parent cursors"
        if newest is not None:
            text += f", newest {newest}"
        if data.get("evicted"):
            text += f" ({data['evicted']} evicted so far)"
        return text
