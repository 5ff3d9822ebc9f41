"""Processing steps and Python resources named by dotted path in YAML, through Dagster."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from rel_support import IssuesAPI, sql

from rest_assets import build_definitions
from rest_assets.errors import ConfigError

CONFIG = """
sources:
  - name: gh
    client:
      base_url: {url}
      paginator: single_page
    resources:
      - name: repositories
        records: rel_steps:repositories
        selected: false
      - name: issues
        primary_key: key
        write_disposition: merge
        endpoint: repos/{{resources.repositories.name}}/issues
        processing_steps:
          - filter: rel_steps:is_odd
          - map: rel_steps.lower_title
          - yield_map: rel_steps:one_per_label
"""


def test_filter_map_yield_map_pipeline_from_yaml(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(CONFIG.format(url=github.url))
    defs = build_definitions(path, database=tmp_path / "w.duckdb")
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"gh/issues"}  # the seed list is not selected: no asset, no table
    result = dg.materialize(list(defs.assets or []), instance=instance, resources=defs.resources)
    assert result.success
    rows = sql(
        tmp_path / "w.duckdb",
        "SELECT key, title, label, repo FROM raw_gh.issues ORDER BY repo, key",
    )
    want = sorted(
        (f"{repo}/{n}/{label}", f"issue {n}", label, repo)
        for repo in ("dagster", "dlt")
        for n in (1, 3, 5)
        for label in (f"label{n % 2}", "all")
    )
    assert rows == sorted(want, key=lambda r: (r[3], r[0]))
    # dlt's yield_map drops the list it expanded: no labels child table
    tables = {
        r[0]
        for r in sql(
            tmp_path / "w.duckdb",
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema <> '_rest_assets'",  # the load ledger of stateful loads
        )
    }
    assert tables == {"issues"}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("rel_steps:no_such", "has no callable named 'no_such'"),
        ("no_such_module:f", "cannot import module 'no_such_module'"),
    ],
)
def test_a_bad_dotted_path_fails_when_definitions_load(
    tmp_path: Path, step: str, message: str
) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(CONFIG.format(url="http://127.0.0.1:9").replace("rel_steps:is_odd", step))
    with pytest.raises(ConfigError, match=message):
        build_definitions(path, database=tmp_path / "w.duckdb")


def test_a_bad_records_path_fails_when_definitions_load(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        CONFIG.format(url="http://127.0.0.1:9").replace("rel_steps:repositories", "rel_steps:nope")
    )
    with pytest.raises(ConfigError, match=r"resources\[0\]\(repositories\)\.records"):
        build_definitions(path, database=tmp_path / "w.duckdb")
