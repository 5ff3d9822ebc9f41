"""A bounded, ordered thread-pool window: run calls in parallel, get results in input order.

Used for pages fetched ahead (`pages_ahead`) and for the child requests of many parent rows
(`rest_assets.extract.records`). At most `2 * width` items are submitted and not yet
yielded, so memory stays bounded by the window, not by the number of items, and the items
iterable is consumed lazily (it may be a stream of parent rows read from DuckDB).

The first failure is raised when its turn comes, after every earlier result was yielded.
Closing the iterator early (the caller stops, or a result raised) cancels the calls not
started yet and waits for the running ones, so no thread outlives the walk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    call: Callable[[Item], Result],
    items: Iterable[Item],
    width: int,
    *,
    thread_name_prefix: str = "rest-assets",
) -> Generator[Result, None, None]:
    """`call(item)` for every item on `width` threads; the results in the items' order."""
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix=thread_name_prefix)
    window: deque[Future[Result]] = deque()
    todo = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(window) < 2 * width:
                try:
                    item = next(todo)
                except StopIteration:
                    exhausted = True
                    break
                window.append(pool.submit(call, item))
            if not window:
                return
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
