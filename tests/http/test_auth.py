"""Every auth type against a real LocalAPI, including OAuth2 token caching and refresh."""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import AuthError, ConfigError, HTTPStatusError, MissingEnvVarError
from rest_assets.http.auth import (
    AUTH_TYPES,
    APIKeyAuth,
    AuthBase,
    BearerTokenAuth,
    CustomHeaderAuth,
    HttpBasicAuth,
    NoAuth,
    OAuth2ClientCredentials,
    create_auth,
    register_auth,
)
from rest_assets.http.client import RestClient

SECRET = "s3cret-client-value"


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with LocalAPI() as server:
        server.route("GET", "/me", lambda r: Response([{"ok": True}]))
        yield server


def fetch(api: LocalAPI, auth: Any, env: dict[str, str] | None = None, **kwargs: Any) -> Request:
    client = RestClient(api.url, auth=auth, env=env)
    list(client.paginate("me", **kwargs))
    return api.requests_to("/me")[-1]


def basic_pair(header: str | None) -> str:
    assert header is not None and header.startswith("Basic ")
    return base64.b64decode(header.removeprefix("Basic ")).decode()


# -- simple types --------------------------------------------------------------------------------


def test_bearer(api: LocalAPI) -> None:
    assert fetch(api, BearerTokenAuth("tok-123")).header("Authorization") == "Bearer tok-123"
    assert fetch(api, {"token": "tok-456"}).header("Authorization") == "Bearer tok-456"
    assert (
        fetch(api, {"type": "bearer", "token": "${TOK}"}, env={"TOK": "tok-789"}).header(
            "Authorization"
        )
        == "Bearer tok-789"
    )


def test_api_key_header_with_custom_name(api: LocalAPI) -> None:
    sent = fetch(api, {"type": "api_key", "name": "X-API-Key", "api_key": "k-header"})
    assert sent.header("X-API-Key") == "k-header"
    assert sent.query == {}


def test_api_key_in_query_with_custom_name_replaces_existing(api: LocalAPI) -> None:
    auth = APIKeyAuth(name="appid", api_key="k-query", location="query")

    sent = fetch(api, auth, params={"appid": "stale", "q": "x"})

    assert sent.query == {"appid": ["k-query"], "q": ["x"]}
    assert sent.header("Authorization") is None


def test_api_key_default_name_is_authorization(api: LocalAPI) -> None:
    assert fetch(api, APIKeyAuth(api_key="raw-key")).header("Authorization") == "raw-key"


def test_basic_with_empty_password(api: LocalAPI) -> None:
    assert basic_pair(fetch(api, HttpBasicAuth("key_only")).header("Authorization")) == (
        "key_only:"
    )
    sent = fetch(api, {"type": "http_basic", "username": "u", "password": "${PW}"}, {"PW": "p w"})
    assert basic_pair(sent.header("Authorization")) == "u:p w"
    assert basic_pair(fetch(api, {"type": "basic", "username": "a"}).header("Authorization")) == (
        "a:"
    )


def test_custom_header(api: LocalAPI) -> None:
    spec = {"type": "custom_header", "header_name": "X-Shopify-Access-Token", "token": "shp"}
    sent = fetch(api, spec)
    assert sent.header("X-Shopify-Access-Token") == "shp"
    assert sent.header("Authorization") is None
    assert fetch(api, CustomHeaderAuth("X-Auth-Token", "t2")).header("X-Auth-Token") == "t2"


def test_no_auth(api: LocalAPI) -> None:
    assert create_auth(None) is None
    assert create_auth("none") is None
    assert create_auth({"type": "none"}) is None
    assert fetch(api, NoAuth()).header("Authorization") is None


def test_endpoint_auth_overrides_client_auth(api: LocalAPI) -> None:
    client = RestClient(api.url, auth=BearerTokenAuth("client-level"))
    list(client.paginate("me", auth="none"))
    list(client.paginate("me", auth={"token": "endpoint-level"}))
    sent = api.requests_to("/me")
    assert sent[0].header("Authorization") is None
    assert sent[1].header("Authorization") == "Bearer endpoint-level"


def test_missing_env_var_in_auth_names_it(api: LocalAPI) -> None:
    auth = create_auth({"type": "bearer", "token": "${NO_SUCH_TOKEN_VAR}"}, env={})
    with pytest.raises(MissingEnvVarError, match="NO_SUCH_TOKEN_VAR") as err:
        fetch(api, auth)
    assert "auth.token" in str(err.value)
    assert api.requests == []


