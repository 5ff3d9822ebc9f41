"""Callables that the YAML configs of the relationship tests name by dotted path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def is_odd(issue: dict[str, Any]) -> bool:
    return issue["number"] % 2 == 1


def lower_title(issue: dict[str, Any]) -> dict[str, Any]:
    issue["title"] = issue["title"].lower()
    return issue


def one_per_label(issue: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for label in issue.pop("labels"):
        yield {
            **issue,
            "label": label["name"],
            "key": f"{issue['repo']}/{issue['number']}/{label['name']}",
        }


def repositories() -> Iterator[list[dict[str, Any]]]:
    yield [{"name": "dagster"}, {"name": "dlt"}]
