"""RestApiComponent in a real `dg` project: `dg list defs`, `dg check yaml`, and a run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from rest_assets import ConfigError, ResourceAssetData, RestApiComponent, asset_key
from rest_assets.demo.api import DemoAPI
from rest_assets.demo.server import LocalAPI, Response

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
DG = Path(sys.executable).parent / "dg"

INLINE = """\
type: rest_assets.RestApiComponent
attributes:
  database: data/inline.duckdb
  sources:
    - name: people
      client:
        base_url: ${DEMO_API_URL}
        auth: {type: bearer, token: "${DEMO_API_TOKEN}"}
      resources:
        - name: users
          primary_key: id
          endpoint:
            path: users
            data_selector: users
            paginator: {type: page_number, base_page: 1, total_path: total_pages}
"""


def _project(
    root: Path, package: str, defs_yaml: str | None, with_sources_file: bool = False
) -> Path:
    """A minimal dg project: pyproject with [tool.dg], a package, one defs.yaml (if given)."""
    (root / package / "defs" / "api").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{package}"
            version = "0.1.0"
            requires-python = ">=3.10"
            dependencies = []

            [tool.dg]
            directory_type = "project"

            [tool.dg.project]
            root_module = "{package}"
            """
        )
    )
    (root / package / "__init__.py").write_text("")
    (root / package / "defs" / "__init__.py").write_text("")
    (root / package / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n\n@dg.definitions\n"
        "def defs() -> dg.Definitions:\n"
        "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
    )
    if defs_yaml is None:
        (root / package / "defs" / "api").rmdir()
        return root / package / "defs"
    (root / package / "defs" / "api" / "defs.yaml").write_text(defs_yaml)
    if with_sources_file:
        shutil.copy(DEMO_YAML, root / package / "defs" / "api" / "sources.yml")
    return root / package / "defs" / "api" / "defs.yaml"


