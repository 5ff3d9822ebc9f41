"""rest_api configs other people wrote, as test data: dlt's docs, templates, examples and
courses (dlt-hub/dlt, HEAD 58d66fceef2bf6e04a2d1b3cb52dd8134dfb65bc) and the
verified-sources that use the rest_api source (dlt-hub/verified-sources, HEAD 39575068).

Each entry is (origin, factory); a factory builds the config when called. `dlt.secrets[...]`
and the source functions' secret arguments are the dummy string SECRET. Where a snippet
leaves `client` as `# ...`, `base_url` is filled in (said in the origin). Snippets that are
only placeholders (`"resources": [# ...]`) or that the docs print as a wrong example are not
collected.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

SECRET = "dummy-secret"
DOCS = "dlt-hub/dlt:docs/website/docs/"
RA = DOCS + "dlt-ecosystem/verified-sources/rest_api/"
FILLED = " (base_url filled in)"

Config = dict[str, Any]


def basic_16() -> Config:
    return {
        "client": {
            "base_url": "https://api.example.com/",
            "auth": {"token": SECRET},
            "paginator": {"type": "json_link", "next_url_path": "paging.next"},
        },
        "resources": [
            "posts",
            {
                "name": "comments",
                "endpoint": {
                    "path": "posts/{resources.posts.id}/comments",
                    "params": {"sort": "created_at"},
                },
            },
        ],
    }


def github_docs(with_comments: bool = True) -> Config:
    """basic.md:134 (with issue_comments) and tutorial/rest-api.md:267 (without)."""
    resources: list[Any] = [
        {
            "name": "issues",
            "endpoint": {
                "path": "issues",
                "params": {
                    "sort": "updated",
                    "direction": "desc",
                    "state": "open",
                    "since": {
                        "type": "incremental",
                        "cursor_path": "updated_at",
                        "initial_value": "2024-01-25T11:21:28Z",
                    },
                },
            },
        },
    ]
    if with_comments:
        resources.append(
            {
                "name": "issue_comments",
                "endpoint": {"path": "issues/{resources.issues.number}/comments"},
                "include_from_parent": ["id"],
            }
        )
    client: dict[str, Any] = {"base_url": "https://api.github.com/repos/dlt-hub/dlt/"}
    if with_comments:
        client["auth"] = {"token": SECRET}
    return {
        "client": client,
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": 100}},
        },
        "resources": resources,
    }


def basic_251() -> Config:
    return {
        "client": {"base_url": "https://api.example.com"},
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": 100}},
        },
        "resources": [
            "resource1",
            {
                "name": "resource2_name",
                "write_disposition": "append",
                "endpoint": {"params": {"param1": "value1"}},
            },
        ],
    }


def basic_309() -> Config:
    from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

    return {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {"type": "bearer", "token": SECRET},
        },
        "resources": [
            "resource-using-bearer-auth",
            {
                "name": "my-resource-with-special-auth",
                "write_disposition": "merge",
                "table_name": "my_custom_table",
                "endpoint": {"auth": HttpBasicAuth("user", SECRET)},
            },
        ],
    }


def basic_949() -> Config:
    import dlt

    @dlt.resource()
    def repositories() -> Iterator[list[dict[str, Any]]]:
        """A seed list of repositories to fetch"""
        yield [{"name": "dlt"}, {"name": "verified-sources"}, {"name": "dlthub-education"}]

    return {
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
    }


def lower_title(record: dict[str, Any]) -> dict[str, Any]:
    record["title"] = record["title"].lower()
    return record


def flatten_reactions(post: dict[str, Any]) -> Iterator[dict[str, Any]]:
    post_without_reactions = copy.deepcopy(post)
    post_without_reactions.pop("reactions")
    for reaction in post["reactions"]:
        yield {"reaction": reaction, **post_without_reactions}


def anonymize_email(record: dict[str, Any]) -> dict[str, Any]:
    record["email"] = "REDACTED"
    return record


def processing(name: str, steps: list[dict[str, Any]]) -> Config:
    return {
        "client": {"base_url": "https://api.example.com"},
        "resources": [{"name": name, "processing_steps": steps}],
    }


def advanced_1112() -> Config:
    return {
        "client": {"base_url": "https://api.example.com"},
        "resources": [
            "posts",
            {
                "name": "post_comments",
                "parallelized": True,
                "endpoint": {"path": "posts/{resources.posts.id}/comments"},
            },
        ],
    }


def advanced_1147() -> Config:
    return {
        "client": {
            "base_url": "https://api.example.com",
            "headers": {
                "User-Agent": "MyApp/1.0",
                "Accept": "application/json",
                "X-API-Version": "v2",
            },
        },
        "resources": ["posts", "comments"],
    }


def advanced_1163() -> Config:
    return {
        "client": {"base_url": "https://api.example.com", "headers": {"User-Agent": "MyApp/1.0"}},
        "resources": [
            {
                "name": "posts",
                "endpoint": {
                    "path": "posts",
                    "headers": {
                        "Content-Type": "application/vnd.api+json",
                        "X-Custom-Header": "posts-specific-value",
                    },
                },
            }
        ],
    }


def advanced_1198() -> Config:
    return {
        "client": {"base_url": "https://api.example.com"},
        "resources": [
            "posts",
            {
                "name": "comments",
                "endpoint": {
                    "path": "posts/{resources.posts.id}/comments",
                    "headers": {
                        "X-Post-ID": "{resources.posts.id}",
                        "X-Post-Title": "{resources.posts.title}",
                    },
                },
            },
        ],
    }


def advanced_1225() -> Config:
    return {
        "client": {"base_url": "https://api.example.com"},
        "resources": [
            {
                "name": "events",
                "endpoint": {
                    "path": "events",
                    "headers": {"X-Since-Timestamp": "{incremental.start_value}"},
                    "incremental": {
                        "cursor_path": "updated_at",
                        "initial_value": "2024-01-01T00:00:00Z",
                    },
                },
            }
        ],
    }


def set_encoding(response: Any, *args: Any, **kwargs: Any) -> Any:
    response.encoding = "windows-1252"
    return response


def add_and_remove_fields(response: Any, *args: Any, **kwargs: Any) -> Any:
    from dlt.common import json

    payload = response.json()
    for record in payload["data"]:
        record["custom_field"] = "foobar"
        record.pop("email", None)
    response._content = json.dumps(payload).encode("utf-8")
    return response


def advanced_actions(full: bool) -> Config:
    actions: list[Any] = [set_encoding]
    if full:
        actions.append(
            {"status_code": 200, "content": "some text", "action": add_and_remove_fields}
        )
    return {
        "client": {"base_url": "https://api.example.com"},
        "resources": [
            {"name": "issues", "endpoint": {"path": "issues", "response_actions": actions}}
        ],
    }


def pokemon(variant: str = "plain") -> Config:
    """tutorial/rest-api.md:110 (plain), :192 (replace), :225 (merge); the dlt template."""
    defaults: dict[str, Any] = {"endpoint": {"params": {"limit": 1000}}}
    resources: list[Any] = ["pokemon", "berry", "location"]
    if variant in ("replace", "merge"):
        defaults["write_disposition"] = "replace"
    if variant == "merge":
        resources[0] = {"name": "pokemon", "primary_key": "name", "write_disposition": "merge"}
    return {
        "client": {"base_url": "https://pokeapi.co/api/v2/"},
        "resource_defaults": defaults,
        "resources": resources,
    }


def intro_49() -> Config:
    return {
        "client": {
            "base_url": "https://api.example.com/",
            "auth": {"token": SECRET},
            "paginator": {"type": "json_link", "next_url_path": "paging.next"},
        },
        "resources": ["posts", "comments"],
    }


def dashboard_136() -> Config:
    return {
        "client": {
            "base_url": "https://jaffle-shop.dlthub.com/api/v1/",
            "paginator": {
                "type": "page_number",
                "page_param": "page",
                "base_page": 1,
                "maximum_page": 1,
                "total_path": None,
            },
        },
        "resources": [
            {
                "name": "orders_complex_test",
                "endpoint": {"path": "orders", "params": {"page_size": 5}},
                "write_disposition": "replace",
                "columns": {"items": {"data_type": "json"}},
            }
        ],
    }


def databricks_290() -> Config:
    return {
        "client": {"base_url": "https://pokeapi.co/api/v2/"},
        "resource_defaults": {"endpoint": {"params": {"limit": 1000}}},
        "resources": ["pokemon"],
    }


def llm_159() -> Config:
    return {
        "client": {
            "base_url": "https://api.github.com/",
            "auth": {"type": "bearer", "token": SECRET},
        },
        "resources": ["issues"],
    }


def github_template() -> Config:
    """dlt/_workspace/_templates/_core_source_templates/rest_api_pipeline.py github_source."""
    from dlt.common.pendulum import pendulum

    return {
        "client": {
            "base_url": "https://api.github.com/repos/dlt-hub/dlt/",
            "auth": {"type": "bearer", "token": SECRET},
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": 100}},
        },
        "resources": [
            {
                "name": "issues",
                "endpoint": {
                    "path": "issues",
                    "params": {
                        "sort": "updated",
                        "direction": "desc",
                        "state": "open",
                        "since": "{incremental.start_value}",
                    },
                    "incremental": {
                        "cursor_path": "updated_at",
                        "initial_value": pendulum.today().subtract(days=30).to_iso8601_string(),
                    },
                },
            },
            {
                "name": "issue_comments",
                "endpoint": {"path": "issues/{resources.issues.number}/comments"},
                "include_from_parent": ["id"],
            },
        ],
    }


def course_github(with_contributors: bool) -> Config:
    """advanced course lesson 1 (with contributors), fundamentals lesson 4 (without)."""
    resources: list[Any] = [
        {
            "name": "issues",
            "endpoint": {"path": "repos/dlt-hub/dlt/issues", "params": {"state": "open"}},
        },
        {
            "name": "issue_comments",
            "endpoint": {
                "path": "repos/dlt-hub/dlt/issues/{issue_number}/comments",
                "params": {
                    "issue_number": {"type": "resolve", "resource": "issues", "field": "number"}
                },
            },
        },
    ]
    if with_contributors:
        resources.append(
            {"name": "contributors", "endpoint": {"path": "repos/dlt-hub/dlt/contributors"}}
        )
    return {
        "client": {
            "base_url": "https://api.github.com",
            "auth": {"token": SECRET},
            "paginator": "header_link",
        },
        "resources": resources,
    }


NEWS_AUTH = {"type": "api_key", "name": "apiKey", "api_key": SECRET, "location": "query"}
NEWS_PAGES = {
    "base_page": 1,
    "type": "page_number",
    "page_param": "page",
    "total_path": None,
    "maximum_page": 3,
}


def debug_response(response: Any, *args: Any, **kwargs: Any) -> Any:
    print("Intercepted:", response.status_code)
    return response


def news(step: int) -> Config:
    """The advanced course's NewsAPI config: step 2 (auth), 3 (pages), 9 (everything)."""
    client: dict[str, Any] = {"base_url": "https://newsapi.org/v2/", "auth": dict(NEWS_AUTH)}
    articles: dict[str, Any] = {
        "name": "news_articles",
        "endpoint": {"path": "everything", "params": {"q": "python"}},
    }
    config: Config = {"client": client, "resources": [articles]}
    if step >= 3:
        client["paginator"] = dict(NEWS_PAGES)
    if step >= 9:
        config["resource_defaults"] = {
            "write_disposition": "append",
            "endpoint": {"params": {"language": "en", "pageSize": 20}},
        }
        articles["processing_steps"] = [
            {"filter": lambda x: len(x["author"]) > 0},
            {"map": lower_title},
        ]
        articles["endpoint"] = {
            "path": "everything",
            "response_actions": [{"status_code": 200, "action": debug_response}],
            "params": {
                "q": "python",
                "from": {
                    "type": "incremental",
                    "cursor_path": "publishedAt",
                    "initial_value": "2026-01-01T00:00:00Z",
                },
            },
        }
        config["resources"].append(
            {
                "name": "top_headlines",
                "endpoint": {"path": "top-headlines", "params": {"country": "us"}},
            }
        )
    return config


