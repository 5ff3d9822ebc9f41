"""HTTP faults mid-run, through Dagster: every record exactly once, or a clear failure that
leaves the DuckDB table, the cursor and the latest materialization as they were.

Each case: a healthy first run loads 30 items (cursor at item 30); 25 more items appear; the
second run meets the fault on page 2 of 3. A run that survives the fault must land all 55
items once and move the cursor to item 55; a run that cannot must fail naming the resource,
the (redacted) URL and the cause, and change nothing; after the fault clears, a third run
must land exactly the missing items.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.reliability.faulty_api import FaultyAPI, stamp
from tests.reliability.harness import Harness, error_text, record


@dataclass
class Case:
    name: str
    kind: str
    times: int | None
    succeeds: bool
    options: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    error: tuple[str, ...] = ()
    url: str = "page=2"  # the request the error must name


ONE_RETRY = {"rate_limit": {"max_retries": 1}}

CASES = [
    Case("connection reset mid-body, once", "reset", 1, True),
    Case(
        "connection reset mid-body, every attempt",
        "reset",
        None,
        False,
        client=ONE_RETRY,
        error=("failed after 2 attempts", "ChunkedEncodingError"),
    ),
    Case("truncated body (short of Content-Length), once", "truncate", 1, True),
    Case("malformed JSON with 200", "malformed", None, False, error=("not JSON", "status 200")),
    Case(
        "HTML error page with 200",
        "html",
        None,
        False,
        error=("not JSON", "text/html", "status 200"),
    ),
    Case(
        "read stalls mid-body, every attempt",
        "stall",
        None,
        False,
        {"seconds": 3},
        client={"timeout": 1, **ONE_RETRY},
        error=("failed after 2 attempts", "ReadTimeout"),
    ),
    Case(
        "page that never ends (a byte every 0.2 s)",
        "trickle",
        None,
        False,
        {"seconds": 15, "interval": 0.2},
        client={"max_response_seconds": 1.5},
        error=("max_response_seconds=1.5", "never finished"),
    ),
    Case("500 on page 2 of 3 twice, then recovery", "status", 2, True, {"status": 500}),
    Case(
        "500 on page 2 of 3 on every attempt",
        "status",
        None,
        False,
        {"status": 500},
        client=ONE_RETRY,
        error=("status 500", "after 2 attempts"),
    ),
    Case(
        "429 storm (3 x Retry-After: 1), then recovery",
        "status",
        3,
        True,
        {"status": 429, "retry_after": 1},
        client={"rate_limit": {"max_retries": 3}},
    ),
    Case(
        "429 with Retry-After: 7200 (beyond max_retry_after)",
        "status",
        None,
        False,
        {"status": 429, "retry_after": 7200},
        error=("status 429", "asks to wait 7200 s"),
    ),
    Case(
        "next link loops back to page 1",
        "loop",
        None,
        False,
        {"to": 1},
        error=("same next URL twice", "never end"),
        url="page=1",  # page 1 again, then its next link (page 2) is the one seen twice
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_on_page_two(harness: Harness, api: FaultyAPI, case: Case) -> None:
    harness.build(harness.source_config(**case.client))
    api.add(30)
    assert harness.run().success
    before = harness.state()
    assert (before.rows, before.distinct, before.cursor) == (30, 30, stamp(30))

    api.add(25)
    api.fault(case.kind, page=2, times=case.times, **case.options)
    first_request = len(api.served)
    result = harness.run()
    after = harness.state()
    assert result.success == case.succeeds, error_text(result) if not result.success else ""
    if case.succeeds:
        assert (after.rows, after.distinct, after.cursor) == (55, 55, stamp(55))
        assert api.pages_served(case.kind) == [2] * (case.times or 0)
        if case.options.get("retry_after"):
            # the client waited as long as the server asked before each retry
            times = [s.at for s in api.served[first_request:] if s.page == 2]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert len(gaps) == case.times and min(gaps) >= case.options["retry_after"]
        record(case.name, 55, after.rows, before.cursor, after.cursor, "run succeeded")
        return

    text = error_text(result)
    assert "resource 'items'" in text, text
    assert f"{api.url}/items?" in text and case.url in text, text
    for expected in case.error:
        assert expected in text, text
    # nothing moved: same rows, same cursor, same latest materialization
    assert after == before
    record(case.name, 55, after.rows, before.cursor, after.cursor, "failed: " + _first_line(text))

    api.heal()
    assert harness.run().success
    healed = harness.state()
    assert (healed.rows, healed.distinct, healed.cursor) == (55, 55, stamp(55))


def _first_line(text: str) -> str:
    """The message of the root cause (the last in Dagster's chain of wrappers)."""
    return text.strip().splitlines()[-1]
