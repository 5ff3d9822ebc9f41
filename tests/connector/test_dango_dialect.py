"""Dango's dialect: `type: dlt_native` parsed and carried, other types refused, version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rest_assets import ConfigError, parse_project
from rest_assets.config.dialects.dango import DltNativeSource, dlt_native_of
from rest_assets.config.load import load_project, parse_project_report

NATIVE = {
    "name": "my_custom_api",
    "type": "dlt_native",
    "enabled": True,
    "dlt_native": {"source_module": "custom_sources.my_api", "source_name": "my_api_source"},
}


def test_dlt_native_is_parsed_and_carried_to_the_dagster_layer() -> None:
    project, report = parse_project_report({"version": "1.0", "sources": [NATIVE]})
    (parsed,) = report.dlt_native_sources()
    assert (parsed.name, parsed.dlt_native.source_module, parsed.dlt_native.source_name) == (
        "my_custom_api",
        "custom_sources.my_api",
        "my_api_source",
    )
    (source,) = project.sources
    (resource,) = source.resources
    assert resource.name == "my_api_source"
    native = dlt_native_of(source)
    assert isinstance(resource.records, DltNativeSource) and native is resource.records
    assert native.config == parsed and native.project is None  # a dict: the working directory
    assert native.__name__ == "custom_sources.my_api:my_api_source"
    with pytest.raises(ConfigError, match=r"sources\[0\]\(my_custom_api\): the dlt source"):
        resource.records()


def test_a_dango_file_carries_its_project_folder(tmp_path: Path) -> None:
    (tmp_path / ".dango").mkdir()
    config = tmp_path / ".dango" / "sources.yml"
    config.write_text(yaml.safe_dump({"sources": [NATIVE]}))
    (source,) = load_project(config).sources
    native = dlt_native_of(source)
    assert native is not None and native.project == tmp_path.resolve()
    assert native.where == f"{config}: sources[0](my_custom_api)"


def test_other_sources_carry_nothing() -> None:
    project = parse_project(
        {"sources": [{"name": "a", "client": {"base_url": "https://x"}, "resources": ["r"]}]}
    )
    assert dlt_native_of(project.sources[0]) is None


def test_a_disabled_dlt_native_source_defines_nothing() -> None:
    project = parse_project({"sources": [{**NATIVE, "enabled": False}]})
    assert project.enabled_sources() == []


@pytest.mark.parametrize(
    ("native", "fragments"),
    [
        (
            {"source_module": "custom_sources.my_api"},
            ["sources[0](x).dlt_native.source_name", "missing"],
        ),
        (
            {"source_module": "custom-sources/my_api", "source_name": "f"},
            ["sources[0](x).dlt_native.source_module", "dotted module path"],
        ),
        (
            {"source_module": "m", "source_name": "f", "args": {}},
            ["sources[0](x).dlt_native.args", "unknown key"],
        ),
    ],
)
def test_dlt_native_mistakes(native: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_project({"sources": [{"name": "x", "type": "dlt_native", "dlt_native": native}]})
    for fragment in fragments:
        assert fragment in str(info.value)


def test_an_unknown_source_type_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_project({"sources": [{"name": "gh", "type": "github", "github": {}}]})
    assert "sources[0](gh).type: 'github' is not a source type" in str(info.value)


def test_dango_env_keys_must_name_variables() -> None:
    source = {
        "name": "x",
        "type": "rest_api",
        "rest_api": {
            "base_url": "https://api.example.com",
            "auth_type": "bearer",
            "auth_token_env": "MY-TOKEN",
            "endpoints": ["/a"],
        },
    }
    with pytest.raises(ConfigError, match=r"sources\[0\]\.rest_api\.auth_token_env"):
        parse_project({"sources": [source]})


def test_an_unquoted_version_is_text() -> None:
    source = {"name": "x", "client": {"base_url": "https://x.example"}, "resources": ["a"]}
    assert parse_project({"version": 1.0, "sources": [source]}).version == "1.0"