def chess_partial() -> Config:
    username, year, month_str = "magnuscarlsen", "2022", "11"
    return {
        "client": {"base_url": "https://api.chess.com/pub/"},
        "resources": [
            {
                "name": f"chess_com_games_{year}_{month_str}",
                "write_disposition": "append",
                "endpoint": {
                    "path": f"player/{username}/games/{year}/{month_str}",
                    "response_actions": [{"status_code": 404, "action": "ignore"}],
                },
                "primary_key": ["url"],
            }
        ],
    }


def jaffle_transit() -> Config:
    return {
        "client": {"base_url": "https://jaffle-shop.scalevector.ai/api/v1"},
        "resources": [
            "stores",
            {
                "name": "orders",
                "endpoint": {
                    "path": "orders",
                    "params": {"start_date": "2017-01-01", "end_date": "2017-01-31"},
                },
            },
        ],
    }


PIPEDRIVE_V2 = {  # sources/pipedrive/settings.py ENTITIES_V2 (include_fields shortened)
    "activities": {},
    "deals": {"params": {"include_fields": "next_activity_id,last_activity_id"}},
    "persons": {"params": {"include_fields": "next_activity_id,last_activity_id"}},
    "organizations": {"params": {"include_fields": "next_activity_id,last_activity_id"}},
    "products": {},
    "pipelines": {},
    "stages": {},
}
PIPEDRIVE_NESTED = {  # NESTED_ENTITIES_V2
    "deal_products": {
        "parent": "deals",
        "endpoint_path": "deals/{id}/products",
        "params": {"limit": 500},
    },
    "deal_followers": {
        "parent": "deals",
        "endpoint_path": "deals/{id}/followers",
        "primary_key": ["user_id", "_deals_id"],
        "include_from_parent": ["id"],
        "params": {"limit": 500},
    },
}
PIPEDRIVE_INCREMENTAL = {"activities", "deals", "persons", "organizations", "products"}


