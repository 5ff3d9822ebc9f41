"""Authentication for RestClient: dlt's auth types plus Dango's custom header.

Field values may hold `${VAR}` references; they are resolved from `env` (default os.environ)
each time a request is authenticated, so secrets stay references until then. The client
decides *whether* to authenticate a request (only requests to the configured origin).
"""

from __future__ import annotations

import base64
import inspect
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import requests
import requests.auth

from rest_assets.errors import (
    AuthError,
    ConfigError,
    HTTPConnectionError,
    MissingEnvVarError,
    ResponseFormatError,
)
from rest_assets.http.body import BodyLimits, BodySource, read_body
from rest_assets.http.env import EnvResolver
from rest_assets.http.redact import Redactor, redact_url


class AuthBase(requests.auth.AuthBase):
    """Base of every rest-assets auth.

    Subclasses implement `__call__(request)` and list their secrets in `secret_values()`
    (used to redact logs and errors). `env` is where `${VAR}` references are looked up.
    """

    env: Mapping[str, str] | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request

    def secret_values(self) -> list[str]:
        """Current secret values (resolved), to be masked wherever text is logged."""
        return []

    def handle_unauthorized(self) -> bool:
        """Called after a 401; return True when a retry with fresh credentials may succeed."""
        return False

    def use_client_limits(self, timeout: float | tuple[float, float], limits: BodyLimits) -> None:
        """The client's socket timeout and body limits, for requests the auth makes itself
        (an OAuth2 token request); called by the client before each call."""

    def _resolve(self, value: str, field: str) -> str:
        return EnvResolver(self.env).resolve(value, f"auth.{field}")

    def _resolve_quietly(self, value: str | None) -> str | None:
        # secret_values() must never fail: an unset variable simply has nothing to redact.
        if value is None:
            return None
        try:
            return EnvResolver(self.env).resolve(value)
        except MissingEnvVarError:
            return None


class NoAuth(AuthBase):
    """Sends requests unchanged."""


class BearerTokenAuth(AuthBase):
    """`Authorization: Bearer <token>`."""

    def __init__(self, token: str, *, env: Mapping[str, str] | None = None) -> None:
        self.token = token
        self.env = env

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._resolve(self.token, 'token')}"
        return request

    def secret_values(self) -> list[str]:
        return [v for v in [self._resolve_quietly(self.token)] if v]


def _set_query_param(request: requests.PreparedRequest, name: str, value: str) -> None:
    # Replace rather than append: a next link may already carry the parameter.
    parts = urlsplit(request.url or "")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    request.url = urlunsplit(parts._replace(query=urlencode(query)))


