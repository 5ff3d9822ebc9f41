"""The Python API: a dlt-shaped dict, a downstream pandas asset, and the RestClient escape hatch.

Run it against the bundled demo API:

    rest-assets demo            # once, to see the data; or start DemoAPI yourself
    DEMO_API_URL=http://127.0.0.1:PORT DEMO_API_TOKEN=... dagster dev -f examples/python_api.py
"""

from __future__ import annotations

import os

import dagster as dg
import pandas as pd

from rest_assets import DuckDBIOManager, RestClient, asset_key, rest_api_assets

blog = rest_api_assets(
    {
        "client": {
            "base_url": "${DEMO_API_URL}",
            "auth": {"type": "bearer", "token": "${DEMO_API_TOKEN}"},
            "paginator": {"type": "json_link", "next_url_path": "next"},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {"name": "posts", "endpoint": {"path": "posts", "data_selector": "data"}},
            {
                "name": "comments",
                "endpoint": "posts/{resources.posts.id}/comments",
                "processing_steps": [{"filter": lambda c: c["id"] % 10 != 0}],
            },
        ],
    },
    name="blog",
)


@dg.asset(ins={"comments": dg.AssetIn(key=asset_key("blog", "comments"))}, group_name="reports")
def comments_per_post(comments: pd.DataFrame) -> pd.DataFrame:
    """A user asset downstream of a REST asset: the IO manager hands it a DataFrame."""
    return comments.groupby("post_id").size().reset_index(name="comments")


@dg.asset(group_name="reports")
def users_escape_hatch() -> pd.DataFrame:
    """An odd API handled in plain Python with the same HTTP engine (auth, retries, paging)."""
    client = RestClient(
        base_url=os.environ.get("DEMO_API_URL", "http://127.0.0.1:9"),
        auth={"type": "bearer", "token": "${DEMO_API_TOKEN}"},
        paginator={"type": "page_number", "base_page": 1, "total_path": "total_pages"},
    )
    rows = [r for page in client.paginate("users", data_selector="users") for r in page.records]
    return pd.DataFrame(rows)


defs = dg.Definitions(
    assets=[*blog, comments_per_post, users_escape_hatch],
    resources={
        "io_manager": DuckDBIOManager(
            database=os.environ.get("REST_ASSETS_DATABASE", "examples.duckdb")
        )
    },
)
