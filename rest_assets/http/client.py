"""RestClient: sends requests (auth, retries, rate limit, redaction) and walks the pages."""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import orjson
import requests
import requests.auth
import urllib3.exceptions

from rest_assets.errors import (
    ConfigError,
    HTTPConnectionError,
    HTTPStatusError,
    PaginationLoopError,
    ResponseFormatError,
    ResponseTooLargeError,
)
from rest_assets.http.auth import AuthBase, create_auth
from rest_assets.http.env import EnvResolver
from rest_assets.http.pages_ahead import fetch_ahead, widen_pool
from rest_assets.http.paginators import BasePaginator, create_paginator, detect_paginator
from rest_assets.http.redact import (
    PROCESS_REDACTOR,
    SENSITIVE_PARAMS,
    Redactor,
    install_library_log_redaction,
    redact_url,
)
from rest_assets.http.request import Page, RequestSpec
from rest_assets.http.retry import RateLimiter, RetryPolicy, TooLongWait
from rest_assets.http.selectors import DataSelector

logger = logging.getLogger("rest_assets.http")

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
ERROR_BODY_LIMIT = 500
# A body is read whole and parsed whole (orjson needs the complete document), so one page
# costs about 2x its size while being read and ~5x more once parsed (measured: a 65 MiB page
# of typical records took +340 MiB as Python objects). 128 MiB keeps one page under ~1 GiB,
# far above real API pages (a few MB), and stops a runaway or hostile body before memory does.
DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024
# A body still arriving after this long is not a slow page but one that never ends: the read
# timeout alone cannot catch a server that sends a byte every few seconds forever.
DEFAULT_MAX_RESPONSE_SECONDS = 900.0
_READ_CHUNK = 1024 * 1024
# Headers never sent to a foreign origin, whatever their value.
_SENSITIVE_HEADER = re.compile(
    r"auth|token|secret|key|cookie|session|signature|password|credential", re.IGNORECASE
)

