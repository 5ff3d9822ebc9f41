"""What a client has done so far: requests, pages, retries and bytes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class ClientStats:
    """Counters over the life of a client: requests sent (retries and redirects included),
    pages yielded, retries made, response bytes received, and responses a response action
    said to ignore (`ignored`, with their statuses in `ignored_statuses`). Thread-safe
    through `add` and `add_ignored`."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    bytes: int = 0
    ignored: int = 0
    ignored_statuses: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def add(self, *, requests: int = 0, pages: int = 0, retries: int = 0, bytes: int = 0) -> None:
        """Add to the counters (pages ahead count from worker threads)."""
        with self._lock:
            self.requests += requests
            self.pages += pages
            self.retries += retries
            self.bytes += bytes

    def add_ignored(self, status: int | None) -> None:
        """Count one response ignored by a response action (its status, when known)."""
        with self._lock:
            self.ignored += 1
            if status is not None:
                self.ignored_statuses[status] = self.ignored_statuses.get(status, 0) + 1

    def ignored_summary(self) -> str:
        """`3 responses ignored by response_actions (404: 2, 200: 1)`, or '' when none."""
        with self._lock:
            if not self.ignored:
                return ""
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.ignored_statuses.items()))
            count = self.ignored
        noun = "response" if count == 1 else "responses"
        detail = f" (status {statuses})" if statuses else ""
        return f"{count} {noun} ignored by response_actions{detail}"
