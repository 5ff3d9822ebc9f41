"""dlt's own valid rest_api configs, as test data: `VALID_CONFIGS` of dlt-hub/dlt
tests/sources/rest_api/configurations/source_configs.py (dlt 1.31 era, the mirror's HEAD
58d66fceef2bf6e04a2d1b3cb52dd8134dfb65bc), in order, with the helpers they use. Each entry
is built when called, so a missing dlt only fails that entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

ORIGIN = "dlt-hub/dlt:tests/sources/rest_api/configurations/source_configs.py VALID_CONFIGS"


def valid_configs() -> list[dict[str, Any]]:
    import dlt
    from dlt.common.configuration.specs import configspec
    from dlt.sources.helpers.rest_client.auth import HttpBasicAuth, OAuth2AuthBase
    from dlt.sources.helpers.rest_client.paginators import (
        HeaderLinkPaginator,
        SinglePagePaginator,
    )

    class CustomPaginator(HeaderLinkPaginator):
        def __init__(self) -> None:
            super().__init__(links_next_key="prev")

    @configspec
    class CustomOAuthAuth(OAuth2AuthBase):
        pass

    @dlt.resource(name="repositories", selected=False)
    def repositories() -> Iterator[list[dict[str, str]]]:
        """A seed list of repositories to fetch"""
        yield [{"name": "dlt"}, {"name": "verified-sources"}, {"name": "dlthub-education"}]

    table_name: Callable[[dict[str, Any]], str] = lambda event: event["type"]  # noqa: E731
    return [
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "endpoint": {
                        "path": "posts/{post_id}/comments",
                        "params": {
                            "post_id": {"type": "resolve", "resource": "posts", "field": "id"},
                        },
                    },
                },
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "endpoint": {"path": "posts/{resources.posts.id}/comments"},
                },
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {"name": "post_comments", "endpoint": "posts/{resources.posts.id}/comments"},
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "params": {"limit": 100},
                        "paginator": "json_link",
                    },
                },
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "params": {"limit": 1},
                        "paginator": SinglePagePaginator(),
                    },
                },
            ],
        },
        {
            "client": {
                "base_url": "https://example.com",
                "auth": {"type": "bearer", "token": "X"},
            },
            "resources": ["users"],
        },
        {
            "client": {"base_url": "https://example.com", "auth": {"token": "X"}},
            "resources": ["users"],
        },
        {
            "client": {
                "base_url": "https://example.com",
                "paginator": CustomPaginator(),
                "auth": CustomOAuthAuth(access_token="X"),
            },
            "resource_defaults": {
                "table_name": table_name,
                "endpoint": {
                    "paginator": CustomPaginator(),
                    "params": {"since": dlt.sources.incremental[str]("user_id")},
                },
            },
            "resources": [
                {
                    "name": "users",
                    "endpoint": {
                        "paginator": CustomPaginator(),
                        "params": {"since": dlt.sources.incremental[str]("user_id")},
                    },
                }
            ],
        },
        {
            "client": {
                "base_url": "https://example.com",
                "paginator": "header_link",
                "auth": HttpBasicAuth("my-secret", ""),
            },
            "resources": ["users"],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "params": {
                            "limit": 100,
                            "since": {
                                "type": "incremental",
                                "cursor_path": "updated_at",
                                "initial_value": "2024-01-25T11:21:28Z",
                            },
                        },
                        "paginator": "json_link",
                    },
                },
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "params": {"limit": 100},
                        "paginator": "json_link",
                        "incremental": {
                            "start_param": "since",
                            "end_param": "until",
                            "cursor_path": "updated_at",
                            "initial_value": "2024-01-25T11:21:28Z",
                        },
                    },
                },
            ],
        },
        {
            "client": {
                "base_url": "https://api.example.com",
                "headers": {"X-Test-Header": "test42"},
            },
            "resources": [
                "users",
                {"name": "users_2"},
                {"name": "users_list", "endpoint": "users_list"},
            ],
        },
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "table_name": lambda item: item["type"],
                    "endpoint": {
                        "path": "posts/{post_id}/comments",
                        "params": {
                            "post_id": {"type": "resolve", "resource": "posts", "field": "id"},
                        },
                    },
                },
            ],
        },
        {
            "client": {"base_url": "https://github.com/api/v2"},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {
                        "path": "{org}/{repo}/issues/",
                        "params": {"org": "dlt-hub", "repo": "dlt"},
                    },
                },
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "{org}/{repo}/issues/{id}/comments",
                        "params": {
                            "org": "dlt-hub",
                            "repo": "dlt",
                            "id": {"type": "resolve", "resource": "issues", "field": "id"},
                        },
                    },
                },
            ],
        },
        {
            "client": {"base_url": "https://github.com/api/v2"},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {
                        "path": "dlt-hub/{repository}/issues/",
                        "params": {
                            "repository": {
                                "type": "resolve",
                                "resource": "repositories",
                                "field": "name",
                            },
                        },
                    },
                },
                repositories(),
            ],
        },
        {
            "client": {"base_url": "https://github.com/api/v2"},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {"path": "dlt-hub/{resources.repositories.name}/issues/"},
                },
                repositories(),
            ],
        },
        {
            "client": {"base_url": "https://github.com/api/v2"},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {
                        "path": "user/repos",
                        "auth": HttpBasicAuth("", "BASIC_AUTH_TOKEN"),
                    },
                }
            ],
        },
    ]
