"""RestClient: the facade of the HTTP engine. It holds a client's settings and assembles, per
call, the request pipeline (`pipeline`: attempts -> actions -> redirects -> hop) and the
page walk (`pagination`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import requests
import requests.auth

from rest_assets.errors import HTTPStatusError
from rest_assets.http.actions import Ignore, ResponseAction
from rest_assets.http.answers import check_answer, where_of
from rest_assets.http.attempts import Attempts
from rest_assets.http.auth import AuthBase, create_auth
from rest_assets.http.body import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RESPONSE_SECONDS,
    BodyLimits,
)
from rest_assets.http.context import CallContext
from rest_assets.http.detector import detect_paginator
from rest_assets.http.env import EnvResolver
from rest_assets.http.hop import Hop, HopSettings
from rest_assets.http.location_secrets import location_secrets
from rest_assets.http.messages import prefix
from rest_assets.http.origins import OriginRules
from rest_assets.http.pages_ahead import FetchOne
from rest_assets.http.pagination import (
    DEFAULT_MAX_EMPTY_PAGES,
    DEFAULT_MAX_PAGES,
    PageWalk,
    fresh_paginator,
    fresh_selector,
)
from rest_assets.http.paginators import BasePaginator, PaginatorSpec
from rest_assets.http.parse import parse_json
from rest_assets.http.pipeline import Pipeline
from rest_assets.http.prepare import CallArgs, build_request, merge_headers, origins_for, url_for
from rest_assets.http.redact import Redactor, install_library_log_redaction, remember_secrets
from rest_assets.http.redirects import Redirects
from rest_assets.http.request import Fetched, Page, RequestSpec
from rest_assets.http.retry import RateLimiter, RetryPolicy
from rest_assets.http.selectors import DataSelector
from rest_assets.http.sessions import EnvironmentSettings, widen_pool
from rest_assets.http.stats import ClientStats
from rest_assets.http.urls import shown_url

logger = logging.getLogger("rest_assets.http")

AuthSpec = requests.auth.AuthBase | Mapping[str, Any] | str | None

__all__ = ["ClientStats", "RestClient"]


class RestClient:
    """An HTTP client for one REST API.

    - `base_url`: joined with relative paths (its own path kept); may hold `${VAR}`.
    - `headers`: sent with every request (endpoint headers win); values may hold `${VAR}`.
    - `auth`: an auth instance or a config dict (see `create_auth`); attached only to
      requests whose origin (scheme, host, port) is the base URL's or that of the full URL
      given as `path`. Links to other origins are followed without credentials, and
      without headers and parameters named like credentials (`rest_assets.http.sensitive`).
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

    Settings are read at each call, so changing one (say `client.max_response_bytes`)
    applies to the next `paginate()` or `send()`.

    Logs go to the "rest_assets.http" logger with secrets redacted: every value resolved
    from `${VAR}` and every `auth.secret_values()` is masked, as are sensitive query params.
    urllib3's own DEBUG lines are redacted too: the first client installs one filter on
    each of urllib3's loggers for the process (`redact.install_library_log_redaction`,
    idempotent: more clients add none).
    """

    def __init__(  # noqa: PLR0913 - the client settings of the config, one keyword each
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: AuthSpec = None,
        paginator: PaginatorSpec = None,
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
        self._notes_logged: set[tuple[str, str]] = set()
        self._environment = EnvironmentSettings(self.session)
        install_library_log_redaction()

    # -- public API ----------------------------------------------------------------------

    def paginate(  # noqa: PLR0913 - an endpoint's settings, by keyword
        self,
        path: str = "",
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        paginator: PaginatorSpec = None,
        data_selector: DataSelector | str | None = None,
        auth: AuthSpec = None,
        response_actions: Sequence[ResponseAction] | None = None,
        max_pages: int | None = DEFAULT_MAX_PAGES,
        resource: str = "",
        page_concurrency: int = 1,
        max_empty_pages: int | None = DEFAULT_MAX_EMPTY_PAGES,
        trust_path_origin: bool = True,
    ) -> Iterator[Page]:
        """Yield the pages of `path`, following the paginator until it says stop.

        With `page_concurrency` > 1, once page one names the total (offset or page-number
        paginators), the remaining pages are fetched that many at a time and still yielded
        in order (see `rest_assets.http.pages_ahead`).

        `paginator`, `data_selector` and `auth` override the client's (auth "none" sends
        none). `response_actions` follow dlt (see `rest_assets.http.actions`): a bare
        callable, or dicts with an optional `status_code` and/or `content` (substring of the
        body; neither: every response) and an `action` of "ignore" (stop this walk quietly,
        yield nothing more; counted in `stats.ignored`) or a callable (or list of them) that
        gets the response and may change or replace it. Errors raise HTTPStatusError /
        HTTPConnectionError / ResponseFormatError, with secrets redacted.

        The walk stops after `max_pages` pages (default DEFAULT_MAX_PAGES, None: no limit)
        and after `max_empty_pages` empty pages in a row while the paginator still reports
        a next page (default DEFAULT_MAX_EMPTY_PAGES, with a WARNING; None: no limit).

        `trust_path_origin` False: `path` was filled in from data (a URL in a parent row), so
        a full URL there gets no credentials unless its origin is the base URL's.
        """
        args = CallArgs(path, method, params, json, data, headers)
        request, call_auth, origins = self._prepare(args, auth, trust_path_origin)
        context = CallContext(resource, self.redactor, self.stats)
        pipeline = self._pipeline(call_auth, origins, context)
        pager = fresh_paginator(self.paginator if paginator is None else paginator)
        selector = fresh_selector(self.data_selector if data_selector is None else data_selector)
        fetch = self._page_fetcher(pipeline, selector, list(response_actions or []), resource)
        walk = PageWalk(
            fetch,
            lambda fetched: self._detect(fetched, resource),
            context,
            self._widen_pool,
            note=lambda text: self._note_once(resource, text),
        )
        yield from walk.pages(
            request,
            pager,
            max_pages=max_pages,
            page_concurrency=page_concurrency,
            max_empty_pages=max_empty_pages,
        )

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
        request, auth, origins = self._prepare(CallArgs(path, method, None, json, data, headers))
        pipeline = self._pipeline(auth, origins, CallContext(resource, self.redactor, self.stats))
        response = pipeline.send(request, (), follow_redirects).response
        if not follow_redirects and 300 <= response.status_code < 400:
            response.close()
            shown = shown_url(request.url, request.params, self.redactor.redact)
            raise HTTPStatusError(
                self.redactor.redact(
                    f"{prefix(resource)}{request.method} {shown} was "
                    f"answered with a redirect ({response.status_code}); writes are not "
                    "redirected, configure the final URL"
                ),
                response.status_code,
                shown,
            )
        return response

    def url_for(self, path: str = "") -> str:
        """The absolute URL of `path`, `${VAR}`s in it and in base_url resolved."""
        return url_for(self.base_url, path, self.env)

    def redact(self, text: str) -> str:
        """`text` with every secret this client knows of masked."""
        return self.redactor.redact(text)

    def close(self) -> None:
        """Close the session if the client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- assembling a call ---------------------------------------------------------------

    def _prepare(
        self, args: CallArgs, auth: AuthSpec = None, trust_path_origin: bool = True
    ) -> tuple[RequestSpec, requests.auth.AuthBase | None, OriginRules]:
        """The request with its values resolved, the auth to send, and the origin rules."""
        resolver = EnvResolver(self.env)
        headers = merge_headers(self.headers, args.headers)
        request = build_request(resolver, self.url_for(args.path), args, headers)
        remember_secrets(self.redactor, resolver.resolved_values)
        # credentials in the URL itself: userinfo, `${VAR}`s in the path (a bot token)
        remember_secrets(self.redactor, location_secrets((self.base_url, args.path), self.env))
        call_auth = self.auth if auth is None else create_auth(auth, self.env)
        if isinstance(call_auth, AuthBase) and call_auth.env is None and self.env is not None:
            call_auth.env = self.env
        if isinstance(call_auth, AuthBase):
            limits = BodyLimits(self.max_response_bytes, self.max_response_seconds)
            call_auth.use_client_limits(self.timeout, limits)  # its own requests (OAuth2)
        trusted = origins_for(self.base_url, args.path, request.url, self.env, trust_path_origin)
        return request, call_auth, OriginRules(trusted, self.session.headers, self.redactor)

    def _pipeline(
        self, auth: requests.auth.AuthBase | None, origins: OriginRules, context: CallContext
    ) -> Pipeline:
        limits = BodyLimits(self.max_response_bytes, self.max_response_seconds)
        settings = HopSettings(self.timeout, limits, self.rate_limiter)
        hop = Hop(self.session, settings, self._environment, context)
        return Pipeline(
            Attempts(self.retry, auth, origins, context, show_error_body=self.show_error_body),
            Redirects(hop, origins, auth, context),
        )

    def _page_fetcher(
        self,
        pipeline: Pipeline,
        selector: DataSelector,
        actions: list[ResponseAction],
        resource: str,
    ) -> FetchOne:
        def fetch(request: RequestSpec) -> Fetched | None:
            try:
                reply = pipeline.send(request, actions)
            except Ignore as ignored:
                self.stats.add_ignored(ignored.status)
                return None
            body = parse_json(
                reply,
                request,
                resource=resource,
                show_error_body=self.show_error_body,
                redact=self.redactor.redact,
            )
            records = selector.select(body) if body is not None else []
            response = reply.response
            check_answer(
                body,
                records,
                selector,
                where=lambda: where_of(resource, request.method, response.url or request.url),
                status=response.status_code,
                redact=self.redactor.redact,
            )
            return Fetched(response, body, records)

        return fetch

    def _detect(self, fetched: Fetched, resource: str) -> BasePaginator:
        pager = detect_paginator(fetched.response, fetched.body, fetched.records)
        with self._lock:
            first_time = resource not in self._detection_logged
            self._detection_logged.add(resource)
        if first_time:
            # A warning, once per resource: a guessed paginator deserves an explicit config.
            logger.warning(
                self.redactor.redact(
                    f"{prefix(resource)}auto-detected paginator: {pager.describe()}; "
                    "set endpoint.paginator to make it explicit"
                )
            )
        return pager

    def _note_once(self, resource: str, text: str) -> None:
        """Log a paginator's note (an API capping its page size) once per resource."""
        with self._lock:
            if (resource, text) in self._notes_logged:
                return
            self._notes_logged.add((resource, text))
        logger.warning(self.redactor.redact(f"{prefix(resource)}{text}"))

    def _widen_pool(self, width: int) -> None:
        widen_pool(self.session, width)
