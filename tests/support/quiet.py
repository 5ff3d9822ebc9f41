"""What must never reach a user's terminal: Dagster's banners, warnings and repeats."""

from __future__ import annotations

import re
from collections import Counter

# the Dagster text that prints each noise
NOISE = {
    "telemetry banner": "Telemetry:",
    "welcome prompt": "Welcome to Dagster!",
    "missing dagster.yaml": "No dagster instance configuration file",
    "dagster dev supersession": "is superseded",
}


def assert_quiet(output: str, what: str, *, processes: int = 1) -> None:
    """No noise string in `output`, and no Dagster beta/preview warning message printed
    more often than once per process that loads the definitions (`processes`)."""
    for name, text in NOISE.items():
        assert text not in output, f"{what} printed the {name} ({text!r}):\n{output[-3000:]}"
    found = Counter(re.findall(r"(?:Beta|Preview)Warning: (.*)", output))
    repeated = {message: count for message, count in found.items() if count > processes}
    assert not repeated, f"{what} repeated Dagster warnings: {repeated}"
