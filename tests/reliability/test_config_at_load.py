"""A careless config fails at `validate` (definitions load), naming the field, never at run
time with a parser, recursion or Dagster traceback; a parked source is not read at all."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rest_assets.cli import main
from tests.reliability.harness import record

BASE = "http://127.0.0.1:9"


def _resource(**endpoint: Any) -> dict[str, Any]:
    return {"name": "items", "endpoint": {"path": "items", **endpoint}}


def _source(resource: dict[str, Any] | None = None, **client: Any) -> dict[str, Any]:
    return {
        "name": "careless",
        "client": {"base_url": BASE, **client},
        "resources": [resource or _resource()],
    }


def _incremental(**settings: Any) -> dict[str, Any]:
    return _resource(incremental={"cursor_path": "updated_at", **settings})


@dataclass
class Case:
    fault: str
    text: str  # the whole sources.yml
    expected: tuple[str, ...]


def _yaml(*sources: dict[str, Any]) -> str:
    return yaml.safe_dump({"sources": list(sources)}, sort_keys=False)


FILTERS = "$" + "[?(@.a==1)]" * 2000

CASES = [
    Case(
        "auth type that does not exist",
        _yaml(_source(auth={"type": "beaerer", "token": "${T}"})),
        ("client.auth", "unknown auth type 'beaerer'", "bearer"),
    ),
    Case(
        "api_key auth without its api_key",
        _yaml(_source(auth={"type": "api_key", "name": "X-Key"})),
        ("client.auth", "auth type 'api_key' needs api_key"),
    ),
    Case(
        "bearer auth with a key it does not take",
        _yaml(_source(auth={"type": "bearer", "token": "${T}", "tokn": "x"})),
        ("client.auth", "does not take ['tokn']"),
    ),
    Case(
        "data_selector that is not JSONPath",
        _yaml(_source(_resource(data_selector="data[?(@.x"))),
        ("endpoint.data_selector", "invalid JSONPath"),
    ),
    Case(
        "data_selector with 2,000 filters",
        _yaml(_source(_resource(data_selector=FILTERS))),
        ("endpoint.data_selector", "22,001 characters long"),
    ),
    Case(
        "cron string `61 * * * *`",
        _yaml(_source({**_resource(), "schedule": {"cron": "61 * * * *"}})),
        ("resources[0](items).schedule.cron", "is not a cron schedule"),
    ),
    Case(
        "unclosed brace `{resources.a.id`",
        _yaml(
            {
                **_source(),
                "resources": [
                    {"name": "a", "endpoint": "a"},
                    {"name": "b", "endpoint": {"path": "a/{resources.a.id/b"}},
                ],
            }
        ),
        ("resources[1](b).endpoint.path", "not part of a placeholder"),
    ),
    Case(
        "end_value before initial_value",
        _yaml(_source(_incremental(initial_value="2024-06-01", end_value="2024-01-01"))),
        ("incremental.end_value", "must come after initial_value"),
    ),
    Case(
        "a second base_url in one client (duplicate YAML key)",
        "sources:\n  - name: careless\n    client:\n      base_url: https://api.example.com\n"
        "      base_url: https://elsewhere.example.net\n    resources: [items]\n",
        ("'base_url' is given twice, on line 4 and on line 5",),
    ),
    Case(
        "dataset: _rest_assets (the load ledger's schema)",
        _yaml({**_source(), "dataset": "_rest_assets"}),
        ("dataset", "reserved for rest-assets' load ledger"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_refused_at_validate_naming_the_field(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(case.text)
    assert main(["validate", str(config)]) == 1
    err = capsys.readouterr().err
    for part in case.expected:
        assert part in err, err
    assert "Traceback" not in err and "Invariant" not in err and "RecursionError" not in err
    message = err.strip().removeprefix("error: ").removeprefix(f"{config}: ")
    record(f"config: {case.fault}", 0, 0, None, None, "refused at validate: " + message)


def test_a_parked_source_is_not_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {"name": "later", "enabled": False, "client": {"base_url": "ftp://x"}, "nope": 1}
    config = tmp_path / "sources.yml"
    config.write_text(_yaml(_source(), broken))
    assert main(["validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert "careless/items" in out and "sources[1](later) -> parked (enabled: false)" in out
    record(
        "config: a half-written source with enabled: false",
        0,
        0,
        None,
        None,
        "validate succeeded; the source is parked (listed, not validated), the others load",
    )


def test_an_alias_bomb_inside_endpoint_json_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):  # 10^9 values once expanded
        prev, name = chr(96 + n), chr(97 + n)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    body = "\n".join("          " + line for line in levels)
    text = (
        "sources:\n  - name: bomb\n    client: {base_url: http://127.0.0.1:9}\n"
        "    resources:\n      - name: items\n        endpoint:\n          path: items\n"
        "          method: POST\n          json:\n"
        + "\n".join("  " + line for line in body.split("\n"))
    )
    config = tmp_path / "sources.yml"
    config.write_text(text)
    started = time.perf_counter()
    assert main(["validate", str(config)]) == 1
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert "expand to more than 1,000,000 values" in err and "sources.yml: line 1" in err, err
    record(
        "config: YAML alias bomb (10^9 values) inside endpoint.json",
        0,
        0,
        None,
        None,
        f"refused at validate in {elapsed:.2f} s naming the line (before: stalled > 15 min)",
    )