def _dg(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": f"{DG.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    full.pop("DAGSTER_HOME", None)
    full.update(env or {})
    return subprocess.run(
        [str(DG), *args], cwd=root, env=full, capture_output=True, text=True, timeout=180
    )


@pytest.mark.skipif(not DG.exists(), reason="dg (dagster-dg-cli) is not installed")
def test_dg_lists_and_checks_a_sources_file_component(tmp_path: Path) -> None:
    defs_yaml = _project(
        tmp_path,
        "rest_demo",
        "type: rest_assets.RestApiComponent\nattributes:\n  sources_file: sources.yml\n",
        with_sources_file=True,
    )
    listed = _dg(tmp_path, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    found = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in found["assets"]}
    assert set(assets) == {"blog/posts", "blog/comments", "directory/users"}
    assert assets["blog/comments"]["dependency_keys"] == ["blog/posts"]
    # an asset's code reference is its resource's line in sources.yml (Dagster adds defs.yaml
    # after it)
    line = DEMO_YAML.read_text().splitlines().index("      - name: posts") + 1
    assert assets["blog/posts"]["source"].endswith(f"defs/api/sources.yml:{line}")
    checks = {c["key"] for c in found["asset_checks"]}
    assert "blog/posts:primary_key_unique" in checks
    assert [r["name"] for r in found["resources"]] == ["io_manager", "duckdb"]

    checked = _dg(tmp_path, "check", "yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "validated successfully" in checked.stdout + checked.stderr

    registry = _dg(tmp_path, "list", "components")
    assert "rest_assets.RestApiComponent" in registry.stdout

    defs_yaml.write_text(defs_yaml.read_text().replace("sources_file", "sources_fiel"))
    bad = _dg(tmp_path, "check", "yaml")
    assert bad.returncode != 0
    assert "sources_fiel" in bad.stdout + bad.stderr


@pytest.mark.skipif(not DG.exists(), reason="dg (dagster-dg-cli) is not installed")
def test_dg_check_yaml_validates_inline_sources(tmp_path: Path) -> None:
    _project(tmp_path, "rest_inline", INLINE)
    checked = _dg(tmp_path, "check", "yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = _dg(tmp_path, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert [a["asset_key"] for a in json.loads(listed.stdout)["assets"]] == ["people/users"]


def test_component_defs_load_in_process_and_materialize(
    demo_api: DemoAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _project(tmp_path, "rest_inproc", INLINE)
    monkeypatch.syspath_prepend(str(tmp_path))
    defs = dg.load_from_defs_folder(path_within_project=tmp_path / "rest_inproc")
    users = asset_key("people", "users")
    assert users in defs.resolve_asset_graph().get_all_asset_keys()
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        instance=instance,
        resources=defs.resources,
    )
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    database = tmp_path / "data" / "inline.duckdb"  # relative to the project root
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_people.users").fetchone()[0] == 40


def test_component_needs_exactly_one_of_file_or_inline(tmp_path: Path) -> None:
    component = RestApiComponent()
    context = dg.ComponentTree.for_test().load_context
    with pytest.raises(ConfigError, match="exactly one of sources_file"):
        component.build_defs(context)


def _blog_api() -> LocalAPI:
    """A JSONPlaceholder-shaped API: bare lists of posts and of each post's comments."""
    api = LocalAPI()
    api.route("GET", "/posts", lambda r: Response([{"id": i, "title": f"t{i}"} for i in (1, 2)]))
    for post in (1, 2):
        api.route(
            "GET",
            f"/posts/{post}/comments",
            lambda r, post=post: Response([{"id": post * 10 + j, "postId": post} for j in (1, 2)]),
        )
    return api


@pytest.mark.skipif(not DG.exists(), reason="dg (dagster-dg-cli) is not installed")
@pytest.mark.timeout(400)
def test_dg_scaffold_defs_writes_a_working_defs_yaml_and_starter_sources(tmp_path: Path) -> None:
    defs = _project(tmp_path, "rest_scaffold", None)
    made = _dg(tmp_path, "scaffold", "defs", "rest_assets.RestApiComponent", "my_api")
    assert made.returncode == 0, made.stdout + made.stderr
    folder = defs / "my_api"
    assert yaml.safe_load((folder / "defs.yaml").read_text()) == {
        "type": "rest_assets.RestApiComponent",
        "attributes": {"sources_file": "sources.yml"},
    }
    starter = (folder / "sources.yml").read_text()
    assert "${MY_API_BASE_URL:-https://jsonplaceholder.typicode.com/}" in starter

    checked = _dg(tmp_path, "check", "yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = _dg(tmp_path, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assets = {a["asset_key"]: a for a in json.loads(listed.stdout)["assets"]}
    assert set(assets) == {"my_api/posts", "my_api/comments"}
    assert assets["my_api/comments"]["dependency_keys"] == ["my_api/posts"]

    # the starter runs: against a local API shaped like the public one it names
    with _blog_api() as api:
        launched = _dg(
            tmp_path, "launch", "--assets", "*",
            env={"MY_API_BASE_URL": api.url, "REST_ASSETS_DATABASE": str(tmp_path / "s.duckdb")},
        )  # fmt: skip
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_my_api.posts").fetchone()[0] == 2
        titles = con.execute("SELECT DISTINCT _posts_title FROM raw_my_api.comments").fetchall()
    assert sorted(titles) == [("t1",), ("t2",)]

    # options fill in the base URL and the database; a sources.yml already there is kept
    again = _dg(
        tmp_path, "scaffold", "defs", "rest_assets.RestApiComponent", "crm",
        "--base-url", "https://crm.example.com/api/", "--database", "data/crm.duckdb",
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert yaml.safe_load((defs / "crm" / "defs.yaml").read_text())["attributes"] == {
        "sources_file": "sources.yml",
        "database": "data/crm.duckdb",
    }
    assert 'base_url: "https://crm.example.com/api/"' in (defs / "crm" / "sources.yml").read_text()


TRANSLATED = """\
type: rest_assets.RestApiComponent
attributes:
  sources_file: sources.yml
  translation:
    key_prefix: raw
    group_name: "{{ source.name }}_api"
    tags: {layer: raw}
    owners: ["team:data"]
    kinds: [rest, duckdb, api]
    automation_condition: "{{ automation_condition.eager() }}"
    description: "{{ resource.name }} of {{ source.name }}"
"""


@pytest.mark.skipif(not DG.exists(), reason="dg (dagster-dg-cli) is not installed")
def test_translation_attributes_shape_every_asset_through_the_translator(tmp_path: Path) -> None:
    _project(tmp_path, "rest_translated", TRANSLATED, with_sources_file=True)
    checked = _dg(tmp_path, "check", "yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = _dg(tmp_path, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    found = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in found["assets"]}
    assert set(assets) == {"raw/blog/posts", "raw/blog/comments", "raw/directory/users"}
    comments = assets["raw/blog/comments"]
    assert comments["dependency_keys"] == ["raw/blog/posts"]  # deps follow the new keys
    assert comments["group_name"] == "blog_api"
    assert comments["description"] == "comments of blog"
    assert {"key": "layer", "value": "raw"} in comments["tags"]
    assert comments["owners"] == [{"team": "data"}]
    assert comments["automation_condition"]["label"] == "eager"
    assert set(comments["kinds"]) == {"rest", "duckdb", "api"}
    checks = {c["key"] for c in found["asset_checks"]}
    assert "raw/blog/posts:primary_key_unique" in checks  # checks follow too
    assert not any(key.startswith("blog/") for key in checks)

    bad = tmp_path / "rest_translated" / "defs" / "api" / "defs.yaml"
    bad.write_text(TRANSLATED.replace("group_name:", "group_nam:"))
    refused = _dg(tmp_path, "check", "yaml")
    assert refused.returncode != 0
    assert "group_nam" in refused.stdout + refused.stderr


def test_a_component_subclass_overrides_get_asset_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Lake(RestApiComponent):
        def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
            spec = super().get_asset_spec(data)  # translation first
            return spec.replace_attributes(key=spec.key.with_prefix("lake"))

    component = Lake.resolve_from_yaml(
        "sources_file: sources.yml\ntranslation: {group_name: landing}\n"
    )
    (tmp_path / "sources.yml").write_text(DEMO_YAML.read_text())
    context = dg.ComponentTree.for_test().load_context.for_path(tmp_path)
    monkeypatch.setenv("REST_ASSETS_DATABASE", str(tmp_path / "w.duckdb"))
    graph = component.build_defs(context).resolve_asset_graph()
    posts = graph.get(dg.AssetKey(["lake", "blog", "posts"]))
    assert posts.group_name == "landing"
    assert graph.get(dg.AssetKey(["lake", "blog", "comments"])).parent_keys == {posts.key}
