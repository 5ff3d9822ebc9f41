"""The bounded ordered thread-pool window shared by pages ahead and parallel child requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing

import pytest

from rest_assets.http.ordered_pool import ordered_map


def test_results_come_in_input_order_even_when_calls_finish_out_of_order() -> None:
    second_done = threading.Event()

    def call(item: int) -> int:
        if item == 0:
            assert second_done.wait(10)  # item 0 finishes only after item 1 did
        if item == 1:
            second_done.set()
        return item * 10

    assert list(ordered_map(call, range(6), width=2)) == [0, 10, 20, 30, 40, 50]


def test_items_are_pulled_lazily_within_the_window() -> None:
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for n in range(1_000):
            pulled.append(n)
            yield n

    results = ordered_map(lambda n: n, items(), width=3)
    with closing(results):
        assert next(results) == 0
        assert len(pulled) <= 2 * 3  # never more than the window ahead of the consumer
        assert next(results) == 1
        assert len(pulled) <= 2 * 3 + 1
    assert len(pulled) < 1_000


def test_closing_early_cancels_the_calls_not_started() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def call(item: int) -> int:
        calls.append(item)
        gate.wait(10)
        return item

    results = ordered_map(call, range(100), width=2)
    gate.set()
    with closing(results):
        assert next(results) == 0
    started = len(calls)
    assert started <= 2 * 2 + 1
    assert len(calls) == started  # nothing runs after close: the pool was shut down


def test_a_failure_is_raised_in_its_turn_after_the_results_before_it() -> None:
    def call(item: int) -> int:
        if item == 3:
            raise ValueError("item 3 failed")
        return item

    seen: list[int] = []
    with pytest.raises(ValueError, match="item 3"):
        for result in ordered_map(call, range(10), width=2):
            seen.append(result)
    assert seen == [0, 1, 2]
