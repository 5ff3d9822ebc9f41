"""`rest-assets dbt-sources`: a real dbt project downstream of the tables rest-assets lands.

dbt (dbt-duckdb) parses and builds a model on `source('blog', 'posts')` against the DuckDB
file a materialization wrote; dagster-dbt's default translator then puts the model under
our `blog/posts` asset, with no translator code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml
from dagster_dbt import DbtCliResource, dbt_assets

from rest_assets import build_definitions
from rest_assets.cli import main
from rest_assets.dagster.dbt_sources import dbt_sources
from rest_assets.demo.api import DemoAPI
from tests.support.dbt_project import DBT, MODEL, dbt, demo_config_with_extras, write_project

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
needs_dbt = pytest.mark.skipif(not DBT.exists(), reason="dbt (dbt-duckdb) is not installed")


def _dbt_defs(project: Path) -> dg.Definitions:
    """The project's dbt assets as dagster-dbt makes them, with the default translator."""

    @dbt_assets(manifest=project / "target" / "manifest.json")
    def models(context, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
        # unannotated context: Dagster rejects the string annotation `from __future__` makes
        yield from dbt.cli(["build"], context=context).stream()

    resource = DbtCliResource(
        project_dir=str(project), profiles_dir=str(project), dbt_executable=str(DBT)
    )
    return dg.Definitions(assets=[models], resources={"dbt": resource})


def _tables(document: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    (entry,) = [s for s in document["sources"] if s["name"] == source]
    return {t["name"]: t for t in entry["tables"]}


@needs_dbt
@pytest.mark.timeout(600)
def test_a_dbt_model_on_source_blog_posts_hangs_under_the_rest_asset(
    demo_api: DemoAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = demo_config_with_extras(DEMO_YAML, tmp_path / "sources.yml")
    database = tmp_path / "demo.duckdb"
    ours = build_definitions(config, database=database)
    result = dg.materialize(
        [*(ours.assets or []), *(ours.asset_checks or [])],
        instance=instance,
        resources=ours.resources,
        selection=[dg.AssetKey(["blog", "posts"])],
    )
    assert result.success

    project = write_project(tmp_path / "dbt_project", database)
    out = project / "models" / "sources.yml"
    assert main(["dbt-sources", str(config), "--database", str(database), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    document = yaml.safe_load(out.read_text())
    posts = _tables(document, "blog")["posts"]
    assert posts["identifier"] == "posts"
    assert "config" not in posts or "meta" not in posts["config"]  # the default key matches
    columns = {c["name"]: c for c in posts["columns"]}
    assert columns["id"]["description"] == "Post id given by the blog API"
    assert columns["title"]["data_type"] == "VARCHAR"  # DuckDB's type, from the table
    assert columns["author__name"]["data_type"] == "VARCHAR"
    assert "load" in columns["_ra_load_id"]["description"]
    assert posts["config"]["freshness"] == {"warn_after": {"count": 60, "period": "minute"}}
    assert "posts__tags" in _tables(document, "blog")  # the child table the load wrote

    # dbt itself: parse, build the model, and check the freshness on our load ids
    for args in (["parse"], ["build"], ["source", "freshness"]):
        done = dbt(project, *args)
        assert done.returncode == 0, f"dbt {' '.join(args)}:\n{done.stdout[-4000:]}"
    freshness = json.loads((project / "target" / "sources.json").read_text())["results"]
    assert [(r["unique_id"], r["status"]) for r in freshness] == [
        ("source.rest_blog.blog.posts", "pass")
    ]
    with duckdb.connect(str(database), read_only=True) as con:
        authors, posts_counted = con.execute(
            f"SELECT count(*), sum(posts) FROM main.{MODEL}"
        ).fetchone()
    assert (authors, posts_counted) == (40, 250)

    # dagster-dbt's default translator: the model's upstream is our asset, in one graph
    merged = dg.Definitions.merge(ours, _dbt_defs(project))
    graph = merged.resolve_asset_graph()
    model = graph.get(dg.AssetKey([MODEL]))
    assert model.parent_keys == {dg.AssetKey(["blog", "posts"])}
    upstream = graph.get(dg.AssetKey(["blog", "posts"]))
    assert upstream.is_materializable  # rest-assets' asset, not an external stand-in
    assert dg.AssetKey([MODEL]) in upstream.child_keys


CRM = """\
sources:
  - name: crm
    dataset: crm_data
    key_prefix: [lake]
    client: {base_url: "https://crm.example.com/api/"}
    resources:
      - name: people-v2
        table_name: persons
        endpoint: people
        checks: {freshness: {max_lag_minutes: 90.5, severity: error, deadline_cron: "0 9 * * *"}}
        columns:
          id: {data_type: long, description: "CRM id {{ not jinja }}"}
      - name: notes
        endpoint: notes
      - name: hidden
        selected: false
        endpoint: hidden
  - name: tickets
    client: {base_url: "https://tickets.example/"}
    resources: [queue]
  - name: archive
    enabled: false
    client: {base_url: "https://x.example"}
    resources: [a]
"""


@needs_dbt
@pytest.mark.timeout(300)
def test_prefixes_table_names_and_datasets_keep_dagster_dbt_keys_equal_to_ours(
    tmp_path: Path,
) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(CRM)
    database = tmp_path / "absent.duckdb"  # no file yet: columns from the config
    made = dbt_sources(config, database=database)
    crm, tickets = made.document["sources"]  # the disabled source has none
    assert (crm["name"], crm["schema"]) == ("crm", "crm_data")
    assert (tickets["name"], tickets["schema"]) == ("tickets", "raw_tickets")
    assert tickets["tables"] == [
        {"name": "queue", "identifier": "queue", "description": tickets["tables"][0]["description"]}
    ]  # the default key [tickets, queue] needs no meta
    tables = _tables(made.document, "crm")
    assert set(tables) == {"people_v2", "notes"}  # no asset, no table: selected false
    people = tables["people_v2"]
    assert people["identifier"] == "persons"
    assert people["config"]["meta"] == {"dagster": {"asset_key": ["lake", "crm", "people_v2"]}}
    assert people["config"]["freshness"] == {"error_after": {"count": 91, "period": "minute"}}
    assert people["columns"] == [
        {
            "name": "id",
            "description": "{% raw %}CRM id {{ not jinja }}{% endraw %}",
            "data_type": "BIGINT",
        },
        # the columns every table of ours has, described as on the asset page
        {
            "name": "_ra_load_id",
            "description": "The load that wrote this row (load ids sort by load time)",
            "data_type": "VARCHAR",
        },
        {
            "name": "_ra_id",
            "description": "Row id given by rest-assets; rows of child tables point at it",
            "data_type": "VARCHAR",
        },
    ]
    assert any("deadline_cron has no dbt equivalent" in note for note in made.notes)

    project = write_project(tmp_path / "dbt_project", database)
    (project / "models" / "sources.yml").write_text(made.to_yaml("sources.yml"))
    (project / "models" / "people.sql").write_text("select * from {{ source('crm', 'people_v2') }}")
    (project / "models" / "notes_copy.sql").write_text("select * from {{ source('crm', 'notes') }}")
    (project / "models" / "queue_copy.sql").write_text(
        "select * from {{ source('tickets', 'queue') }}"
    )
    (project / "models" / f"{MODEL}.sql").unlink()
    done = dbt(project, "parse")
    assert done.returncode == 0, done.stdout[-4000:]
    merged = dg.Definitions.merge(build_definitions(config, database=database), _dbt_defs(project))
    graph = merged.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["people"])).parent_keys == {
        dg.AssetKey(["lake", "crm", "people_v2"])
    }
    expected = {
        "people": ["lake", "crm", "people_v2"],
        "notes_copy": ["lake", "crm", "notes"],
        "queue_copy": ["tickets", "queue"],
    }
    for model, key in expected.items():
        assert graph.get(dg.AssetKey([model])).parent_keys == {dg.AssetKey(key)}, model
        assert graph.get(dg.AssetKey(key)).is_materializable  # ours, not an external stand-in


def test_a_python_translator_s_keys_are_carried_in_meta(tmp_path: Path) -> None:
    from rest_assets import ResourceAssetData, RestAssetsTranslator

    class Lake(RestAssetsTranslator):
        def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
            spec = super().get_asset_spec(data)
            return spec.replace_attributes(key=spec.key.with_prefix("wh"))

    made = dbt_sources(DEMO_YAML, database=tmp_path / "none.duckdb", translator=Lake())
    comments = _tables(made.document, "blog")["comments"]
    assert comments["config"]["meta"]["dagster"]["asset_key"] == ["wh", "blog", "comments"]
    assert "freshness" not in comments["config"]
    # no table and no columns config: no columns to list
    assert _tables(made.document, "directory")["users"].get("columns") is None


def test_out_keeps_a_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models" / "sources.yml"
    out.parent.mkdir()
    out.write_text("version: 2\nsources: []  # hand-written\n")
    args = ["dbt-sources", str(DEMO_YAML), "--database", str(tmp_path / "x.duckdb"), "--out"]
    assert main([*args, str(out)]) == 1
    assert "was not written by rest-assets dbt-sources; pass --force" in capsys.readouterr().err
    assert "hand-written" in out.read_text()
    assert main([*args, str(out), "--force"]) == 0
    assert main([*args, str(out)]) == 0  # ours now: replaced without --force
    assert yaml.safe_load(out.read_text())["sources"][0]["name"] == "blog"
    capsys.readouterr()
    assert main(["dbt-sources", str(DEMO_YAML), "--database", str(tmp_path / "x.duckdb")]) == 0
    assert capsys.readouterr().out.startswith("# Written by `rest-assets dbt-sources`")
