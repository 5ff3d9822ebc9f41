"""From one resource's config to batches of records: placeholders, parents, pages, steps.

The extractor drives `RestClient.paginate()` once per request context (once, or once per
parent row), adds `include_from_parent` fields, runs processing steps, and hands every
page's records to a sink as one batch, so memory holds at most a few pages at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rest_assets.config.models import (
    EndpointConfig,
    IncrementalParam,
    PaginatorConfig,
    ResolveParam,
    ResourceConfig,
)
from rest_assets.extract import placeholders
from rest_assets.extract.steps import Record, Steps
from rest_assets.http.client import RestClient

Sink = Callable[[list[Record]], None]


@dataclass
class ParentRow:
    """What a child request needs from one parent row: placeholder values and included fields."""

    values: dict[str, Any]
    included: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExtractStats:
    """Counts for Dagster metadata and logs."""

    pages: int = 0
    records: int = 0
    parents: int = 0
    ignored: int = 0


def paginator_spec(value: Any) -> Any:
    """A config paginator as `create_paginator` takes it: None for auto, a dict, or an instance."""
    if value is None:
        return None
    if isinstance(value, PaginatorConfig):
        return None if value.type == "auto" else {"type": value.type, **value.params()}
    return value


def auth_spec(value: Any) -> Any:
    """A config auth as `create_auth` takes it."""
    if value is None:
        return None
    if hasattr(value, "model_dump") and hasattr(value, "params"):
        dumped = value.model_dump(exclude_none=True)
        return dumped or None
    return value


class ResourceExtractor:
    """Extracts one resource. Build it once per run; `run()` may be called once."""

    def __init__(
        self,
        client: RestClient,
        resource: ResourceConfig,
        steps: Steps,
        resource_auth: Any = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.steps = steps
        self.stats = ExtractStats()
        endpoint = resource.endpoint
        self._resolve = {k: v for k, v in endpoint.params.items() if isinstance(v, ResolveParam)}
        # Legacy `type: incremental` params are filled by the incremental layer upstream.
        self._params = {
            k: v
            for k, v in endpoint.params.items()
            if not isinstance(v, ResolveParam | IncrementalParam)
        }
        self._auth = auth_spec(endpoint.auth) or auth_spec(resource_auth)

    def run(
        self,
        sink: Sink,
        parents: Iterable[ParentRow] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> ExtractStats:
        """Fetch every page (for every parent row, when given) and pass batches to `sink`."""
        base_values = dict(values or {})
        if parents is None:
            for batch in self._pages(base_values, {}):
                self._emit(sink, batch)
            return self.stats
        if self.resource.parallelized:
            for batches in self._parallel(parents, base_values):
                for batch in batches:
                    self._emit(sink, batch)
            return self.stats
        for parent in parents:
            self.stats.parents += 1
            for batch in self._pages({**base_values, **parent.values}, parent.included):
                self._emit(sink, batch)
        return self.stats

    def _emit(self, sink: Sink, batch: list[Record]) -> None:
        if batch:
            self.stats.records += len(batch)
            sink(batch)

    def _parallel(
        self, parents: Iterable[ParentRow], base_values: Mapping[str, Any]
    ) -> Iterator[list[list[Record]]]:
        """Fan child requests out over a bounded pool; yield results in parent order.

        At most `2 * concurrency` parents are in flight, so memory stays bounded however
        many parents there are.
        """
        width = self.resource.concurrency
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="rest-assets") as pool:
            window: list[Future[list[list[Record]]]] = []
            for parent in parents:
                self.stats.parents += 1
                window.append(
                    pool.submit(
                        lambda p=parent: list(self._pages({**base_values, **p.values}, p.included))
                    )
                )
                if len(window) >= 2 * width:
                    yield window.pop(0).result()
            for future in window:
                yield future.result()

    def _pages(
        self, values: Mapping[str, Any], included: Mapping[str, Any]
    ) -> Iterator[list[Record]]:
        endpoint: EndpointConfig = self.resource.endpoint
        path_values = dict(values)
        for name, spec in self._resolve.items():
            path_values[name] = values.get(f"resources.{spec.resource}.{spec.field}")
        path = placeholders.render(endpoint.path or self.resource.name, path_values)
        for page in self.client.paginate(
            str(path),
            method=endpoint.method,
            params=placeholders.render(self._params, path_values),
            json=placeholders.render(endpoint.json_body, path_values),
            data=placeholders.render(endpoint.data, path_values),
            headers=placeholders.render(endpoint.headers, path_values),
            paginator=paginator_spec(endpoint.paginator),
            data_selector=endpoint.data_selector,
            auth=self._auth,
            response_actions=[a.model_dump(exclude_none=True) for a in endpoint.response_actions]
            or None,
            max_pages=endpoint.max_pages,
            resource=self.resource.name,
        ):
            self.stats.pages += 1
            records = page.records
            if included:
                records = [_with_parent(r, included) for r in records]
            if self.steps:
                records = self.steps.apply(records)
            yield records


def _with_parent(record: Any, included: Mapping[str, Any]) -> Record:
    if isinstance(record, dict):
        record.update(included)
        return record
    return {"value": record, **included}
