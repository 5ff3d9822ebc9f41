"""A tiny real dbt project on a DuckDB file rest-assets loaded, for the dbt and UI tests.

Its one model selects from `source('blog', 'posts')`; its `models/sources.yml` is written by
`rest-assets dbt-sources`. dbt runs as the `dbt` command of the venv (dbt-duckdb), with
anonymous usage statistics off: the tests reach nothing but loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

DBT = Path(sys.executable).parent / "dbt"
MODEL = "post_authors"
MODEL_SQL = (
    "select author__name as author, count(*) as posts\n"
    "from {{ source('blog', 'posts') }}\ngroup by 1\n"
)

# The demo's config, with a freshness check and described columns on posts: what
# dbt-sources turns into dbt freshness and column descriptions.
DEMO_EXTRAS = """\
        checks: {freshness: {max_lag_minutes: 60}}
        columns:
          id: {data_type: bigint, description: Post id given by the blog API}
          title: {data_type: text, description: Headline of the post}
"""

DAGSTER_DEFS = '''\
"""The dbt project's assets, keyed by dagster-dbt's default translator."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

PROJECT = Path(__file__).resolve().parent / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


@dbt_assets(manifest=PROJECT / "target" / "manifest.json")
def blog_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[blog_models],
    resources={
        "dbt": DbtCliResource(project_dir=PROJECT, profiles_dir=PROJECT, dbt_executable=str(DBT))
    },
)
'''


def demo_config_with_extras(demo_yaml: Path, out: Path) -> Path:
    """The demo sources.yml with `DEMO_EXTRAS` under the posts resource."""
    text = demo_yaml.read_text()
    marker = "      - name: posts\n"
    assert marker in text
    out.write_text(text.replace(marker, marker + DEMO_EXTRAS, 1))
    return out


def dbt_env() -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


def write_project(root: Path, database: Path) -> Path:
    """dbt_project.yml, profiles.yml (DuckDB at `database`) and the model, in `root`."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        'name: rest_blog\nversion: "1.0"\nprofile: rest_blog\nmodel-paths: [models]\n'
    )
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            f"""\
            rest_blog:
              target: dev
              outputs:
                dev:
                  type: duckdb
                  path: "{database}"
                  threads: 1
            """
        )
    )
    (root / "models" / f"{MODEL}.sql").write_text(MODEL_SQL)
    return root


def dbt(project: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the dbt command on `project`; warnings are errors, so deprecations fail too."""
    return subprocess.run(
        [str(DBT), "--warn-error", *args, "--project-dir", str(project), "--profiles-dir",
         str(project)],
        cwd=project, env=dbt_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