def test_create_auth_errors_and_instances() -> None:
    instance = BearerTokenAuth("x")
    assert create_auth(instance) is instance
    with pytest.raises(ConfigError, match=r"unknown auth type 'magic'.*bearer"):
        create_auth({"type": "magic"})
    with pytest.raises(ConfigError, match="does not take \\['tokn'\\]"):
        create_auth({"type": "bearer", "tokn": "x"})
    with pytest.raises(ConfigError, match="needs a 'type'"):
        create_auth({"api_key": "x"})
    with pytest.raises(ConfigError, match="location"):
        create_auth({"type": "api_key", "api_key": "x", "location": "body"})
    with pytest.raises(ConfigError, match="client_auth"):
        OAuth2ClientCredentials("http://h/t", "id", "secret", client_auth="jwt")


def test_register_auth(api: LocalAPI) -> None:
    class SignedAuth(AuthBase):
        def __init__(self, app: str, key: str, env: Any = None) -> None:
            self.app, self.key, self.env = app, key, env

        def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
            request.headers["X-Sig"] = f"{self.app}:{self._resolve(self.key, 'key')}"
            return request

        def secret_values(self) -> list[str]:
            return [self.key]

    register_auth("signed", SignedAuth)
    try:
        sent = fetch(api, {"type": "signed", "app": "demo", "key": "${K}"}, env={"K": "kk11"})
        assert sent.header("X-Sig") == "demo:kk11"
        with pytest.raises(TypeError):
            register_auth("bad", dict)  # type: ignore[arg-type]
    finally:
        AUTH_TYPES.pop("signed", None)  # the registry is process-wide: leave it as found


def test_secret_values() -> None:
    env = {"T": "from-env-token"}
    assert BearerTokenAuth("${T}", env=env).secret_values() == ["from-env-token"]
    assert BearerTokenAuth("${UNSET_X}", env={}).secret_values() == []
    assert APIKeyAuth("k", "abcd1234").secret_values() == ["abcd1234"]
    basic = HttpBasicAuth("user", "pass-word").secret_values()
    assert "pass-word" in basic
    assert base64.b64encode(b"user:pass-word").decode() in basic
    assert "only-user" in HttpBasicAuth("only-user").secret_values()
    assert CustomHeaderAuth("X", "hdr-token").secret_values() == ["hdr-token"]


# -- OAuth2 client credentials -----------------------------------------------------------------


class TokenServer:
    """A token endpoint plus a data endpoint that accepts only tokens it has not expired."""

    def __init__(self, api: LocalAPI, expires_in: int | None = 3600, token_key: str = "") -> None:
        self.api = api
        self.counter = itertools.count(1)
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.expires_in = expires_in
        self.token_key = token_key
        api.route("POST", "/oauth/token", self.token)
        api.route("GET", "/data", self.data)

    def token(self, request: Request) -> Response:
        form = parse_qs(request.body.decode())
        if form.get("grant_type") != ["client_credentials"]:
            return Response({"error": "unsupported_grant_type"}, 400)
        token = f"tok-{next(self.counter)}"
        self.issued.append(token)
        body: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.token_key:
            body = {self.token_key: {"token": token}}
        return Response(body)

    def data(self, request: Request) -> Response:
        auth = request.header("Authorization") or ""
        token = auth.removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return Response({"error": "invalid_token"}, 401)
        page = int(request.arg("page", "1") or 1)
        next_url = f"{self.api.url}/data?page={page + 1}" if page < 3 else None
        return Response({"data": [{"page": page}], "next": next_url})

    @property
    def token_requests(self) -> list[Request]:
        return self.api.requests_to("/oauth/token", "POST")


def oauth(api: LocalAPI, **kwargs: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        access_token_url=f"{api.url}/oauth/token",
        client_id="my-client",
        client_secret=SECRET,
        **kwargs,
    )


def run(api: LocalAPI, auth: Any, env: dict[str, str] | None = None) -> list[Any]:
    client = RestClient(api.url, auth=auth, paginator="json_link", env=env)
    return [r["page"] for page in client.paginate("data") for r in page.records]


def test_oauth_token_cached_across_requests(api: LocalAPI) -> None:
    server = TokenServer(api)
    auth = oauth(api)

    assert run(api, auth) == [1, 2, 3]
    assert run(api, auth) == [1, 2, 3]

    assert len(server.token_requests) == 1
    assert {r.header("Authorization") for r in api.requests_to("/data")} == {"Bearer tok-1"}


def test_oauth_client_secret_post_sends_credentials_in_form(api: LocalAPI) -> None:
    server = TokenServer(api)
    auth = oauth(api, access_token_request_data={"scope": "read ${SCOPE}"})

    run(api, auth, env={"SCOPE": "write"})

    (token_request,) = server.token_requests
    form = parse_qs(token_request.body.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "scope": ["read write"],
        "client_id": ["my-client"],
        "client_secret": [SECRET],
    }
    assert token_request.header("Authorization") is None


