"""What a successful answer holds: records, no records, or an error dressed as a 200.

A page that says 200 is not always data. Three shapes are refused instead of being taken
for records (or for an empty page, which a `replace` would turn into an empty table):

- the configured `data_selector` is not in the body at all (`{"error": "maintenance"}`
  against `data_selector: data`): a body of another shape, not an empty list;
- an error body without records: `{"error": ...}`, `{"errors": [...]}` (GraphQL's
  `{"data": null, "errors": [...]}`), `{"message": "Not Found", "documentation_url": ...}`,
  Slack's `{"ok": false, "error": ...}`. It is "error-shaped" when an error key holds
  something and every other key that holds something is one an error body has (code,
  status, type, request id...): a record with an `error` field next to its `id` is a record;
- with an auto-detected selector, such a body would become a one-record page: refused too.

A body that is empty (HTTP 204, no bytes) or a selector that finds `null` or `[]` is an
empty page, as in dlt; whether an empty result may replace a table is decided above
(`rest_assets.dagster.empty_result`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from rest_assets.errors import ResponseFormatError
from rest_assets.http.messages import prefix
from rest_assets.http.redact import redact_url
from rest_assets.http.selectors import DataSelector, compile_path

logger = logging.getLogger("rest_assets.http")

# Keys that carry the error itself.
ERROR_KEYS = frozenset(
    {
        "error",
        "errors",
        "error_message",
        "errorMessage",
        "error_description",
        "fault",
        "message",
        "detail",
    }
)
# Keys that travel with an error (and do not make a record).
ERROR_COMPANIONS = ERROR_KEYS | {
    "code",
    "status",
    "status_code",
    "statusCode",
    "title",
    "type",
    "reason",
    "description",
    "details",
    "documentation_url",
    "help",
    "hint",
    "more_info",
    "request_id",
    "requestId",
    "trace_id",
    "traceId",
    "timestamp",
    "path",
    "instance",
    "success",
    "ok",
    "retry_after",
    "extensions",
}
# A status that says all is well: `{"status": "ok", "message": "All systems go"}` is data.
_FINE = frozenset({"ok", "success", "active", "up", "operational", "healthy", "pass"})
_SHOWN = 200


class ErrorAnswerError(ResponseFormatError):
    """A 2xx answer that holds an error, or not the shape the data selector expects."""


def _empty(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, Mapping):
        return all(_empty(v) for v in value.values())
    return False


def error_shaped(body: Any) -> bool:
    """Whether `body` is an error message rather than data (see the module docstring)."""
    if not isinstance(body, Mapping):
        return False
    if body.get("ok") is True or body.get("success") is True:
        return False
    status = body.get("status")
    if isinstance(status, str) and status.lower() in _FINE:
        return False
    held = [key for key, value in body.items() if not _empty(value) and value is not False]
    if body.get("ok") is False or body.get("success") is False:
        held.append("ok")
    if not any(key in ERROR_KEYS for key in held):
        return False
    return all(isinstance(key, str) and key in ERROR_COMPANIONS for key in held)


def selector_missing(selector: DataSelector, body: Any) -> bool:
    """Whether a configured plain selector (`data`, `results.items`) is absent from `body`.

    A path with wildcards or filters can match nothing in a body of the right shape, so only
    plain key paths are judged; `$` is always there.
    """
    if selector.expression is None:
        return False
    path = compile_path(selector.expression)
    if path.keys is None:
        return False
    node = body
    for key in path.keys:
        if not isinstance(node, Mapping) or key not in node:
            return True
        node = node[key]
    return False


def check_answer(
    body: Any,
    records: list[Any],
    selector: DataSelector,
    *,
    where: Callable[[], str],
    status: int,
    redact: Callable[[str], str],
) -> None:
    """Raise ErrorAnswerError when a parsed 2xx body is an error or lacks the selector.

    `where` gives `resource 'x': GET <url>` (built only when needed).
    """
    if body is None:
        return  # an empty body (204): an empty page
    if error_shaped(body) and (not records or _is_body(records, body)):
        raise ErrorAnswerError(
            redact(
                f"{where()} answered status {status} with an error instead of records: "
                f"{_shown(body)}; nothing from this response was loaded"
            )
        )
    if selector_missing(selector, body):
        keys = sorted(str(k) for k in body) if isinstance(body, Mapping) else []
        shape = f"an object with keys {keys}" if keys else f"a {type(body).__name__}"
        raise ErrorAnswerError(
            redact(
                f"{where()} answered status {status} without {selector.expression!r} "
                f"(endpoint.data_selector); the body is {shape}. Check data_selector, or the "
                "API's answer; nothing from this response was loaded"
            )
        )
    if records and isinstance(body, Mapping) and not _empty(body.get("errors")):
        logger.warning(redact(f"{where()}: the response holds records and errors: {_shown(body)}"))


def where_of(resource: str, method: str, url: str) -> str:
    """`resource 'x': GET <redacted url>`."""
    return f"{prefix(resource)}{method} {redact_url(url)}"


def _is_body(records: list[Any], body: Any) -> bool:
    # an auto-detected selector of "$" makes the body itself the one record
    return len(records) == 1 and records[0] is body


def _shown(body: Mapping[str, Any]) -> str:
    parts = {k: v for k, v in body.items() if k in ERROR_KEYS and not _empty(v)}
    text = orjson.dumps(parts, default=str).decode()
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