def pipedrive_v2() -> Config:
    """sources/pipedrive/rest_v2/__init__.py rest_v2_resources, all resources, prefix v2_."""
    prefix, resources = "v2_", []
    for name, endpoint_config in PIPEDRIVE_V2.items():
        endpoint: dict[str, Any] = {
            **endpoint_config,
            "path": name,
            "params": {**endpoint_config.get("params", {})},
        }
        if name in PIPEDRIVE_INCREMENTAL:
            endpoint["params"]["updated_since"] = "{incremental.start_value}"
            endpoint["incremental"] = {
                "cursor_path": "update_time",
                "initial_value": "1970-01-01T00:00:00+00:00",
            }
        resources.append({"name": f"{prefix}{name}", "endpoint": endpoint})
    for name, conf in PIPEDRIVE_NESTED.items():
        path = str(conf["endpoint_path"]).replace(
            "{id}", f"{{resources.{prefix}{conf['parent']}.id}}"
        )
        nested: dict[str, Any] = {
            "name": f"{prefix}{name}",
            "endpoint": {"path": path, "params": {**conf.get("params", {})}},  # type: ignore[dict-item]
        }
        if "include_from_parent" in conf:
            nested["include_from_parent"] = conf["include_from_parent"]
        pk = conf.get("primary_key", "id")
        if isinstance(pk, list):
            nested["primary_key"] = [k for k in pk if not k.startswith("_")]
        elif pk != "id":
            nested["primary_key"] = pk
        resources.append(nested)
    return {
        "client": {
            "base_url": "https://dummy-company.pipedrive.com/api/v2/",
            "auth": {
                "type": "api_key",
                "name": "api_token",
                "api_key": SECRET,
                "location": "query",
            },
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {
                "params": {"limit": 500, "sort_by": "update_time", "sort_direction": "desc"},
                "data_selector": "data",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "additional_data.next_cursor",
                    "cursor_param": "cursor",
                },
            },
        },
        "resources": resources,
    }