def test_oauth_client_secret_basic_sends_credentials_in_header(api: LocalAPI) -> None:
    server = TokenServer(api)

    run(api, oauth(api, client_auth="client_secret_basic"))

    (token_request,) = server.token_requests
    assert basic_pair(token_request.header("Authorization")) == f"my-client:{SECRET}"
    form = parse_qs(token_request.body.decode())
    assert form == {"grant_type": ["client_credentials"]}


def test_oauth_token_rejected_mid_run_is_refreshed_once(api: LocalAPI) -> None:
    server = TokenServer(api)
    original = server.data

    def data(request: Request) -> Response:
        if request.arg("page") == "2":
            server.revoked.add("tok-1")  # the server expires the first token mid-run
        return original(request)

    api.route("GET", "/data", data)
    auth = oauth(api)

    assert run(api, auth) == [1, 2, 3]

    assert len(server.token_requests) == 2
    tokens = [r.header("Authorization") for r in api.requests_to("/data")]
    assert tokens == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]


def test_oauth_persistent_401_fails_after_one_refresh(api: LocalAPI) -> None:
    server = TokenServer(api)
    api.route("GET", "/data", lambda r: Response({"error": "nope"}, 401))

    with pytest.raises(HTTPStatusError, match="status 401"):
        run(api, oauth(api))
    assert len(server.token_requests) == 2
    assert len(api.requests_to("/data")) == 2


def test_oauth_short_lived_token_refreshed_before_expiry(api: LocalAPI) -> None:
    server = TokenServer(api, expires_in=0)

    assert run(api, oauth(api)) == [1, 2, 3]

    # Expired on arrival: each request gets a fresh token without ever seeing a 401.
    assert len(server.token_requests) == 3
    assert [r.header("Authorization") for r in api.requests_to("/data")] == [
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-3",
    ]


def test_oauth_default_expiration_and_token_path(api: LocalAPI) -> None:
    server = TokenServer(api, expires_in=None, token_key="result")
    auth = oauth(api, token_path="result.token", default_token_expiration=3600)

    assert run(api, auth) == [1, 2, 3]
    assert len(server.token_requests) == 1
    assert auth.access_token == "tok-1"


def test_oauth_from_dict_with_env(api: LocalAPI) -> None:
    server = TokenServer(api)
    spec = {
        "type": "oauth2_client_credentials",
        "access_token_url": "${TOKEN_URL}",
        "client_id": "${CID}",
        "client_secret": "${CSECRET}",
    }
    env = {"TOKEN_URL": f"{api.url}/oauth/token", "CID": "env-client", "CSECRET": SECRET}

    assert run(api, spec, env=env) == [1, 2, 3]
    form = parse_qs(server.token_requests[0].body.decode())
    assert form["client_id"] == ["env-client"]


def test_oauth_token_failure_is_clear_and_secret_free(api: LocalAPI) -> None:
    api.route("POST", "/oauth/token", lambda r: Response({"error": SECRET}, 401))
    api.route("GET", "/data", lambda r: Response([]))

    with pytest.raises(AuthError) as err:
        run(api, oauth(api))
    assert "status 401" in str(err.value)
    assert "/oauth/token" in str(err.value)
    assert SECRET not in str(err.value)
    assert api.requests_to("/data") == []


def test_oauth_secret_values_include_current_token(api: LocalAPI) -> None:
    TokenServer(api)
    auth = oauth(api)
    assert SECRET in auth.secret_values()
    run(api, auth)
    assert auth.access_token in auth.secret_values()


def test_oauth_refreshes_shortly_before_expiry(api: LocalAPI) -> None:
    server = TokenServer(api, expires_in=600)
    now = [0.0]
    auth = oauth(api, clock=lambda: now[0], refresh_margin=60)

    run(api, auth)
    now[0] = 539.0  # 61 s before expiry: still fresh
    run(api, auth)
    assert len(server.token_requests) == 1
    now[0] = 541.0  # inside the 60 s margin: refreshed before the API could reject it
    run(api, auth)
    assert len(server.token_requests) == 2
    assert api.requests_to("/data")[-1].header("Authorization") == "Bearer tok-2"


def test_oauth_concurrent_requests_share_one_token_fetch(api: LocalAPI) -> None:
    server = TokenServer(api)
    auth = oauth(api)
    results: list[list[Any]] = []
    threads = [threading.Thread(target=lambda: results.append(run(api, auth))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [[1, 2, 3]] * 4
    assert len(server.token_requests) == 1
