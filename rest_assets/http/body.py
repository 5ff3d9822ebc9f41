"""Reading one response body whole, within a size limit and a time limit.

A body is read whole and parsed whole (orjson needs the complete document), so one page
costs about 2x its size while being read and ~5x more once parsed (measured: a 65 MiB page
of typical records took +340 MiB as Python objects). The default of 128 MiB keeps one page
under ~1 GiB, far above real API pages (a few MB), and stops a runaway or hostile body
before memory does. A body still arriving after 15 minutes is not a slow page but one that
never ends: the read timeout alone cannot catch a server that sends a byte every few
seconds forever.

The bytes read are ours (`read_body` returns them); the response is handed the same bytes
as its `raw` stream, so `response.content` and `.text` still work for response actions,
paginators and users of `Page.response`.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import urllib3.exceptions
import urllib3.response

from rest_assets.errors import HTTPConnectionError, ResponseTooLargeError
from rest_assets.http.messages import prefix, size
from rest_assets.http.redact import redact_url

DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_RESPONSE_SECONDS = 900.0
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """`max_bytes`: decoded size (None: no limit); `max_seconds`: the whole body's time."""

    max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    max_seconds: float | None = DEFAULT_MAX_RESPONSE_SECONDS


@dataclass(frozen=True)
class BodySource:
    """Where a body comes from, for error messages (built only when one is raised).

    `where` reads `resource 'x': GET <url>`; `shown_url` is the redacted URL that an
    HTTPConnectionError carries; `redact` masks the client's secrets.
    """

    resource: str
    method: str
    url: str
    redact: Callable[[str], str]

    @property
    def where(self) -> str:
        return f"{prefix(self.resource)}{self.method} {redact_url(self.url)}"

    @property
    def shown_url(self) -> str:
        return self.redact(redact_url(self.url))


def read_body(
    response: requests.Response, limits: BodyLimits, source: BodySource, started: float
) -> bytes:
    """The decoded body of a streamed `response`, within `limits` (timed from `started`).

    Read errors become the `requests` exceptions that the retry policy knows (a reset or
    truncated body is retried like a refused connection).
    """
    raw = response.raw
    if not isinstance(raw, urllib3.response.HTTPResponse):
        # an adapter (a cache, a test double) already holds the body in memory
        return response.content or b""
    _refuse_declared_size(response, limits, source)
    body = _read_stream(raw, response.status_code, limits, source, started)
    response.raw = io.BytesIO(body)  # what `.content` reads from now (the stream is spent)
    return body


def _refuse_declared_size(
    response: requests.Response, limits: BodyLimits, source: BodySource
) -> None:
    limit = limits.max_bytes
    declared = _content_length(response)
    if limit is not None and declared is not None and declared > limit:
        raise ResponseTooLargeError(
            source.redact(
                f"{source.where} returned status {response.status_code} with a "
                f"{size(declared)} body (Content-Length), over max_response_bytes="
                f"{limit} ({size(limit)}); refused without reading it. Ask for smaller "
                "pages (a page size parameter) or raise client.max_response_bytes"
            )
        )


def _read_stream(
    raw: urllib3.response.HTTPResponse,
    status: int,
    limits: BodyLimits,
    source: BodySource,
    started: float,
) -> bytes:
    limit = limits.max_bytes
    deadline = None if limits.max_seconds is None else started + limits.max_seconds
    chunks: list[bytes] = []
    received = 0
    while True:
        chunk = _read_chunk(raw)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        chunks.append(chunk)
        if limit is not None and received > limit:
            raise ResponseTooLargeError(
                source.redact(
                    f"{source.where} returned status {status} with a body over "
                    f"max_response_bytes={limit} ({size(limit)}); stopped reading at "
                    f"{size(received)}. Ask for smaller pages (a page size parameter) or "
                    "raise client.max_response_bytes"
                )
            )
        if deadline is not None and time.perf_counter() > deadline:
            raise HTTPConnectionError(
                source.redact(
                    f"{source.where}: the response body was still arriving after "
                    f"max_response_seconds={limits.max_seconds:g} s "
                    f"({size(received)} received); the server never finished the page. "
                    "Raise client.max_response_seconds if the API is just slow"
                ),
                None,
                source.shown_url,
            )


def _read_chunk(raw: urllib3.response.HTTPResponse) -> bytes:
    # read1 returns what one socket read brings, so the limits are checked however slowly
    # the body trickles in (read() would wait for a whole chunk); urllib3 < 2 lacks it
    read = getattr(raw, "read1", None) or raw.read
    try:
        chunk: bytes = read(_READ_CHUNK, decode_content=True)
        return chunk
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(str(exc)) from None


def _content_length(response: requests.Response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    # a compressed body's length says nothing of its decoded size: check while reading
    return None if response.headers.get("content-encoding") else value