def legacy_github() -> Config:
    """verified-sources sources/rest_api_pipeline.py before dlt 1.0 (e3321886^)."""
    return {
        "client": {
            "base_url": "https://api.github.com/repos/dlt-hub/dlt/",
            "auth": {"type": "bearer", "token": SECRET},
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": 100}},
        },
        "resources": [
            {
                "name": "issues",
                "endpoint": {
                    "path": "issues",
                    "params": {
                        "sort": "updated",
                        "direction": "desc",
                        "state": "open",
                        "since": {
                            "type": "incremental",
                            "cursor_path": "updated_at",
                            "initial_value": "2024-01-25T11:21:28Z",
                        },
                    },
                },
            },
            {
                "name": "issue_comments",
                "endpoint": {
                    "path": "issues/{issue_number}/comments",
                    "params": {
                        "issue_number": {"type": "resolve", "resource": "issues", "field": "number"}
                    },
                },
                "include_from_parent": ["id"],
            },
        ],
    }


ADV = (
    "dlt-hub/dlt:docs/education/dlt-advanced-course/"
    "lesson_1_custom_sources_restapi_source_and_restclient.py"
)
TEMPLATES = "dlt-hub/dlt:dlt/_workspace/_templates/_core_source_templates/rest_api_pipeline.py"
VS = "dlt-hub/verified-sources:sources/"