class APIKeyAuth(AuthBase):
    """An API key in a header (default), a query parameter or a cookie."""

    LOCATIONS = ("header", "query", "param", "cookie")

    def __init__(
        self,
        name: str = "Authorization",
        api_key: str = "",
        location: str = "header",
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if location not in self.LOCATIONS:
            raise ConfigError(
                f"auth.location must be one of {list(self.LOCATIONS)}, got {location!r}"
            )
        if not api_key:
            raise ConfigError("auth type 'api_key' needs api_key (e.g. api_key: ${MY_API_KEY})")
        self.name = name
        self.api_key = api_key
        self.location = location
        self.env = env

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key = self._resolve(self.api_key, "api_key")
        if self.location == "header":
            request.headers[self.name] = key
        elif self.location == "cookie":
            existing = request.headers.get("Cookie")
            if isinstance(existing, bytes):
                existing = existing.decode("latin-1")  # how HTTP header bytes read as text
            cookie = f"{self.name}={key}"
            request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
        else:
            _set_query_param(request, self.name, key)
        return request

    def secret_values(self) -> list[str]:
        return [v for v in [self._resolve_quietly(self.api_key)] if v]


def _basic_credentials(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class HttpBasicAuth(AuthBase):
    """HTTP Basic. An empty password is allowed (some APIs put the key in the username)."""

    def __init__(
        self, username: str, password: str = "", *, env: Mapping[str, str] | None = None
    ) -> None:
        self.username = username
        self.password = password or ""
        self.env = env

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        username = self._resolve(self.username, "username")
        password = self._resolve(self.password, "password")
        request.headers["Authorization"] = f"Basic {_basic_credentials(username, password)}"
        return request

    def secret_values(self) -> list[str]:
        username = self._resolve_quietly(self.username)
        password = self._resolve_quietly(self.password)
        values = [password] if password else []
        if username is not None and password is not None:
            values.append(_basic_credentials(username, password))
        if not password and username:
            values.append(username)  # the username is the secret when there is no password
        return values


class CustomHeaderAuth(AuthBase):
    """A token in a header of the API's choosing (e.g. X-Shopify-Access-Token)."""

    def __init__(
        self, header_name: str, token: str, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.header_name = header_name
        self.token = token
        self.env = env

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header_name] = self._resolve(self.token, "token")
        return request

    def secret_values(self) -> list[str]:
        return [v for v in [self._resolve_quietly(self.token)] if v]


def _dig(body: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(body, Mapping) or part not in body:
            return None
        body = body[part]
    return body


class OAuth2ClientCredentials(AuthBase):
    """OAuth 2.0 client credentials grant; the token is cached and refreshed.

    A token is fetched on first use and reused until `refresh_margin` seconds before it
    expires (half its lifetime for short-lived tokens), or until the API answers 401
    (`handle_unauthorized` drops it and the client retries once). `client_auth` chooses how
    the client credentials reach the token endpoint: in the form body
    ("client_secret_post", dlt's behaviour) or as HTTP Basic ("client_secret_basic").
    Thread-safe: concurrent requests share one token fetch.
    """

    CLIENT_AUTH = ("client_secret_post", "client_secret_basic")

    def __init__(  # noqa: PLR0913 - dlt's OAuth2 client-credentials parameters, by keyword
        self,
        access_token_url: str,
        client_id: str,
        client_secret: str,
        access_token_request_data: Mapping[str, Any] | None = None,
        default_token_expiration: float = 3600,
        client_auth: str = "client_secret_post",
        token_path: str = "access_token",
        expires_in_path: str = "expires_in",
        session: requests.Session | None = None,
        *,
        access_token: str | None = None,
        timeout: float | None = None,
        refresh_margin: float = 60.0,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if client_auth not in self.CLIENT_AUTH:
            raise ConfigError(
                f"auth.client_auth must be one of {list(self.CLIENT_AUTH)}, got {client_auth!r}"
            )
        self.access_token_url = access_token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_request_data = dict(access_token_request_data or {})
        self.default_token_expiration = float(default_token_expiration)
        self.client_auth = client_auth
        self.token_path = token_path
        self.expires_in_path = expires_in_path
        self.session = session
        # None: the client's timeout; the body limits are always the client's (as for pages)
        self.timeout = timeout
        self._client_timeout: float | tuple[float, float] = 60.0
        self._limits = BodyLimits()
        self.refresh_margin = refresh_margin
        self.env = env
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = access_token
        # A token handed in has an unknown age: trust it for the default lifetime.
        self._expires_at = clock() + self.default_token_expiration if access_token else 0.0
        self.token_requests = 0

    @property
    def access_token(self) -> str | None:
        """The cached token (None before the first request)."""
        return self._token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._current_token()}"
        return request

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._token, lifetime = self._fetch_token()
                margin = min(self.refresh_margin, lifetime / 2)
                self._expires_at = self._clock() + lifetime - margin
            return self._token

    def handle_unauthorized(self) -> bool:
        with self._lock:
            self._token = None
            self._expires_at = 0.0
        return True

    def use_client_limits(self, timeout: float | tuple[float, float], limits: BodyLimits) -> None:
        self._client_timeout = timeout
        self._limits = limits

    def _fetch_token(self) -> tuple[str, float]:
        url = self._resolve(self.access_token_url, "access_token_url")
        client_id = self._resolve(self.client_id, "client_id")
        client_secret = self._resolve(self.client_secret, "client_secret")
        data: dict[str, Any] = {"grant_type": "client_credentials"}
        data.update(
            EnvResolver(self.env).resolve_deep(
                self.access_token_request_data, "auth.access_token_request_data"
            )
        )
        headers = {"Accept": "application/json"}
        if self.client_auth == "client_secret_basic":
            headers["Authorization"] = f"Basic {_basic_credentials(client_id, client_secret)}"
        else:
            data["client_id"] = client_id
            data["client_secret"] = client_secret
        body = self._post_token_request(url, data, headers, [client_id, client_secret])
        token = _dig(body, self.token_path)
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"OAuth2 token response from {redact_url(url)} has no {self.token_path!r}"
            )
        expires_in = _dig(body, self.expires_in_path)
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        return token, self.default_token_expiration if lifetime is None else lifetime

    def _post_token_request(
        self, url: str, data: dict[str, Any], headers: dict[str, str], secrets: list[str]
    ) -> Any:
        """POST the token request and parse its JSON body.

        Never redirected: the client secret (and the token the answer holds) would go to
        whatever origin the token endpoint names. The body is read within the client's
        limits, in bytes and in time, like every page.
        """
        redactor = Redactor(secrets)
        shown = redact_url(url)
        session = self.session or requests.Session()
        self.token_requests += 1
        started = time.perf_counter()
        timeout = self.timeout if self.timeout is not None else self._client_timeout
        try:
            response = session.post(
                url, data=data, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            )
            try:
                if response.is_redirect or 300 <= response.status_code < 400:
                    target = redact_url(response.headers.get("location", ""))
                    raise AuthError(
                        f"OAuth2 token request to {shown} was answered with a redirect "
                        f"({response.status_code}) to {target or 'nowhere'}; token requests "
                        "are never redirected (the client secret would go with it): set "
                        "access_token_url to the final URL"
                    )
                source = BodySource("", "POST", url, redactor.redact)
                content = read_body(response, self._limits, source, started)
            finally:
                response.close()
        except requests.RequestException as exc:
            # `from None`: the requests exception text may echo the URL with credentials.
            raise AuthError(
                f"OAuth2 token request to {shown} failed: {type(exc).__name__}"
            ) from None
        except (ResponseFormatError, HTTPConnectionError) as exc:
            raise AuthError(f"OAuth2 token request: {redactor.redact(str(exc))}") from None
        finally:
            if self.session is None:
                session.close()
        if not response.ok:
            raise AuthError(
                f"OAuth2 token request to {shown} failed with status "
                f"{response.status_code}; check client_id, client_secret and access_token_url"
            )
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise AuthError(
                f"OAuth2 token response from {shown} is not JSON "
                f"(content type {response.headers.get('content-type')!r})"
            ) from None

    def secret_values(self) -> list[str]:
        client_id = self._resolve_quietly(self.client_id)
        secret = self._resolve_quietly(self.client_secret)
        values = [v for v in (secret, self._token) if v]
        if client_id is not None and secret is not None:
            values.append(_basic_credentials(client_id, secret))
        return values


AUTH_TYPES: dict[str, type[requests.auth.AuthBase]] = {
    "none": NoAuth,
    "bearer": BearerTokenAuth,
    "api_key": APIKeyAuth,
    "http_basic": HttpBasicAuth,
    "basic": HttpBasicAuth,
    "oauth2_client_credentials": OAuth2ClientCredentials,
    "custom_header": CustomHeaderAuth,
}


def register_auth(name: str, cls: type[requests.auth.AuthBase]) -> None:
    """Make `{"type": name, ...}` build `cls(**other_keys)`."""
    if not (inspect.isclass(cls) and issubclass(cls, requests.auth.AuthBase)):
        raise TypeError(f"{cls!r} is not a subclass of requests.auth.AuthBase")
    AUTH_TYPES[name] = cls


def create_auth(
    spec: requests.auth.AuthBase | Mapping[str, Any] | str | None,
    env: Mapping[str, str] | None = None,
) -> requests.auth.AuthBase | None:
    """An auth object from a config value.

    None, "none" or `{"type": "none"}` -> None; an auth instance -> itself; a dict with a
    `type` (see AUTH_TYPES / register_auth) and that type's parameters; `{"token": x}` ->
    bearer. Values may hold `${VAR}`, resolved from `env` when requests are sent.
    """
    if spec is None:
        return None
    if isinstance(spec, requests.auth.AuthBase):
        return spec
    kind, options = _kind_and_options(spec)
    if kind == "none":
        return None
    cls = AUTH_TYPES.get(kind)
    if cls is None:
        raise ConfigError(
            f"unknown auth type {kind!r}; known types: {', '.join(sorted(AUTH_TYPES))}"
        )
    auth = _build(kind, cls, options, env)
    if isinstance(auth, AuthBase) and auth.env is None and env is not None:
        auth.env = env
    return auth


def _kind_and_options(spec: object) -> tuple[str, dict[str, Any]]:
    """The auth type and its options, from a type name or a dict (`{token: x}`: bearer)."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"auth must be a dict or an auth instance, got {type(spec).__name__}")
    options = dict(spec)
    kind = options.pop("type", None)
    if kind is None:
        if "token" not in options:
            raise ConfigError(
                "auth needs a 'type' (one of " + ", ".join(sorted(AUTH_TYPES)) + ") "
                "or a 'token' for bearer auth"
            )
        kind = "bearer"
    return kind, options


def _build(
    kind: str,
    cls: type[requests.auth.AuthBase],
    options: dict[str, Any],
    env: Mapping[str, str] | None,
) -> requests.auth.AuthBase:
    parameters = inspect.signature(cls).parameters
    if "env" in parameters:
        options["env"] = env
    unknown = sorted(set(options) - set(parameters))
    accepts_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if unknown and not accepts_kwargs:
        raise ConfigError(
            f"auth type {kind!r} does not take {unknown}; it takes "
            f"{sorted(p for p in parameters if p != 'env')}"
        )
    missing = [
        name
        for name, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and name not in options
    ]
    if missing:
        raise ConfigError(
            f"auth type {kind!r} needs {', '.join(missing)}; it takes "
            f"{sorted(p for p in parameters if p != 'env')}"
        )
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"auth type {kind!r}: {exc}") from None
