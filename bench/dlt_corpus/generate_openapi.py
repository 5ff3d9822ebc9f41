"""Regenerate `openapi_sources.json`: the RESTAPIConfig dicts dlt-init-openapi 0.1.0 renders
for the OpenAPI specs of its own test cases (dlt-hub/dlt-init-openapi, tests/cases).

Run with an interpreter that has dlt-init-openapi==0.1.0 (it pins dlt 0.4 and pydantic 1,
so not the project's venv), e.g.

    python3 -m venv /tmp/venv-openapi
    /tmp/venv-openapi/bin/pip install dlt-init-openapi==0.1.0 'setuptools<70'
    /tmp/venv-openapi/bin/python bench/dlt_corpus/generate_openapi.py SPEC_DIR

SPEC_DIR holds the specs as `<folder>__<file>` (e.g. `original_specs__pokeapi.yml`, read
from the repository with `git show HEAD:tests/cases/original_specs/pokeapi.yml`). Each
rendered source's `source_config = {...}` literal is kept as JSON: a name the template
fills from the source's arguments (`base_url`, a detected secret) becomes the string
`${name}`; a spec the generator fails on is recorded with its error.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("openapi_sources.json")
REPO = "dlt-hub/dlt-init-openapi"


def literal(node: ast.AST) -> Any:
    """A JSON value from a dict/list/constant literal; a bare name becomes `${name}`."""
    if isinstance(node, ast.Dict):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.List | ast.Tuple):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return "${" + node.id + "}"
    raise ValueError(f"not a literal: {ast.dump(node)[:200]}")


def source_config(code: str) -> Any:
    for node in ast.walk(ast.parse(code)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "source_config" and value:
                return literal(value)
    raise ValueError("no `source_config = {...}` in the rendered source")


def render(spec: Path) -> str:
    from dlt_init_openapi import _get_project_for_url_or_path
    from dlt_init_openapi.config import Config

    config = Config(project_name="gen", package_name="gen", spec_path=spec)  # type: ignore[call-arg]
    config.prepare()
    project = _get_project_for_url_or_path(config=config)
    project.parse()
    project.detect()
    project.render(dry=True)  # sets the renderer's names and globals, writes nothing
    return str(project.renderer._render_source())  # type: ignore[attr-defined]


def main(spec_dir: str) -> None:
    out: dict[str, Any] = {}
    for spec in sorted(Path(spec_dir).iterdir()):
        folder, _, name = spec.name.partition("__")
        origin = f"{REPO}:tests/cases/{folder}/{name} (dlt-init-openapi 0.1.0 output)"
        try:
            out[spec.name] = {"origin": origin, "config": source_config(render(spec))}
        except Exception as exc:  # the generator's own failure: recorded, not ours
            out[spec.name] = {"origin": origin, "generator_error": f"{type(exc).__name__}: {exc}"}
        print(spec.name, "ok" if "config" in out[spec.name] else out[spec.name])
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
