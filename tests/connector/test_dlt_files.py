"""`.env` and `.dlt/*.toml` of a project: where values come from, in dlt's order, and that
they are resolved like environment variables only when a request is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from rest_assets import ConfigError, MissingEnvVarError
from rest_assets.config.load import read_project
from rest_assets.config.project_files import PROJECT_VALUES
from rest_assets.http.env import EnvResolver

SOURCE = """\
sources:
  - name: {name}
    type: rest_api
    rest_api:
      base_url: https://api.example.com
      headers: {{X-Token: "${{{var}}}"}}
      endpoints: [{{path: /items, name: items}}]
"""


def resolve_env(value: str, env: dict[str, str] | None = None, where: str = "") -> str:
    return EnvResolver(env).resolve(value, where)


def _project(
    folder: Path, *, name: str = "shop", var: str = "SHOP_TOKEN", dango: bool = True
) -> Path:
    config = folder / (".dango/sources.yml" if dango else "sources.yml")
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SOURCE.format(name=name, var=var))
    return config


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('SHOP_TOKEN = "top"\n', "top"),
        ('[sources]\nSHOP_TOKEN = "sources"\n', "sources"),
        ('[sources.rest_api]\nSHOP_TOKEN = "rest_api"\n', "rest_api"),
        ('[sources.shop]\nSHOP_TOKEN = "named"\n', "named"),
        ('[sources.rest_api.shop]\nSHOP_TOKEN = "both"\n', "both"),
        # the most specific section wins, as dlt reduces sections
        (
            'SHOP_TOKEN = "top"\n[sources.rest_api]\nSHOP_TOKEN = "rest_api"\n'
            '[sources.shop]\nSHOP_TOKEN = "named"\n',
            "named",
        ),
        ('SHOP_TOKEN = "top"\n[sources.rest_api]\nSHOP_TOKEN = "rest_api"\n', "rest_api"),
        ("[sources.rest_api]\nSHOP_TOKEN = 12345\n", "12345"),
    ],
)
def test_section_lookup(tmp_path: Path, toml: str, expected: str) -> None:
    config = _project(tmp_path)
    _write(tmp_path / ".dlt" / "secrets.toml", toml)
    _, report = read_project(config)
    assert report.dlt_names == ["SHOP_TOKEN"]
    assert resolve_env("${SHOP_TOKEN}") == expected


def test_environment_then_env_file_then_secrets_then_config_then_home(
    tmp_path: Path, isolated_process: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path)
    home = isolated_process
    _write(home / ".dlt" / "config.toml", 'SHOP_TOKEN = "home-config"\n')
    read_project(config)
    assert resolve_env("${SHOP_TOKEN}") == "home-config"
    _write(home / ".dlt" / "secrets.toml", 'SHOP_TOKEN = "home-secrets"\n')
    read_project(config)
    assert resolve_env("${SHOP_TOKEN}") == "home-secrets"  # secrets.toml before config.toml
    _write(tmp_path / ".dlt" / "config.toml", 'SHOP_TOKEN = "project-config"\n')
    read_project(config)
    assert resolve_env("${SHOP_TOKEN}") == "home-secrets"
    _write(tmp_path / ".dlt" / "secrets.toml", 'SHOP_TOKEN = "project-secrets"\n')
    read_project(config)
    assert resolve_env("${SHOP_TOKEN}") == "project-secrets"  # the project before ~/.dlt
    _write(tmp_path / ".env", "SHOP_TOKEN=dotenv\n")  # .env at the project root
    read_project(config)
    assert resolve_env("${SHOP_TOKEN}") == "dotenv"
    monkeypatch.setenv("SHOP_TOKEN", "environment")
    assert resolve_env("${SHOP_TOKEN}") == "environment"


def test_values_stay_references_in_the_models_and_are_redacted_once_resolved(
    tmp_path: Path,
) -> None:
    config = _project(tmp_path)
    _write(tmp_path / ".dlt" / "secrets.toml", '[sources.rest_api]\nSHOP_TOKEN = "s3cr3t-value"\n')
    project, _ = read_project(config)
    assert project.sources[0].client.headers == {"X-Token": "${SHOP_TOKEN}"}
    assert "s3cr3t-value" not in project.model_dump_json()
    resolver = EnvResolver()
    assert resolver.resolve("Bearer ${SHOP_TOKEN}") == "Bearer s3cr3t-value"
    assert resolver.resolved_values == {"s3cr3t-value"}  # what the client redacts


def test_only_referenced_names_are_kept(tmp_path: Path) -> None:
    config = _project(tmp_path)
    _write(tmp_path / ".dlt" / "secrets.toml", 'SHOP_TOKEN = "a"\nUNUSED = "b"\n[db]\nx = "c"\n')
    read_project(config)
    assert PROJECT_VALUES.names() == {"SHOP_TOKEN"}


def test_a_missing_variable_fails_when_resolved_naming_it(tmp_path: Path) -> None:
    read_project(_project(tmp_path))
    with pytest.raises(MissingEnvVarError, match="SHOP_TOKEN is not set"):
        resolve_env("${SHOP_TOKEN}", where="headers")


def test_two_sources_finding_different_values_for_one_name_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(
        SOURCE.format(name="a", var="TOKEN")
        + SOURCE.format(name="b", var="TOKEN").split("\n", 1)[1]
    )
    _write(
        tmp_path / ".dlt" / "secrets.toml",
        '[sources.a]\nTOKEN = "one"\n[sources.b]\nTOKEN = "two"\n',
    )
    with pytest.raises(ConfigError) as info:
        read_project(config)
    message = str(info.value)
    assert "sources[1](b)" in message and "[sources.b]" in message and "[sources.a]" in message
    assert "distinct names" in message
    assert "one" not in message.split("secrets.toml")[-1]  # no value is shown


def test_two_projects_with_different_values_in_one_process(tmp_path: Path) -> None:
    first, second = tmp_path / "p1", tmp_path / "p2"
    for folder, value in ((first, "one"), (second, "two")):
        _write(folder / ".dlt" / "secrets.toml", f'SHOP_TOKEN = "{value}"\n')
        read_project(_project(folder))
    with pytest.raises(ConfigError, match="different values in"):
        resolve_env("${SHOP_TOKEN}")
    _write(second / ".dlt" / "secrets.toml", 'SHOP_TOKEN = "one"\n')
    read_project(_project(second))  # reloading a project replaces its values
    assert resolve_env("${SHOP_TOKEN}") == "one"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    config = _project(tmp_path)
    _write(tmp_path / ".dlt" / "secrets.toml", "[sources.rest_api\nX = 1\n")
    with pytest.raises(ConfigError, match=r"secrets\.toml: not valid TOML"):
        read_project(config)


def test_env_defaults() -> None:
    assert resolve_env("${REGION:-eu}", env={}) == "eu"
    assert resolve_env("${REGION:-eu}", env={"REGION": ""}) == "eu"
    assert resolve_env("${REGION:-eu}", env={"REGION": "us"}) == "us"
    assert resolve_env("$${REGION:-eu}", env={}) == "${REGION:-eu}"
    resolver = EnvResolver({})
    resolver.resolve("${REGION:-eu}")
    assert resolver.resolved_values == set()  # a default is config text, not a secret