ENTRIES: list[tuple[str, Callable[[], Config]]] = [
    (RA + "basic.md:16", basic_16),
    (RA + "basic.md:134", github_docs),
    (RA + "basic.md:251" + FILLED, basic_251),
    (RA + "basic.md:309" + FILLED, basic_309),
    (RA + "basic.md:949", basic_949),
    (
        RA + "basic.md:996",
        lambda: processing(
            "posts",
            [
                {"filter": lambda x: x["id"] < 10},
                {"map": lower_title},
                {"yield_map": flatten_reactions},
            ],
        ),
    ),
    (RA + "basic.md:1051", lambda: processing("users", [{"map": anonymize_email}])),
    (RA + "basic.md:1075", lambda: processing("posts", [{"yield_map": flatten_reactions}])),
    (RA + "advanced.md:1112", advanced_1112),
    (RA + "advanced.md:1147", advanced_1147),
    (RA + "advanced.md:1163", advanced_1163),
    (RA + "advanced.md:1198", advanced_1198),
    (RA + "advanced.md:1225", advanced_1225),
    (RA + "advanced.md:1286" + FILLED, lambda: advanced_actions(full=True)),
    (RA + "advanced.md:1333" + FILLED, lambda: advanced_actions(full=False)),
    (DOCS + "tutorial/rest-api.md:110", pokemon),
    (DOCS + "tutorial/rest-api.md:192", lambda: pokemon("replace")),
    (DOCS + "tutorial/rest-api.md:225", lambda: pokemon("merge")),
    (DOCS + "tutorial/rest-api.md:267", lambda: github_docs(with_comments=False)),
    (DOCS + "intro.md:49", intro_49),
    (DOCS + "general-usage/dashboard.md:136", dashboard_136),
    (DOCS + "dlt-ecosystem/destinations/databricks.md:290", databricks_290),
    (DOCS + "dlt-ecosystem/llm-tooling/llm-native-workflow.md:159", llm_159),
    (DOCS + "hub/features/transformations/transformation-snippets.py:321", jaffle_transit),
    (TEMPLATES + " github_source", github_template),
    (TEMPLATES + " load_pokemon", pokemon),
    ("dlt-hub/dlt:docs/examples/partial_loading/partial_loading.py", chess_partial),
    (ADV + ":135 (github)", lambda: course_github(with_contributors=True)),
    (ADV + ":921 (news, auth)", lambda: news(2)),
    (ADV + ":975 (news, paginator)", lambda: news(3)),
    (ADV + ":1485 (news, all steps)", lambda: news(9)),
    (
        "dlt-hub/dlt:docs/education/dlt-fundamentals-course/"
        "lesson_4_using_pre_build_sources_and_destinations.py:334",
        lambda: course_github(with_contributors=False),
    ),
    (VS + "pipedrive/rest_v2/__init__.py", pipedrive_v2),
    (VS + "rest_api_pipeline.py@e3321886^ github_source", legacy_github),
]
