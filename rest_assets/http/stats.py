"""What a client has done so far: requests, pages, retries and bytes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class ClientStats:
    """Counters over the life of a client: requests sent (retries and redirects included),
    pages yielded, retries made and response bytes received. Thread-safe through `add`."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    bytes: int = 0
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