ResponseAction = Mapping[str, Any] | Callable[[requests.Response], Any]
Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of `url`, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def is_absolute_url(path: str) -> bool:
    """True for `http(s)://host/...` (used as is instead of being joined to base_url)."""
    parts = urlsplit(path)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def join_url(base_url: str, path: str) -> str:
    """`base_url` + `path` keeping the base path: ("https://h/api/v2", "users") -> .../v2/users.

    A full URL in `path` is returned unchanged.
    """
    if is_absolute_url(path):
        return path
    if not path:
        return base_url
    if not base_url:
        raise ConfigError(f"path {path!r} is relative but the client has no base_url")
    return base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class ClientStats:
    """Counters over the life of a client: requests sent (retries and redirects included),
    pages yielded, retries made and response bytes received."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Ignore(Exception):
    """A response action said "ignore": stop this paginate() quietly."""


class RestClient:
    """An HTTP client for one REST API.

    - `base_url`: joined with relative paths (its own path kept); may hold `${VAR}`.
    - `headers`: sent with every request (endpoint headers win); values may hold `${VAR}`.
    - `auth`: an auth instance or a config dict (see `create_auth`); attached only to
      requests whose origin (scheme, host, port) is the base URL's or that of the full URL
      given as `path`. Links to other origins are followed without credentials.
    - `paginator` / `data_selector`: defaults for `paginate()`; None auto-detects.
    - `retry`: a RetryPolicy, dict or max attempts; `rate_limit`: a RateLimiter (share one
      between clients to cap their combined rate), a rate in requests/s, or a dict.
    - `env`: where `${VAR}` references are looked up (default os.environ at request time).
    - `show_error_body`: add the (truncated, redacted) response body to HTTP errors.
    - `max_response_bytes`: a body larger than this (decoded) fails with
      `ResponseTooLargeError` instead of filling memory; bodies are streamed and counted, and
      a larger Content-Length is refused before reading. None: no limit.
    - `max_response_seconds`: a body that takes longer than this to arrive fails (the
      `timeout` bounds each socket read, this bounds the whole body). None: no limit.

    Logs go to the "rest_assets.http" logger with secrets redacted: every value resolved
    from `${VAR}` and every `auth.secret_values()` is masked, as are sensitive query params.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | Mapping[str, Any] | str | None = None,
        paginator: BasePaginator | Mapping[str, Any] | str | None = None,
        data_selector: DataSelector | str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = 60.0,
        retry: RetryPolicy | Mapping[str, Any] | int | bool | None = None,
        rate_limit: RateLimiter | float | Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        show_error_body: bool = False,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_response_seconds: float | None = DEFAULT_MAX_RESPONSE_SECONDS,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers or {})
        self.env = env
        self.auth = create_auth(auth, env)
        self.paginator = paginator
        self.data_selector = data_selector
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = RetryPolicy.create(retry)
        self.rate_limiter = RateLimiter.create(rate_limit)
        self.show_error_body = show_error_body
        self.max_response_bytes = max_response_bytes
        self.max_response_seconds = max_response_seconds
        self.stats = ClientStats()
        self.redactor = Redactor()
        self._lock = threading.Lock()
        self._detection_logged: set[str] = set()
        # requests' proxy / CA-bundle settings from the environment, per origin (see _send_one)
        self._env_settings: dict[tuple[Any, ...], dict[str, Any]] = {}
        install_library_log_redaction()

    # -- public API ----------------------------------------------------------------------

    def paginate(
        self,
        path: str = "",
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        paginator: BasePaginator | Mapping[str, Any] | str | None = None,
        data_selector: DataSelector | str | None = None,
        auth: requests.auth.AuthBase | Mapping[str, Any] | str | None = None,
        response_actions: Sequence[ResponseAction] | None = None,
        max_pages: int | None = None,
        resource: str = "",
        page_concurrency: int = 1,
    ) -> Iterator[Page]:
        """Yield the pages of `path`, following the paginator until it says stop.

        With `page_concurrency` > 1, once page one names the total (offset or page-number
        paginators), the remaining pages are fetched that many at a time and still yielded
        in order (see `rest_assets.http.pages_ahead`).

        `paginator`, `data_selector` and `auth` override the client's (auth "none" sends
        none). `response_actions` follow dlt: dicts with `status_code` and/or `content`
        (substring of the body) and an `action` of "ignore" (stop quietly, yield nothing
        more) or a callable (or list of them) that gets the response and may return a
        modified one; a bare callable applies to every response. Errors raise
        HTTPStatusError / HTTPConnectionError / ResponseFormatError, with secrets redacted.
        """
        request, call_auth, trusted = self._prepare(path, method, params, json, data, headers, auth)
        pager = self._fresh_paginator(self.paginator if paginator is None else paginator)
        selector = self._fresh_selector(
            self.data_selector if data_selector is None else data_selector
        )
        actions = list(response_actions or [])
        if pager is not None:
            pager.init_request(request)

        number = 0
        while True:
            try:
                response = self._execute(request, call_auth, trusted, actions, resource)
            except _Ignore:
                return
            body = self._parse(response, request, resource)
            records = selector.select(body) if body is not None else []
            if pager is None:
                pager = self._detect(response, body, records, resource)
            try:
                pager.update_state(response, body, records)
            except PaginationLoopError as exc:
                # the paginator knows the loop, not which resource and request hit it
                raise PaginationLoopError(
                    self._redact(
                        f"{_prefix(resource)}{request.method} {redact_url(response.url)}: {exc}"
                    )
                ) from None
            number += 1
            with self._lock:
                self.stats.pages += 1
            yield Page(
                records=records, response=response, request=_snapshot(request), number=number
            )
            if not pager.has_next_page:
                return
            if max_pages is not None and number >= max_pages:
                logger.info(self._redact(f"{_prefix(resource)}stopped after max_pages={max_pages}"))
                return
            if number == 1 and page_concurrency > 1 and hasattr(pager, "planned_requests"):
                limit = None if max_pages is None else max_pages - 1
                planned = pager.planned_requests(request, limit)
                if planned:
                    yield from self._pages_ahead(
                        planned,
                        pager,
                        selector,
                        call_auth,
                        trusted,
                        actions,
                        resource,
                        page_concurrency,
                    )
                    return
            pager.update_request(request)

    def _pages_ahead(
        self,
        planned: list[RequestSpec],
        pager: Any,
        selector: DataSelector,
        auth: requests.auth.AuthBase | None,
        trusted: set[Origin],
        actions: list[ResponseAction],
        resource: str,
        width: int,
    ) -> Iterator[Page]:
        def fetch(spec: RequestSpec) -> tuple[requests.Response, Any, list[Any]] | None:
            try:
                response = self._execute(spec, auth, trusted, actions, resource)
            except _Ignore:
                return None
            body = self._parse(response, spec, resource)
            return response, body, selector.select(body) if body is not None else []

        widen_pool(self.session, width)
        for page in fetch_ahead(planned, fetch, pager.ends_here, width, first_number=1):
            with self._lock:
                self.stats.pages += 1
            yield page

    def send(
        self,
        path: str = "",
        *,
        method: str = "POST",
        data: bytes | str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        resource: str = "",
        follow_redirects: bool = True,
    ) -> requests.Response:
        """One request, no pagination: the client's auth (refreshed once on a 401), retries,
        rate limit, response size limits and redaction, as for every page of `paginate`.

        Without `follow_redirects` a 3xx is an error instead of a hop: a write's body and
        credentials go only to the URL the config names. Statuses of 400 and above raise
        HTTPStatusError after the retries, like a page would.
        """
        request, auth, trusted = self._prepare(path, method, None, json, data, headers)
        response = self._execute(request, auth, trusted, [], resource, follow_redirects)
        if not follow_redirects and 300 <= response.status_code < 400:
            response.close()
            raise HTTPStatusError(
                self._redact(
                    f"{_prefix(resource)}{request.method} {self._display_url(request)} was "
                    f"answered with a redirect ({response.status_code}); writes are not "
                    "redirected, configure the final URL"
                ),
                response.status_code,
                self._display_url(request),
            )
        return response

    def url_for(self, path: str = "") -> str:
        """The absolute URL of `path`, `${VAR}`s in it and in base_url resolved."""
        # Values resolved into the URL are locations, not secrets: keep them out of the
        # redactor so that logs and errors still show which host and path failed.
        locations = EnvResolver(self.env)
        return join_url(
            locations.resolve(self.base_url, "base_url"), locations.resolve(path, "path")
        )

    def redact(self, text: str) -> str:
        """`text` with every secret this client knows of masked."""
        return self._redact(text)

    def close(self) -> None:
        """Close the session if the client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building requests -----------------------------------------------------------------

    def _prepare(
        self,
        path: str,
        method: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        auth: requests.auth.AuthBase | Mapping[str, Any] | str | None = None,
    ) -> tuple[RequestSpec, requests.auth.AuthBase | None, set[Origin]]:
        """The request with its values resolved, the auth to send, and the trusted origins."""
        resolver = EnvResolver(self.env)
        request = self._build_request(resolver, path, method, params, json, data, headers)
        self._remember_secrets(resolver.resolved_values)
        call_auth = self.auth if auth is None else create_auth(auth, self.env)
        if isinstance(call_auth, AuthBase) and call_auth.env is None and self.env is not None:
            call_auth.env = self.env
        return request, call_auth, self._trusted_origins(path, request.url)

    def _build_request(
        self,
        resolver: EnvResolver,
        path: str,
        method: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
    ) -> RequestSpec:
        url = self.url_for(path)
        merged: dict[str, str] = dict(self.headers)
        for name, value in (headers or {}).items():
            for existing in [k for k in merged if k.lower() == name.lower()]:
                del merged[existing]
            merged[name] = value
        return RequestSpec(
            method=method.upper(),
            url=url,
            params=resolver.resolve_deep(dict(params or {}), "params"),
            json=resolver.resolve_deep(json, "json"),
            data=resolver.resolve_deep(data, "data"),
            headers=resolver.resolve_deep(merged, "headers"),
        )

    def _trusted_origins(self, path: str, url: str) -> set[Origin]:
        locations = EnvResolver(self.env)
        trusted: set[Origin] = set()
        if self.base_url:
            trusted.add(origin_of(locations.resolve(self.base_url, "base_url")))
        if is_absolute_url(locations.resolve(path, "path")) or not trusted:
            # A full URL given as the endpoint path is configuration too, hence trusted.
            trusted.add(origin_of(url))
        return trusted

    def _fresh_paginator(self, spec: Any) -> BasePaginator | None:
        # Each paginate() gets its own paginator so state never leaks between calls.
        if spec is None:
            return None
        pager = create_paginator(spec)
        if pager is not None and pager is spec:  # create_paginator copies; make sure
            pager = copy.deepcopy(spec)
        if pager is not None and not isinstance(pager, BasePaginator):
            raise ConfigError(f"paginator must be a BasePaginator, got {type(pager).__name__}")
        return pager

    @staticmethod
    def _fresh_selector(spec: DataSelector | str | None) -> DataSelector:
        if isinstance(spec, DataSelector):
            # An auto-detecting selector remembers its choice: start from scratch each call.
            return copy.deepcopy(spec)
        return DataSelector(spec)

    def _detect(
        self, response: requests.Response, body: Any, records: list[Any], resource: str
    ) -> BasePaginator:
        pager = detect_paginator(response, body, records)
        with self._lock:
            first_time = resource not in self._detection_logged
            self._detection_logged.add(resource)
        if first_time:
            description = pager.describe() if hasattr(pager, "describe") else type(pager).__name__
            # A warning, once per resource: a guessed paginator deserves an explicit config.
            logger.warning(
                self._redact(
                    f"{_prefix(resource)}auto-detected paginator: {description}; "
                    "set endpoint.paginator to make it explicit"
                )
            )
        return pager

    # -- sending -------------------------------------------------------------------------------

    def _execute(
        self,
        request: RequestSpec,
        auth: requests.auth.AuthBase | None,
        trusted: set[Origin],
        actions: list[ResponseAction],
        resource: str,
        follow_redirects: bool = True,
    ) -> requests.Response:
        """One logical request: retries, one re-auth on 401, response actions."""
        policy = self.retry
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            try:
                response = self._send(request, auth, trusted, resource, follow_redirects)
            except requests.RequestException as exc:
                if policy.should_retry_exception(exc) and attempt < policy.max_attempts:
                    self._wait_before_retry(
                        policy.backoff(attempt), attempt, request, resource, type(exc).__name__
                    )
                    continue
                raise HTTPConnectionError(
                    self._redact(
                        f"{_prefix(resource)}{request.method} {self._display_url(request)} "
                        f"failed after {_attempts(attempt)}: {type(exc).__name__}: "
                        f"{_short(str(exc))}"
                    ),
                    None,
                    self._display_url(request),
                ) from None  # the cause's text holds the raw URL: never chain it
            response = self._apply_actions(response, actions)
            if (
                response.status_code == 401
                and not reauthenticated
                and auth is not None
                and origin_of(response.url) in trusted
                and getattr(auth, "handle_unauthorized", lambda: False)()
            ):
                reauthenticated = True
                logger.info(
                    self._redact(
                        f"{_prefix(resource)}{request.method} {redact_url(response.url)} "
                        "returned 401; retrying once with fresh credentials"
                    )
                )
                with self._lock:
                    self.stats.retries += 1
                attempt -= 1  # a credential refresh is not a failed attempt
                continue
            if response.status_code < 400:
                return response
            if policy.should_retry_response(response) and attempt < policy.max_attempts:
                try:
                    delay = policy.delay(attempt, response)
                except TooLongWait as wait:
                    raise self._status_error(
                        request,
                        response,
                        resource,
                        attempt,
                        f"; the server asks to wait {wait.seconds:.0f} s, more than "
                        f"max_retry_after={policy.max_retry_after:.0f} s",
                    ) from None
                self._wait_before_retry(
                    delay, attempt, request, resource, f"status {response.status_code}"
                )
                continue
            raise self._status_error(request, response, resource, attempt)

    def _wait_before_retry(
        self, delay: float, attempt: int, request: RequestSpec, resource: str, reason: str
    ) -> None:
        logger.warning(
            self._redact(
                f"{_prefix(resource)}{request.method} {self._display_url(request)} failed "
                f"({reason}); retry {attempt}/{self.retry.max_attempts - 1} in {delay:.2f} s"
            )
        )
        with self._lock:
            self.stats.retries += 1
        self.retry.sleep(delay)

    def _send(
        self,
        request: RequestSpec,
        auth: requests.auth.AuthBase | None,
        trusted: set[Origin],
        resource: str,
        follow_redirects: bool = True,
    ) -> requests.Response:
        """Send once, following redirects ourselves so each hop gets the origin check."""
        method, url = request.method, request.url
        params: dict[str, Any] = request.params
        json, data = request.json, request.data
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_one(
                method, url, params, json, data, request.headers, auth, trusted, resource
            )
            location = response.headers.get("location")
            if (
                not follow_redirects
                or response.status_code not in _REDIRECT_STATUSES
                or not location
            ):
                return response
            url = urljoin(response.url, location)
            params = {}  # the Location header carries the complete query
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, json, data = "GET", None, None
            response.close()
        raise HTTPStatusError(
            self._redact(
                f"{_prefix(resource)}{request.method} {self._display_url(request)} "
                f"was redirected more than {MAX_REDIRECTS} times"
            ),
            None,
            self._display_url(request),
        )

    def _environment_settings(self, url: str) -> dict[str, Any]:
        # requests re-reads proxies and CA bundles from os.environ on every request (~0.5 ms,
        # 0.6 s per 1,000 pages on the bench): read once per origin and session settings.
        session = self.session
        key = (
            origin_of(url),
            session.trust_env,
            repr(session.proxies),
            repr(session.verify),
            repr(session.cert),
        )
        found = self._env_settings.get(key)
        if found is None:
            found = session.merge_environment_settings(url, {}, None, None, None)
            self._env_settings[key] = found
        return dict(found)

    def _send_one(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        json: Any,
        data: Any,
        headers: dict[str, str],
        auth: requests.auth.AuthBase | None,
        trusted: set[Origin],
        resource: str,
    ) -> requests.Response:
        is_trusted = origin_of(url) in trusted
        if is_trusted:
            send_headers: dict[str, str | None] = dict(headers)
            send_params = params
            send_auth = auth
        else:
            send_headers, send_params, url = self._strip_credentials(headers, params, url)
            # An explicit no-op auth keeps a session-level auth from being merged in.
            send_auth = _NO_AUTH
        prepared = self.session.prepare_request(
            requests.Request(
                method=method,
                url=url,
                params=send_params,
                json=json,
                data=data,
                headers=send_headers,
                auth=send_auth,
            )
        )
        if is_trusted and isinstance(auth, AuthBase):
            self._remember_secrets(auth.secret_values())
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        settings = self._environment_settings(prepared.url or url)
        started = time.perf_counter()
        settings["stream"] = True  # the body is read by _read_body, bounded in size and time
        try:
            response = self.session.send(
                prepared, timeout=self.timeout, allow_redirects=False, **settings
            )
        finally:
            with self._lock:
                self.stats.requests += 1
        try:
            size = self._read_body(response, method, prepared.url or url, resource, started)
        except BaseException:
            response.close()  # the connection holds an unread body: never reuse it
            raise
        with self._lock:
            self.stats.bytes += size
        if logger.isEnabledFor(logging.DEBUG):
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.debug(
                self._redact(
                    f"{_prefix(resource)}{method} {redact_url(prepared.url or url)} -> "
                    f"{response.status_code} in {elapsed_ms:.0f} ms ({size} bytes)"
                    + ("" if is_trusted else " [other origin: sent without credentials]")
                )
            )
        return response

    def _read_body(
        self,
        response: requests.Response,
        method: str,
        url: str,
        resource: str,
        started: float,
    ) -> int:
        """Read the body into `response` (so `.content` works), within the size and time limits.

        Returns the decoded size. Read errors become the `requests` exceptions that the retry
        policy knows (a reset or truncated body is retried like a refused connection).
        """
        limit = self.max_response_bytes
        declared = _content_length(response)
        where = f"{_prefix(resource)}{method} {redact_url(url)}"
        if limit is not None and declared is not None and declared > limit:
            raise ResponseTooLargeError(
                self._redact(
                    f"{where} returned status {response.status_code} with a "
                    f"{_size(declared)} body (Content-Length), over max_response_bytes="
                    f"{limit} ({_size(limit)}); refused without reading it. Ask for smaller "
                    "pages (a page size parameter) or raise client.max_response_bytes"
                )
            )
        raw = response.raw
        if response._content is not False or raw is None:
            # an adapter (a cache, a test double) already holds the body in memory
            return len(response.content or b"")
        # read1 returns what one socket read brings, so the checks below run however slowly
        # the body trickles in (read() would wait for a whole chunk); urllib3 < 2 lacks it
        read = getattr(raw, "read1", None) or raw.read
        deadline = (
            None if self.max_response_seconds is None else started + self.max_response_seconds
        )
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = read(_READ_CHUNK, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.exceptions.ReadTimeout(str(exc)) from None
            except urllib3.exceptions.ProtocolError as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
            except urllib3.exceptions.DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(str(exc)) from None
            except urllib3.exceptions.SSLError as exc:
                raise requests.exceptions.SSLError(str(exc)) from None
            if not chunk:
                break
            size += len(chunk)
            chunks.append(chunk)
            if limit is not None and size > limit:
                raise ResponseTooLargeError(
                    self._redact(
                        f"{where} returned status {response.status_code} with a body over "
                        f"max_response_bytes={limit} ({_size(limit)}); stopped reading at "
                        f"{_size(size)}. Ask for smaller pages (a page size parameter) or "
                        "raise client.max_response_bytes"
                    )
                )
            if deadline is not None and time.perf_counter() > deadline:
                raise HTTPConnectionError(
                    self._redact(
                        f"{where}: the response body was still arriving after "
                        f"max_response_seconds={self.max_response_seconds:g} s "
                        f"({_size(size)} received); the server never finished the page. "
                        "Raise client.max_response_seconds if the API is just slow"
                    ),
                    None,
                    self._redact(redact_url(url)),
                )
        response._content = b"".join(chunks)  # what `.content` would have read
        response._content_consumed = True
        return size

    def _strip_credentials(
        self, headers: dict[str, str], params: dict[str, Any], url: str
    ) -> tuple[dict[str, str | None], dict[str, Any], str]:
        """Headers, params and URL for a foreign origin: no credentials, no known secrets."""
        secrets = self.redactor.values

        def leaks(value: Any) -> bool:
            text = str(value)
            return any(secret in text for secret in secrets)

        safe_headers: dict[str, str | None] = {
            name: value
            for name, value in headers.items()
            if not _SENSITIVE_HEADER.search(name) and not leaks(value)
        }
        # None removes a header the session itself would add (requests' merge rule).
        for name in self.session.headers:
            if _SENSITIVE_HEADER.search(name) and name not in safe_headers:
                safe_headers[name] = None
        safe_params = {
            name: value
            for name, value in params.items()
            if name.lower() not in SENSITIVE_PARAMS and not leaks(value)
        }
        parts = urlsplit(url)
        if parts.query and secrets:
            query = [
                (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not leaks(v)
            ]
            url = urlunsplit(parts._replace(query=urlencode(query)))
        return safe_headers, safe_params, url

    # -- responses -----------------------------------------------------------------------------

    def _apply_actions(
        self, response: requests.Response, actions: list[ResponseAction]
    ) -> requests.Response:
        for action in actions:
            if callable(action) and not isinstance(action, Mapping):
                response = _call_hook(action, response)
                continue
            if not _action_matches(action, response):
                continue
            todo = action.get("action")
            steps = todo if isinstance(todo, list | tuple) else [todo]
            for step in steps:
                if step == "ignore":
                    raise _Ignore()
                if callable(step):
                    response = _call_hook(step, response)
                else:
                    raise ConfigError(f"response action {todo!r} is not 'ignore' nor a callable")
        return response

    def _parse(self, response: requests.Response, request: RequestSpec, resource: str) -> Any:
        content = response.content
        if not content or not content.strip():
            return None
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            content_type = response.headers.get("content-type", "no content type")
            message = (
                f"{_prefix(resource)}{request.method} {redact_url(response.url)} returned "
                f"status {response.status_code} with content type {content_type!r}, "
                "which is not JSON"
            )
            if self.show_error_body:
                message += f"; body starts with: {_truncate(response.text)}"
            raise ResponseFormatError(self._redact(message)) from None

    def _status_error(
        self,
        request: RequestSpec,
        response: requests.Response,
        resource: str,
        attempt: int,
        extra: str = "",
    ) -> HTTPStatusError:
        url = redact_url(response.url or request.url)
        message = (
            f"{_prefix(resource)}{request.method} {url} failed with status "
            f"{response.status_code} after {_attempts(attempt)}{extra}"
        )
        if self.show_error_body:
            message += f"; response body: {_truncate(response.text)}"
        return HTTPStatusError(self._redact(message), response.status_code, self._redact(url))

    # -- redaction -----------------------------------------------------------------------------

    def _remember_secrets(self, values: Any) -> None:
        values = list(values)
        if values:
            self.redactor.add(*values)
            PROCESS_REDACTOR.add(*values)

    def _redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def _display_url(self, request: RequestSpec) -> str:
        url = request.url
        if request.params:
            pairs = [(k, v) for k, v in request.params.items() if v is not None]
            separator = "&" if urlsplit(url).query else "?"
            url = f"{url}{separator}{urlencode(pairs, doseq=True)}" if pairs else url
        return self._redact(redact_url(url))


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_AUTH = _NoAuth()


def _call_hook(hook: Callable[..., Any], response: requests.Response) -> requests.Response:
    result = hook(response)
    return result if isinstance(result, requests.Response) else response


def _action_matches(action: Mapping[str, Any], response: requests.Response) -> bool:
    status = action.get("status_code")
    content = action.get("content")
    if status is None and content is None:
        return False
    if status is not None:
        statuses = status if isinstance(status, list | tuple | set) else [status]
        if response.status_code not in {int(s) for s in statuses}:
            return False
    return content is None or str(content) in response.text


def _snapshot(request: RequestSpec) -> RequestSpec:
    # The paginator mutates the request after the page is yielded; hand out a copy.
    return RequestSpec(
        method=request.method,
        url=request.url,
        params=dict(request.params),
        json=copy.deepcopy(request.json),
        data=copy.deepcopy(request.data),
        headers=dict(request.headers),
    )


def _content_length(response: requests.Response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    # a compressed body's length says nothing of its decoded size: check while reading
    return None if response.headers.get("content-encoding") else value


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _prefix(resource: str) -> str:
    return f"resource {resource!r}: " if resource else ""


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _truncate(text: str) -> str:
    return text if len(text) <= ERROR_BODY_LIMIT else text[:ERROR_BODY_LIMIT] + "..."


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:300] + "..."
