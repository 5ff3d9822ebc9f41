"""The docs stay true: the generated reference is current, every example validates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rest_assets import build_definitions, load_project
from rest_assets.http.auth import AUTH_TYPES
from rest_assets.http.paginators import PAGINATORS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").rglob("*.yml"))
GENERATOR = ROOT / "scripts" / "gen_config_reference.py"

# Aliases of another type: documented through the main name.
AUTH_ALIASES = {"basic", "none"}
PAGINATOR_ALIASES = {"json_response"}


def test_config_reference_is_generated_from_the_current_models() -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (
        "docs/config-reference.md is stale: run `.venv/bin/python scripts/"
        f"gen_config_reference.py` and commit the result\n{done.stderr}"
    )
    assert "has no description" not in done.stderr, done.stderr


def test_config_reference_lists_every_key_of_every_model() -> None:
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import gen_config_reference as gen
    finally:
        sys.path.remove(str(GENERATOR.parent))
    from rest_assets.config.models import ProjectConfig

    text = (DOCS / "config-reference.md").read_text()
    for model in gen.reachable_models(ProjectConfig):
        section = text.split(f"## {model.__name__}\n", 1)[1].split("\n## ", 1)[0]
        for name, field in model.model_fields.items():
            assert f"| `{field.alias or name}` |" in section, (model.__name__, name)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_example_validates_and_builds_definitions(example: Path, tmp_path: Path) -> None:
    project = load_project(example)
    defs = build_definitions(example, database=tmp_path / "example.duckdb")
    assert project.sources and defs.resolve_asset_graph().get_all_asset_keys()


def test_examples_cover_every_auth_type_and_paginator() -> None:
    auth_files = {p.stem for p in (DOCS / "examples" / "auth").glob("*.yml")}
    used_auth = set()
    for path in (DOCS / "examples" / "auth").glob("*.yml"):
        for source in load_project(path).sources:
            auth = source.client.auth
            used_auth.add(getattr(auth, "type", None) or "bearer")
    assert set(AUTH_TYPES) - AUTH_ALIASES <= used_auth, auth_files
    paginator_files = {p.stem for p in (DOCS / "examples" / "paginators").glob("*.yml")}
    assert set(PAGINATORS) - PAGINATOR_ALIASES <= paginator_files


def test_readme_links_the_docs_and_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in ("docs/config-reference.md", "docs/migration.md", "docs/examples/"):
        assert f"]({target})" in readme, target
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        prose = re.sub(r"```.*?```|`[^`\n]*`", "", doc.read_text(), flags=re.DOTALL)
        for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose):
            if "://" in link:
                continue
            assert (doc.parent / link).exists(), f"{doc.name}: broken link {link}"
