"""Config loading: dialects, defaults precedence, env refs kept, errors that name the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from rest_assets.config.load import load_project, parse_project, source_from_dict
from rest_assets.config.models import PaginatorConfig, ResolveParam
from rest_assets.dagster import build_definitions
from rest_assets.errors import ConfigError


def _source(**overrides: object) -> dict:
    base = {"name": "api", "client": {"base_url": "https://api.example.com/v1"}}
    return {**base, **overrides}


def test_string_shorthand_and_resource_defaults_precedence() -> None:
    project = parse_project(
        {
            "sources": [
                _source(
                    resource_defaults={
                        "primary_key": "id",
                        "write_disposition": "merge",
                        "endpoint": {"params": {"per_page": 100}},
                    },
                    resources=[
                        "posts",
                        {
                            "name": "users",
                            "write_disposition": "append",
                            "endpoint": {"path": "people", "params": {"active": "true"}},
                        },
                    ],
                )
            ]
        }
    )
    posts, users = project.sources[0].resources
    assert posts.endpoint.path == "posts"
    assert posts.write_disposition == "merge"
    assert posts.primary_key == ["id"]
    assert posts.endpoint.params == {"per_page": 100}
    assert users.write_disposition == "append"
    assert users.endpoint.path == "people"
    assert users.endpoint.params == {"per_page": 100, "active": "true"}


def test_paginator_of_defaults_is_replaced_not_merged() -> None:
    source = source_from_dict(
        _source(
            resource_defaults={"endpoint": {"paginator": {"type": "offset", "limit": 10}}},
            resources=[{"name": "a", "endpoint": {"path": "a", "paginator": "header_link"}}],
        )
    )
    assert source.resources[0].endpoint.paginator == PaginatorConfig(type="header_link")


def test_single_entity_path_gets_single_page_and_whole_body() -> None:
    source = source_from_dict(
        _source(
            client={
                "base_url": "https://api.example.com",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            resources=["users", {"name": "user", "endpoint": "users/{resources.users.id}"}],
        )
    )
    detail = source.resources[1].endpoint
    assert detail.paginator == PaginatorConfig(type="single_page")
    assert detail.data_selector == "$"
    # A list endpoint keeps the client's paginator (applied by the client at run time).
    assert source.resources[0].endpoint.paginator is None


def test_env_references_are_kept_unresolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t-value")
    source = source_from_dict(
        _source(
            client={"base_url": "https://x.example", "auth": {"token": "${SECRET_TOKEN}"}},
            resources=["a"],
        )
    )
    assert "s3cr3t-value" not in source.model_dump_json()
    assert source.client.auth.model_dump()["token"] == "${SECRET_TOKEN}"


def test_legacy_resolve_param_is_typed() -> None:
    source = source_from_dict(
        _source(
            resources=[
                "issues",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "issues/{number}/comments",
                        "params": {
                            "number": {"type": "resolve", "resource": "issues", "field": "number"}
                        },
                    },
                },
            ]
        )
    )
    param = source.resources[1].endpoint.params["number"]
    assert isinstance(param, ResolveParam) and param.field == "number"
    # dlt 1.31 looks at the last path segment only: `.../comments` is a list, paginated
    # as configured (client paginator or auto-detection), not a single entity
    assert source.resources[1].endpoint.paginator is None
    assert source.resources[1].endpoint.data_selector is None


def test_dango_dialect_maps_auth_and_endpoints() -> None:
    project = parse_project(
        {
            "version": "1.0",
            "sources": [
                {
                    "name": "acme",
                    "type": "rest_api",
                    "enabled": True,
                    "description": "My REST API data",
                    "rest_api": {
                        "base_url": "https://api.example.com/v2",
                        "auth_type": "api_key",
                        "auth_token_env": "ACME_KEY",
                        "api_key_name": "api_key",
                        "api_key_location": "query",
                        "headers": {"Accept": "application/json"},
                        "endpoints": [
                            {
                                "path": "/orders",
                                "name": "orders",
                                "data_selector": "data.orders",
                                "primary_key": "order_id",
                                "paginator": {"type": "page_number", "page_param": "page"},
                            },
                            {"path": "/customers", "paginator": "header_link"},
                        ],
                    },
                }
            ],
        }
    )
    source = project.sources[0]
    assert source.description == "My REST API data"
    assert source.client.auth.model_dump() == {
        "type": "api_key",
        "api_key": "${ACME_KEY}",
        "name": "api_key",
        "location": "query",
    }
    assert source.client.headers == {"Accept": "application/json"}
    orders, customers = source.resources
    assert (orders.name, orders.endpoint.path, orders.primary_key) == (
        "orders",
        "orders",
        ["order_id"],
    )
    assert orders.endpoint.data_selector == "data.orders"
    assert customers.name == "customers"
    assert customers.endpoint.paginator == PaginatorConfig(type="header_link")


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({"auth_type": "bearer", "auth_token_env": "T"}, {"type": "bearer", "token": "${T}"}),
        (
            {"auth_type": "basic", "basic_username_env": "U", "basic_password_env": "P"},
            {"type": "http_basic", "username": "${U}", "password": "${P}"},
        ),
        (
            {
                "auth_type": "oauth2_client_credentials",
                "access_token_url": "https://a/t",
                "client_id_env": "CI",
                "client_secret_env": "CS",
            },
            {
                "type": "oauth2_client_credentials",
                "access_token_url": "https://a/t",
                "client_id": "${CI}",
                "client_secret": "${CS}",
            },
        ),
        (
            {
                "auth_type": "custom_header",
                "auth_header_name": "X-Shopify-Access-Token",
                "auth_token_env": "S",
            },
            {"type": "custom_header", "header_name": "X-Shopify-Access-Token", "token": "${S}"},
        ),
    ],
)
def test_dango_auth_types(auth: dict, expected: dict) -> None:
    project = parse_project(
        {
            "sources": [
                {
                    "name": "s",
                    "type": "rest_api",
                    "rest_api": {"base_url": "https://x.example", **auth, "endpoints": ["/a"]},
                }
            ]
        }
    )
    assert project.sources[0].client.auth.model_dump(exclude_none=True) == expected


def test_dango_tutorial_pagination_form() -> None:
    project = parse_project(
        {
            "sources": [
                {
                    "name": "my_api",
                    "type": "rest_api",
                    "rest_api": {
                        "base_url": "https://api.example.com",
                        "headers": {"Authorization": "Bearer ${MY_API_TOKEN}"},
                        "resources": [
                            {
                                "name": "users",
                                "endpoint": "/users",
                                "method": "GET",
                                "pagination": {"type": "page_number", "param": "page", "start": 1},
                            }
                        ],
                    },
                }
            ]
        }
    )
    endpoint = project.sources[0].resources[0].endpoint
    assert endpoint.paginator == PaginatorConfig(type="page_number", page_param="page", base_page=1)


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        (
            _source(resources=[{"name": "issues", "params": {"a": 1}}]),
            ["sources[0](api).resources[0](issues).params", "move it under endpoint"],
        ),
        (
            _source(resources=[{"name": "issues", "endpoint": {"pathh": "x"}}]),
            ["resources[0](issues).endpoint.pathh", "did you mean 'path'"],
        ),
        (
            _source(client={"base_url": "api.example.com"}, resources=["a"]),
            ["sources[0](api).client.base_url", "https://"],
        ),
        (
            _source(resources=[{"name": "a", "write_disposition": "upsert"}]),
            ["resources[0](a).write_disposition", "'merge'", "upsert"],
        ),
        (
            {"name": "bad-name", "client": {"base_url": "https://x"}, "resources": ["a"]},
            ["sources[0](bad-name).name", "underscores"],
        ),
        (_source(resources=["a", "a"]), ["used twice"]),
        (_source(client={}, resources=["a"]), ["client.base_url", "missing"]),
    ],
)
def test_invalid_config_names_path_and_fix(source: dict, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_project({"sources": [source]})
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("resources", "fragments"),
    [
        (["a", {"name": "b", "endpoint": "a/{resources.nope.id}"}], ["does not define", "nope"]),
        (["a", {"name": "b", "endpoint": "a/{whatever}"}], ["unknown placeholder {whatever}"]),
        (
            [{"name": "a", "endpoint": {"path": "a", "paginator": {"type": "nonsense"}}}],
            ["resources[0](a).endpoint.paginator"],
        ),
        (
            [{"name": "a", "processing_steps": [{"map": "no_such_module_xyz:f"}]}],
            ["processing_steps[0].map", "no_such_module_xyz"],
        ),
        (["posts-v2", "posts.v2"], ["both become asset"]),
        (
            [
                {"name": "a", "endpoint": "b/{resources.b.id}"},
                {"name": "b", "endpoint": "a/{resources.a.id}"},
            ],
            ["cycle"],
        ),
    ],
)
def test_plan_errors_fail_at_definitions_load(resources: list, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        build_definitions({"sources": [_source(resources=resources)]}, database=":memory:")
    for fragment in fragments:
        assert fragment in str(info.value)


def test_yaml_file_and_dotenv_without_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("RA_FROM_DOTENV", raising=False)
    monkeypatch.setenv("RA_ALREADY_SET", "from-environment")
    (tmp_path / ".env").write_text("RA_FROM_DOTENV=from-dotenv\nRA_ALREADY_SET=from-dotenv\n")
    (tmp_path / "sources.yml").write_text(
        "sources:\n"
        "  - name: api\n"
        "    client: {base_url: 'https://x.example', headers: {X-Key: '${RA_FROM_DOTENV}'}}\n"
        "    resources: [things]\n"
    )
    project = load_project(tmp_path / "sources.yml")
    assert project.sources[0].client.headers == {"X-Key": "${RA_FROM_DOTENV}"}
    assert os.environ["RA_FROM_DOTENV"] == "from-dotenv"
    assert os.environ["RA_ALREADY_SET"] == "from-environment"
    monkeypatch.delenv("RA_FROM_DOTENV")


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_project(tmp_path / "nope.yml")
    (tmp_path / "bad.yml").write_text("sources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_project(tmp_path / "bad.yml")


def test_bundled_demo_config_matches_project_copy() -> None:
    root = Path(__file__).resolve().parents[2]
    bundled = root / "rest_assets" / "demo" / "sources.yml"
    assert (root / "sources.yml").read_text() == bundled.read_text()
