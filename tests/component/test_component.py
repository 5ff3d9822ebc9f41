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

from rest_assets import ConfigError, RestApiComponent, asset_key
from rest_assets.demo.api import DemoAPI

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


def _project(root: Path, package: str, defs_yaml: str, with_sources_file: bool = False) -> Path:
    """A minimal dg project: pyproject with [tool.dg], a package, one defs.yaml."""
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
    (root / package / "defs" / "api" / "defs.yaml").write_text(defs_yaml)
    if with_sources_file:
        shutil.copy(DEMO_YAML, root / package / "defs" / "api" / "sources.yml")
    return root / package / "defs" / "api" / "defs.yaml"


def _dg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{DG.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [str(DG), *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
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
