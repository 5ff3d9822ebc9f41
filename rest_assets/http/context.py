"""Who a call is for, as every layer reports it: the resource, the secrets, the counters."""

from __future__ import annotations

from dataclasses import dataclass

from rest_assets.http.redact import Redactor
from rest_assets.http.stats import ClientStats


@dataclass(frozen=True)
class CallContext:
    """`resource` names the call in messages (may be empty); `redactor` masks every secret
    the client knows of; `stats` counts requests, pages, retries and bytes."""

    resource: str
    redactor: Redactor
    stats: ClientStats

    def redact(self, text: str) -> str:
        """`text` with the client's secrets masked."""
        return self.redactor.redact(text)
