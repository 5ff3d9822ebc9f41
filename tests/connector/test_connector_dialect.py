"""The connector dialect's translation, naming and errors (no network: see tests/seeds for
the examples end to end)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from rest_assets import ConfigError, parse_project
from rest_assets.config.load import parse_project_report, read_project


def _input(**overrides: Any) -> dict[str, Any]:
    return {"format": "rest_api", "url": "https://api.example.com/v1/items", **overrides}


def _file(inputs: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    return {"CONFIG": {"inputs": inputs if inputs is not None else {"items": _input()}, **config}}


def _source(raw: dict[str, Any]) -> Any:
    return parse_project(raw).sources[0]


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        (
            {"MODL": "x", **_file()},
            ["unknown key 'MODL' at the top of a connector file", "'MODEL'"],
        ),
        (_file(transfrom={"type": "noop"}), ["unknown key 'transfrom' in CONFIG", "'transform'"]),
        (_file({"items": {"format": "rest_api"}}), ["CONFIG.inputs.items.url", "missing; add it"]),
        (_file({"items": {"url": "https://x.example"}}), ["CONFIG.inputs.items.format is missing"]),
        (
            _file({"items": _input(pagination={"type": "offset"})}),
            ["CONFIG.inputs.items.pagination", "type offset needs page_size"],
        ),
        (
            _file({"items": _input(pagination={"type": "page", "page_size": 5})}),
            ["CONFIG.inputs.items.pagination.type", "'offset', 'cursor' or 'next_link'", "'page'"],
        ),
        (
            _file({"items": _input(pagination={"type": "next_link", "cursor_field": "c"})}),
            ["cursor_field applies to type cursor"],
        ),
        (
            _file(
                {"items": _input(auth={"type": "api_key", "key": "k", "header": "H", "param": "p"})}
            ),
            ["CONFIG.inputs.items.auth", "either header", "or param"],
        ),
        (
            _file({"items": _input(auth={"type": "oauth2", "token": "t"})}),
            ["CONFIG.inputs.items.auth.type", "'bearer', 'api_key' or 'basic'"],
        ),
        (
            _file({"items": _input(auth={"type": "bearer", "key": "k"})}),
            ["key does not apply to type bearer"],
        ),
        (
            _file({"items": _input(root_key="data")}),
            ["CONFIG.inputs.items.root_key", "belongs under response: (response.root_key)"],
        ),
        (
            _file({"items": _input(params={"since": "{{ yesterday }}"})}),
            ["CONFIG.inputs.items.params.since", "'yesterday' is not a known name"],
        ),
        (
            _file({"items": _input(auth={"type": "bearer", "token": "{{ dt }}"})}),
            ["CONFIG.inputs.items.auth.token", "url, params and headers only"],
        ),
        (
            _file({"items": _input(headers={"X": "{{ env.TOKEN | upper }}"})}),
            ["CONFIG.inputs.items.headers.X", "the filter 'upper' is not accepted"],
        ),
        (
            _file({"items": _input(url="api.example.com/items")}),
            ["CONFIG.inputs.items.url", "http://"],
        ),
        (
            _file({"items": _input(schema=[{"name": "id", "type": "int64"}])}),
            ["CONFIG.inputs.items.schema[0](id).type", "'long'"],
        ),
        (
            _file({"items": {"format": "delta", "path": "s3://x"}}),
            ["no entry with format: rest_api", "nothing for rest-assets"],
        ),
        (
            _file(outputs={"items": {"format": "rest_api", "url": "https://api.example.com/o"}}),
            ["CONFIG.outputs.items: an input has the same name"],
        ),
        (
            _file(
                outputs={"o": {"format": "rest_api", "url": "https://x.example/o", "from": "nope"}}
            ),
            ["CONFIG.outputs.o.from: this file has no input 'nope'", "inputs: items"],
        ),
        (
            _file(
                {"a": _input(), "b": _input()},
                outputs={"o": {"format": "rest_api", "url": "https://x.example/o"}},
            ),
            ["CONFIG.outputs.o: this file has 2 inputs (a, b)", "add from: <input>"],
        ),
        (
            _file(
                {"a": _input()},
                outputs={
                    "o": {"format": "rest_api", "url": "https://x.example/o"},
                    "p": {
                        "format": "rest_api",
                        "url": "https://x.example/p",
                        "auth": {"type": "bearer", "token": "t"},
                    },
                },
            ),
            ["CONFIG.outputs.o, CONFIG.outputs.p", "one auth"],
        ),
        (
            _file(
                {
                    "a": _input(rate_limit={"max_retries": 1}),
                    "b": _input(rate_limit={"max_retries": 2}),
                }
            ),
            ["CONFIG.inputs.a.rate_limit.max_retries", "one retry policy"],
        ),
        (
            _file(
                transform={"type": "sql", "query": "select 1"},
                outputs={"o": {"format": "rest_api", "url": "https://x.example/o"}},
            ),
            ["CONFIG.transform: type 'sql'", "untransformed rows", "type: noop"],
        ),
    ],
)
def test_mistakes_name_the_path_and_the_fix(raw: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_project(raw)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_templates_become_references_and_placeholders_never_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_TOKEN", "must-not-appear")
    source = _source(
        _file(
            {
                "items": _input(
                    url="{{ env.API_URL }}/v1/items/{{ dt }}",
                    params={"since": "{{ dt }}", "region": "{{ env.REGION | default('eu') }}"},
                    headers={"X-Literal": "{a} ${NOT_A_REF}"},
                    auth={"type": "bearer", "token": "{{ env.API_TOKEN }}"},
                )
            }
        )
    )
    endpoint = source.resources[0].endpoint
    assert source.client.base_url == "${API_URL}"
    assert endpoint.path == "${API_URL}/v1/items/{run.date}"
    assert endpoint.params == {"since": "{run.date}", "region": "${REGION:-eu}"}
    # literal text stays literal: braces for the placeholder renderer, `${` for the resolver
    assert endpoint.headers == {"X-Literal": "{{a}} $${NOT_A_REF}"}
    assert source.client.auth.model_dump()["token"] == "${API_TOKEN}"
    assert "must-not-appear" not in str(source.model_dump())


def test_auth_of_the_outputs_is_the_clients_and_other_inputs_keep_their_own() -> None:
    bearer = {"type": "bearer", "token": "{{ env.OUT }}"}
    key = {"type": "api_key", "param": "k", "key": "{{ env.KEY }}"}
    source = _source(
        _file(
            {"plain": _input(), "keyed": _input(auth=key), "same": _input(auth=bearer)},
            outputs={
                "o": {
                    "format": "rest_api",
                    "url": "https://x.example/o",
                    "auth": bearer,
                    "from": "same",
                }
            },
        )
    )
    assert source.client.auth.model_dump() == {"type": "bearer", "token": "${OUT}"}
    by_name = {r.name: r for r in source.resources}
    assert by_name["plain"].auth.type == "none"  # not the output's token
    assert by_name["keyed"].auth.model_dump() == {
        "type": "api_key",
        "name": "k",
        "api_key": "${KEY}",
        "location": "query",
    }
    assert by_name["same"].auth is None  # the client's
    assert source.outputs[0].from_ == "same"


def test_rate_limits_share_the_lowest_rate_and_say_so() -> None:
    project, report = parse_project_report(
        _file(
            {
                "a": _input(rate_limit={"requests_per_second": 10, "retry_on": [429]}),
                "b": _input(rate_limit={"requests_per_second": 4}),
            }
        )
    )
    limit = project.sources[0].client.rate_limit
    assert (limit.requests_per_second, limit.retry_on) == (4, [429])
    assert any("4 requests per second applies to every entry" in n for n in report.sources[0].notes)


@pytest.mark.parametrize(
    ("stem", "model", "name"),
    [
        ("customers", "etl", "customers"),
        ("sources", "etl", "etl"),
        ("sources", None, "sources"),
        (None, "etl", "etl"),
        (None, None, "connector"),
        ("2024-export.v2", None, "_2024_export_v2"),
    ],
)
def test_the_source_name(stem: str | None, model: str | None, name: str) -> None:
    raw = _file() if model is None else {"MODEL": model, **_file()}
    project, report = parse_project_report(raw, stem=stem)
    assert project.sources[0].name == name
    assert report.sources[0].name_origin


def test_other_formats_are_skipped_with_one_warning_and_the_rest_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "mixed.yml"
    config.write_text(
        "CONFIG:\n"
        "  inputs:\n"
        "    lake: {format: delta, path: 's3://lake/x'}\n"
        "    items: {format: rest_api, url: 'https://api.example.com/items'}\n"
        "  outputs:\n"
        "    out: {format: parquet, path: /tmp/x}\n"
    )
    caplog.set_level(logging.WARNING, logger="rest_assets.config")
    for _ in range(3):  # Dagster loads definitions again and again: one warning each
        project, report = read_project(config)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert any("CONFIG.inputs.lake: format 'delta'" in m for m in messages)
    assert any("CONFIG.outputs.out: format 'parquet'" in m for m in messages)
    assert [r.name for r in project.sources[0].resources] == ["items"]
    assert len(report.warnings) == 2


def test_model_version_and_noop_transform_are_accepted() -> None:
    project = parse_project({"MODEL": "etl", "VERSION": 1.0, **_file(transform={"type": "noop"})})
    assert project.version == "1.0"
    assert "etl" in (project.sources[0].description or "")


def test_a_transform_with_nothing_to_send_is_only_skipped() -> None:
    project, report = parse_project_report(_file(transform={"type": "sql", "query": "x"}))
    assert project.sources[0].resources[0].name == "items"
    assert any("CONFIG.transform: type 'sql'" in w for w in report.warnings)


def test_response_keys_are_keys_not_paths() -> None:
    source = _source(
        _file(
            {
                "items": _input(
                    response={"root_key": "odata.value"},
                    pagination={"type": "next_link", "link_field": "@odata.nextLink"},
                )
            }
        )
    )
    endpoint = source.resources[0].endpoint
    assert endpoint.data_selector == "$['odata.value']"
    assert endpoint.paginator.params() == {"next_url_path": "$['@odata.nextLink']"}
