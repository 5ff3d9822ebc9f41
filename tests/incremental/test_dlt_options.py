"""dlt's incremental options one by one on the tracker (fact sheet §2.2), and the errors for
values we cannot honour. End-to-end runs of each, compared with dlt: tests/dlt_compat."""

from __future__ import annotations

from typing import Any

import pytest

from rest_assets.config.load import source_from_dict
from rest_assets.config.models import IncrementalConfig
from rest_assets.errors import ConfigError
from rest_assets.extract.incremental import CursorState, IncrementalSpec, lag_value
from rest_assets.extract.plan import plan_source


def _spec(**kwargs: Any) -> IncrementalSpec:
    """A spec over cursor `v`; the resource's primary key is `id`."""
    config = IncrementalConfig(**{"cursor_path": "v", **kwargs})
    return IncrementalSpec(config, "test", primary_key=["id"])


def _ids(records: list[dict[str, Any]]) -> list[Any]:
    return [r["id"] for r in records]


def _batch(*values: Any) -> list[dict[str, Any]]:
    return [{"id": i, "v": v} for i, v in enumerate(values)]


def test_range_start_open_drops_the_start_value() -> None:
    tracker = _spec(initial_value=5, range_start="open").tracker(None)
    assert _ids(tracker.filter(_batch(4, 5, 6))) == [2]
    # closed (the default) keeps it
    assert _ids(_spec(initial_value=5).tracker(None).filter(_batch(4, 5, 6))) == [1, 2]


def test_range_end_closed_keeps_the_end_value() -> None:
    closed = _spec(initial_value=1, end_value=5, range_end="closed").tracker(None)
    assert _ids(closed.filter(_batch(4, 5, 6))) == [0, 1]
    opened = _spec(initial_value=1, end_value=5).tracker(None)
    assert _ids(opened.filter(_batch(4, 5, 6))) == [0]


@pytest.mark.parametrize(
    ("value", "lag", "sign", "days", "expected"),
    [
        (15, 2, 1, False, 13),
        (15, 2.5, 1, False, 12),  # an int stays an int
        (1.5, 0.5, 1, False, 1.0),
        (15, 2, -1, False, 17),  # min: the lag moves forward
        ("2024-01-03T00:00:00Z", 86400, 1, False, "2024-01-02T00:00:00Z"),
        ("2024-01-03T12:00:00+02:00", 3600, 1, False, "2024-01-03T11:00:00+02:00"),
        ("2024-01-05", 1, 1, False, "2024-01-04"),  # a date: days
        ("20240105", 2, 1, False, "20240103"),
        ("2024-01-03T12:00:00Z", 1, 1, True, "2024-01-02T00:00:00Z"),  # days, from a date
    ],
)
def test_lag_moves_back_in_dlts_units(
    value: Any, lag: float, sign: int, days: bool, expected: Any
) -> None:
    assert lag_value(value, lag, sign, days, "test") == expected


def test_lag_never_crosses_the_initial_value_and_keeps_deduplicating() -> None:
    spec = _spec(initial_value=10, lag=5)
    assert spec.start_value(CursorState(12)) == 10
    assert spec.start_value(CursorState(20)) == 15
    first = spec.tracker(None)
    first.filter(_batch(11, 12, 14))
    state = first.state()
    assert state is not None and state.last_value == 14
    second = spec.tracker(state)
    assert second.start == 10  # 14 - 5 would cross 10
    # 11, 12 and 14 were loaded: only the late 13 and the new 15 are kept (dlt: all five)
    kept = second.filter(
        [
            {"id": 0, "v": 11},
            {"id": 1, "v": 12},
            {"id": 9, "v": 13},
            {"id": 2, "v": 14},
            {"id": 3, "v": 15},
        ]
    )
    assert _ids(kept) == [9, 3]


def test_lag_is_off_with_end_value_and_with_a_custom_function(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert _spec(initial_value=1, end_value=50, lag=5).start_value(CursorState(20)) == 20
    custom = _spec(initial_value=1, lag=5, last_value_func=lambda values: max(values))
    assert custom.start_value(CursorState(20)) == 20
    assert "lag works with last_value_func max or min only" in caplog.text


def test_lag_on_a_cursor_that_is_not_a_time_or_number_says_so() -> None:
    with pytest.raises(ConfigError, match="lag needs a number, date or datetime cursor"):
        _spec(initial_value="v1", lag=1).start_value(CursorState("v10"))


def test_a_custom_last_value_func_decides_the_order() -> None:
    def longest(values: tuple[Any, ...]) -> Any:
        return max(values, key=len)

    tracker = _spec(initial_value="bb", last_value_func=longest).tracker(None)
    kept = tracker.filter([{"id": 1, "v": "a"}, {"id": 2, "v": "ccc"}, {"id": 3, "v": "dddd"}])
    assert _ids(kept) == [2, 3]
    assert tracker.state().last_value == "dddd"  # type: ignore[union-attr]
    assert IncrementalConfig(cursor_path="v", last_value_func=max).last_value_func == "max"
    assert IncrementalConfig(cursor_path="v", last_value_func=min).last_value_func == "min"


def test_incremental_primary_key_overrides_and_an_empty_one_turns_dedup_off() -> None:
    # the incremental's own key wins over the resource's
    spec = _spec(initial_value=1, primary_key="k")
    assert spec.primary_key == ["k"]
    off = _spec(initial_value=1, primary_key=[])
    first = off.tracker(None)
    first.filter(_batch(1, 2))
    state = first.state()
    assert state is not None and state.boundary_keys == []
    assert _ids(off.tracker(state).filter(_batch(1, 2))) == [1]  # the boundary row again


@pytest.mark.parametrize(
    ("incremental", "message"),
    [
        ({"last_value_func": "median"}, "last_value_func 'median' is not max or min"),
        ({"allow_external_schedulers": True}, "use partitions"),
        ({"range_start": "half"}, "range_start"),
        ({"lag": "1h"}, "lag"),
        ({"transform": "x:y"}, "unknown key 'transform'"),
        ({"initial_value": 5, "end_value": 3}, "end_value: 3 must come after initial_value 5"),
    ],
)
def test_values_we_cannot_honour_fail_at_load(incremental: dict[str, Any], message: str) -> None:
    config = {
        "client": {"base_url": "http://x"},
        "resources": [
            {
                "name": "a",
                "endpoint": {"path": "a", "incremental": {"cursor_path": "v", **incremental}},
            }
        ],
    }
    with pytest.raises(ConfigError, match=message):
        source = source_from_dict(config)
        plan_source(source)
        IncrementalSpec.for_endpoint(source.resources[0].endpoint, "a")


def test_legacy_param_rules() -> None:
    def param(**extra: Any) -> dict[str, Any]:
        since = {"type": "incremental", "cursor_path": "v", "initial_value": 1, **extra}
        return {
            "client": {"base_url": "http://x"},
            "resources": [{"name": "a", "endpoint": {"path": "a", "params": {"since": since}}}],
        }

    with pytest.raises(ConfigError, match=r"use endpoint\.incremental instead"):
        source_from_dict(param(end_value=5))
    with pytest.raises(ConfigError, match="the param's own name is the start param"):
        source_from_dict(param(start_param="x"))
    # `transform`, dlt's deprecated name of convert, works in the legacy form
    source = source_from_dict(param(transform="json:dumps"))
    assert source.resources[0].endpoint.params["since"].convert == "json:dumps"  # type: ignore[union-attr]
