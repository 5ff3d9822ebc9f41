"""The cursor tracker on its own: ranges, boundaries, orders and conversions."""

from __future__ import annotations

import pytest

from rest_assets.config.models import EndpointConfig, IncrementalConfig
from rest_assets.errors import ConfigError
from rest_assets.extract.incremental import (
    MAX_BOUNDARY_KEYS,
    CursorState,
    IncrementalSpec,
    compare,
    legacy_params,
)


def _spec(**kwargs: object) -> IncrementalSpec:
    config = IncrementalConfig(**{"cursor_path": "v", **kwargs})  # type: ignore[arg-type]
    return IncrementalSpec(config, "test", primary_key=["id"])


def test_compare_handles_mixed_timestamp_formats_and_numeric_text() -> None:
    assert compare("2024-01-01T10:00:00Z", "2024-01-01T11:00:00+01:00") == 0
    assert compare("2024-01-02", "2024-01-01T23:59:59Z") == 1
    assert compare(9, "10") == -1
    assert compare("b", "a") == 1
    with pytest.raises(TypeError):
        compare("abc", 3)


def test_max_tracker_keeps_range_and_records_boundary_keys() -> None:
    spec = _spec(initial_value=10)
    tracker = spec.tracker(CursorState(10, ['["old"]']))
    batch = [
        {"id": "old", "v": 10},
        {"id": "a", "v": 10},
        {"id": "b", "v": 9},
        {"id": "c", "v": 12},
    ]
    kept = tracker.filter(batch)
    assert [r["id"] for r in kept] == ["a", "c"]
    state = tracker.state()
    assert state == CursorState(12, ['["c"]'])


def test_min_tracker_moves_down() -> None:
    spec = _spec(initial_value=100, last_value_func="min")
    tracker = spec.tracker(None)
    kept = tracker.filter([{"id": 1, "v": 90}, {"id": 2, "v": 120}, {"id": 3, "v": 80}])
    assert [r["id"] for r in kept] == [1, 3]
    assert tracker.state().last_value == 80  # type: ignore[union-attr]


def test_descending_rows_stop_at_the_start() -> None:
    spec = _spec(initial_value=5, row_order="desc")
    tracker = spec.tracker(None)
    kept = tracker.filter([{"id": i, "v": v} for i, v in enumerate([9, 7, 4, 8])])
    assert [r["v"] for r in kept] == [9, 7]
    assert tracker.exhausted


def test_missing_cursor_values_follow_the_rule() -> None:
    batch = [{"id": 1}, {"id": 2, "v": None}, {"id": 3, "v": 1}]
    with pytest.raises(ConfigError, match="on_cursor_value_missing"):
        _spec().tracker(None).filter(batch)
    assert len(_spec(on_cursor_value_missing="include").tracker(None).filter(batch)) == 3
    assert len(_spec(on_cursor_value_missing="exclude").tracker(None).filter(batch)) == 1


def test_values_convert_and_lag() -> None:
    spec = _spec(initial_value="2024-01-01T00:00:00Z", lag=60, convert=lambda v: f"<{v}>")
    values = spec.values(CursorState("2024-01-01T01:00:00Z"))
    assert values["incremental.start_value"] == "<2024-01-01T00:59:00Z>"
    assert values["incremental.initial_value"] == "<2024-01-01T00:00:00Z>"
    assert values["incremental.end_value"] is None
    assert _spec(initial_value=0, lag=5).start_value(CursorState(100)) == 95


def test_boundary_keys_are_bounded_and_merged_with_the_previous_ones() -> None:
    spec = _spec(initial_value=0)
    tracker = spec.tracker(CursorState(1, ['["x"]']))
    tracker.filter([{"id": i, "v": 1} for i in range(MAX_BOUNDARY_KEYS + 10)])
    state = tracker.state()
    assert state is not None and state.last_value == 1
    assert len(state.boundary_keys) == MAX_BOUNDARY_KEYS
    # no record in range: the previous state stays as it was
    empty = spec.tracker(CursorState(5, ['["y"]']))
    assert empty.filter([{"id": 1, "v": 2}]) == []
    assert empty.state() == CursorState(5, ['["y"]'])


def test_jsonpath_cursor_and_legacy_params() -> None:
    spec = IncrementalSpec(IncrementalConfig(cursor_path="$.meta['updated']"), "t")
    assert spec.get({"meta": {"updated": 3}}) == 3
    endpoint = EndpointConfig(
        params={"since": {"type": "incremental", "cursor_path": "v", "initial_value": 1}}
    )
    assert legacy_params(endpoint) == {"since": "{incremental.start_value}"}
    both = EndpointConfig(
        params={"since": {"type": "incremental", "cursor_path": "v"}},
        incremental={"cursor_path": "v"},
    )
    with pytest.raises(ConfigError, match="only one incremental cursor"):
        IncrementalSpec.for_endpoint(both, "t")
    with pytest.raises(ConfigError, match="end_value needs an initial_value"):
        _spec(end_value=3)


@pytest.mark.parametrize("func", ["max", "min"])
@pytest.mark.parametrize(
    "kind", ["int", "float", "iso", "mixed_formats", "numeric_text", "ties_over_cap"]
)
def test_batch_tracking_matches_record_by_record(func: str, kind: str) -> None:
    # `filter` tracks a batch at once when its values compare natively; the cursor and the
    # boundary keys must be exactly what tracking record by record gives.
    import random

    rng = random.Random(f"{func}-{kind}")

    def value(i: int) -> object:
        n = rng.randint(0, 40)
        if kind == "int":
            return n
        if kind == "float":
            return n / 4
        if kind == "iso":
            return f"2024-01-01T00:00:{n:02d}Z"
        if kind == "mixed_formats":  # not native: one length is not guaranteed
            return f"2024-01-01T00:00:{n:02d}Z" if i % 2 else f"2024-01-01T00:00:{n:02d}+00:00"
        if kind == "numeric_text":
            return str(n)  # "7" vs "10": text order is not numeric order
        return 5  # every record ties: more than MAX_BOUNDARY_KEYS keys at the cursor

    size = MAX_BOUNDARY_KEYS + 300 if kind == "ties_over_cap" else 50
    batches = [[{"id": f"{b}-{i}", "v": value(i)} for i in range(size)] for b in range(4)]
    spec = _spec(last_value_func=func)
    batch_tracker = spec.tracker(None)
    for batch in batches:
        batch_tracker.filter(batch)
    one_by_one = spec.tracker(None)
    for batch in batches:
        for record in batch:
            one_by_one._track(record["v"], record)
    assert batch_tracker.state() == one_by_one.state()
    state = batch_tracker.state()
    assert state is not None and 0 < len(state.boundary_keys) <= MAX_BOUNDARY_KEYS
