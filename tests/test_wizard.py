"""`rest-assets inspect / init / add` end to end: live LocalAPI, real files, real Dagster."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from test_inspect import TOKEN, build_api

from rest_assets import wizard
from rest_assets.cli import main
from rest_assets.config.load import load_project
from rest_assets.dagster import build_definitions
from rest_assets.demo.server import LocalAPI


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with build_api() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yml"
    assert main(["init", str(path)]) == 0
    return path


def _add(path: Path, *args: str) -> int:
    return main(["add", str(path), *args, "--yes"])


def test_init_writes_a_valid_commented_file_and_refuses_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sources.yml"
    assert main(["init", str(path)]) == 0
    assert path.read_text().startswith("# rest-assets")
    assert load_project(path).sources == []
    path.write_text(path.read_text() + "# mine\n")
    assert main(["init", str(path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert path.read_text().endswith("# mine\n")
    assert main(["init", str(path), "--force"]) == 0
    assert "# mine" not in path.read_text()


def test_add_non_interactive_loads_and_materializes(
    api: LocalAPI,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    instance: dg.DagsterInstance,
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    code = _add(
        config,
        "--name", "github", "--base-url", f"{api.url}/private", "--endpoint", "issues",
        "--auth-type", "bearer", "--token-env", "GH_TOKEN", "--param", "per_page=3",
        "--incremental", "--write-disposition", "merge",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = config.read_text()
    assert TOKEN not in text and TOKEN not in captured.out + captured.err
    assert "${GH_TOKEN}" in text
    assert text.startswith("# rest-assets")  # the header comments are kept
    resource = load_project(config).sources[0].resources[0]
    assert resource.endpoint.paginator.type == "header_link"
    assert resource.endpoint.params == {"per_page": 3}
    assert resource.primary_key == ["id"] and resource.write_disposition == "merge"
    assert resource.endpoint.incremental.cursor_path == "updated_at"

    database = tmp_path / "wizard.duckdb"
    defs = build_definitions(config, database=database)
    assets = list(defs.assets or [])
    assert [k.to_user_string() for a in assets for k in a.keys] == ["github/issues"]
    result = dg.materialize(assets, resources=defs.resources, instance=instance)
    assert result.success
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_github.issues").fetchone()[0] == 7


def test_add_more_sources_and_resources_keeps_the_file_valid(
    api: LocalAPI, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(config, "--name", "pay", "--base-url", api.url, "--endpoint", "v1/charges") == 0
    config.write_text(config.read_text() + "# a comment after the pay source\n")
    assert _add(config, "--name", "things", "--base-url", api.url, "--endpoint", "/api/things") == 0
    text = config.read_text()
    assert "# a comment after the pay source" in text  # a new source is appended as text
    # A resource into the last source is appended as text too.
    assert _add(config, "--name", "things", "--endpoint", "user", "--resource", "me") == 0
    assert "# a comment after the pay source" in config.read_text()
    # A resource into the first source means a re-dump: top comments kept, the note says so.
    capsys.readouterr()
    assert (
        _add(config, "--name", "pay", "--endpoint", "repos/o/r/issues", "--param", "per_page=2")
        == 0
    )
    out = capsys.readouterr().out
    assert "comments below its header were not kept" in out
    project = load_project(config)
    shape = {s.name: [r.name for r in s.resources] for s in project.sources}
    assert shape == {"pay": ["charges", "issues"], "things": ["things", "me"]}
    things = project.sources[1]
    assert things.resource("things").primary_key == ["thing_id"]
    assert things.resource("me").endpoint.paginator.type == "single_page"
    assert config.read_text().startswith("# rest-assets")
    defs = build_definitions(config, database=":memory:")
    assert len(defs.resolve_asset_graph().get_all_asset_keys()) == 4


def test_add_to_an_existing_dango_source(api: LocalAPI, tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        "# Dango style\nversion: '1.0'\nsources:\n  - name: acme\n    type: rest_api\n"
        f"    rest_api:\n      base_url: {api.url}\n      auth_type: none\n"
        "      endpoints:\n        - {path: /user, name: me}\n"
    )
    assert _add(path, "--name", "acme", "--endpoint", "/api/things") == 0
    raw = yaml.safe_load(path.read_text())
    endpoints = raw["sources"][0]["rest_api"]["endpoints"]
    assert [e["name"] for e in endpoints] == ["me", "things"]
    assert path.read_text().startswith("# Dango style")
    source = load_project(path).sources[0]
    assert source.resource("things").endpoint.data_selector == "results"


def test_existing_resource_name_and_conflicting_base_url_are_refused(
    api: LocalAPI, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(config, "--name", "pay", "--base-url", api.url, "--endpoint", "v1/charges") == 0
    before = config.read_text()
    assert _add(config, "--name", "pay", "--endpoint", "v1/charges") == 1
    assert "already has a resource 'charges'" in capsys.readouterr().err
    assert _add(config, "--name", "pay", "--base-url", "http://other", "--endpoint", "x") == 1
    assert "already exists with base_url" in capsys.readouterr().err
    assert config.read_text() == before


def test_raw_tokens_are_refused_and_never_echoed(
    api: LocalAPI, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_text()
    base = ["--name", "gh", "--base-url", api.url, "--endpoint", "private/issues"]
    assert _add(config, *base, "--token", TOKEN) == 1
    err = capsys.readouterr().err
    assert "--token-env" in err and TOKEN not in err
    token_like = "ghp_abcdEFGH1234ijklMNOP5678"
    assert _add(config, *base, "--auth-type", "bearer", "--token-env", token_like) == 1
    err = capsys.readouterr().err
    assert "NAME of an environment variable" in err and token_like not in err
    assert _add(config, *base, "--header", f"Authorization=Bearer {TOKEN}") == 1
    err = capsys.readouterr().err
    assert "looks like a credential" in err and TOKEN not in err
    assert config.read_text() == before
    assert api.requests == []  # refused before anything was sent


def test_api_key_in_query_from_env(
    api: LocalAPI, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAY_KEY", "pay-key-canary-9911")
    code = _add(
        config, "--name", "pay", "--base-url", api.url, "--endpoint", "v1/charges",
        "--auth-type", "api_key", "--token-env", "PAY_KEY", "--api-key-location", "query",
        "--api-key-name", "api_key",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert api.requests[0].arg("api_key") == "pay-key-canary-9911"
    assert "pay-key-canary-9911" not in config.read_text() + captured.out + captured.err
    auth = load_project(config).sources[0].client.auth
    assert auth.params() == {"name": "api_key", "api_key": "${PAY_KEY}", "location": "query"}


def test_interactive_add_with_scripted_answers(
    api: LocalAPI, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    answers = iter(
        [
            "github",  # source name
            f"{api.url}/private",  # base URL
            "bearer",  # auth
            TOKEN,  # a token pasted where a variable name belongs: asked again
            "GH_TOKEN",
            "/issues",  # endpoint
            "",  # resource name: the suggested "issues"
            "per_page=3",  # params
            "",  # data path: keep the suggestion (bare list)
            "",  # primary key: suggested id
            "y",  # incremental
            "",  # cursor: suggested updated_at
            "",  # disposition: suggested merge
            "",  # write it
        ]
    )
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(wizard.commands, "stdin_is_tty", lambda: True)
    assert main(["add", str(config)]) == 0
    out = capsys.readouterr().out
    assert next(answers, None) is None  # every answer used
    assert "[GITHUB_API_TOKEN]" in prompts[3]  # Dango-like default variable name
    assert any("[updated_at]" in p for p in prompts)
    assert any("[merge]" in p for p in prompts)
    assert TOKEN not in out and TOKEN not in config.read_text()
    resource = load_project(config).sources[0].resource("issues")
    assert resource.endpoint.incremental.cursor_path == "updated_at"
    assert resource.write_disposition == "merge" and resource.primary_key == ["id"]


def test_interactive_decline_writes_nothing(
    api: LocalAPI, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["x", api.url, "none", "user", "", "-", "", "", "n", "", "n"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    monkeypatch.setattr(wizard.commands, "stdin_is_tty", lambda: True)
    before = config.read_text()
    assert main(["add", str(config)]) == 1
    assert config.read_text() == before


def test_invalid_result_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("sources: []\n")
    bad = "sources:\n  - name: x\n    client: {base_url: 'ftp://nope'}\n    resources: [a]\n"
    with pytest.raises(wizard.WizardError, match="base_url"):
        wizard.write_validated(path, bad)
    assert path.read_text() == "sources: []\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sources.yml"]  # no temp file left


def test_inspect_command_report_and_json(
    api: LocalAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    url = f"{api.url}/private/issues"
    assert main(["inspect", url, "--token-env", "GH_TOKEN", "--param", "per_page=3"]) == 0
    out = capsys.readouterr().out
    assert "header_link" in out and "updated_at" in out and TOKEN not in out
    assert "as a sources.yml resource:" in out
    assert main(["inspect", f"{api.url}/api/things", "--json", "--pages", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["data_selector"] == "results" and data["pages_fetched"] == 1
    assert data["primary_key"] == "thing_id"
