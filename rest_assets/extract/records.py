"""From one resource's config to batches of records: placeholders, parents, pages, steps.

The extractor drives `RestClient.paginate()` once per request context (once, or once per
parent row), adds `include_from_parent` fields, runs processing steps, and hands every
page's records to a sink as one batch, so memory holds at most a few pages at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from rest_assets.config.models import (
    EndpointConfig,
    IncrementalParam,
    PaginatorConfig,
    ResolveParam,
    ResourceConfig,
    ResponseAction,
)
from rest_assets.extract import placeholders
from rest_assets.extract.incremental import legacy_params
from rest_assets.extract.steps import Record, Steps, import_callable
from rest_assets.http.client import RestClient
from rest_assets.http.ordered_pool import ordered_map
from rest_assets.http.sessions import widen_pool

Sink = Callable[[list[Record]], None]

# Records of a Python resource yielded one by one are staged in batches of this size.
PYTHON_BATCH_SIZE = 5_000


@dataclass
class ParentRow:
    """What a child request needs from one parent row: placeholder values and included fields."""

    values: dict[str, Any]
    included: dict[str, Any] = field(default_factory=dict)
    # This parent's own cursor tracker (per-parent incremental cursors): filters its pages
    # and, when `row_order` shows the rest is out of range, stops them.
    tracker: Any = None


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


def response_actions(resource: ResourceConfig) -> list[Any]:
    """Response actions as the client takes them (dicts and bare callables, in order); a
    dotted path (YAML) becomes its callable."""
    out: list[Any] = []
    for i, action in enumerate(resource.endpoint.response_actions):
        where = f"resource {resource.name!r}: endpoint.response_actions[{i}]"
        if isinstance(action, str):
            out.append(import_callable(action, where))
            continue
        if not isinstance(action, ResponseAction):
            out.append(action)  # a bare callable: every response
            continue
        spec = action.model_dump(exclude_none=True)
        todo = spec.get("action")
        if isinstance(todo, str) and todo != "ignore":
            spec["action"] = import_callable(todo, f"{where}.action")
        elif isinstance(todo, list):
            spec["action"] = [
                import_callable(t, f"{where}.action[{j}]")
                if isinstance(t, str) and t != "ignore"
                else t
                for j, t in enumerate(todo)
            ]
        out.append(spec)
    return out


class ResourceExtractor:
    """Extracts one resource. Build it once per run; `run()` may be called once."""

    def __init__(
        self,
        client: RestClient,
        resource: ResourceConfig,
        steps: Steps | None,
        resource_auth: Any = None,
        progress: Callable[[ExtractStats], None] | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.steps = steps
        self.stats = ExtractStats()
        # Called with the running stats after each batch (progress lines on long runs).
        self.progress = progress
        endpoint = resource.endpoint
        self._resolve = {k: v for k, v in endpoint.params.items() if isinstance(v, ResolveParam)}
        # Legacy incremental params (`type: incremental`, `start_param`/`end_param`) become
        # `{incremental.*}` placeholders, filled from the cursor like any other placeholder.
        self._params = {
            k: v
            for k, v in endpoint.params.items()
            if not isinstance(v, ResolveParam | IncrementalParam)
        }
        self._params.update(legacy_params(endpoint))
        self._auth = auth_spec(endpoint.auth) or auth_spec(resource_auth)
        self._actions = response_actions(resource)
        self._stats_lock = threading.Lock()

    def run(
        self,
        sink: Sink,
        parents: Iterable[ParentRow] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> ExtractStats:
        """Fetch every page (for every parent row, when given) and pass batches to `sink`."""
        for batch in self.batches(parents, values):
            sink(batch)
        return self.stats

    def batches(
        self,
        parents: Iterable[ParentRow] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Generator[list[Record], None, None]:
        """The non-empty record batches in order: one per page (per parent row, when given).

        A parallelized resource yields them in parent order too, so its output is the same
        as a sequential run's.
        """
        base_values = dict(values or {})
        source: Iterable[list[Record]]
        if self.resource.records is not None:
            source = self._python_batches()
        elif parents is None:
            source = self._pages(base_values, {})
        elif self.resource.parallelized:
            source = (b for group in self._parallel(parents, base_values) for b in group)
        else:
            source = self._sequential(parents, base_values)
        for batch in source:
            if batch:
                self.stats.records += len(batch)
                if self.progress is not None:
                    self.progress(self.stats)
                yield batch

    def _sequential(
        self, parents: Iterable[ParentRow], base_values: Mapping[str, Any]
    ) -> Iterator[list[Record]]:
        for parent in parents:
            self.stats.parents += 1
            yield from self._parent_pages(parent, base_values)

    def _parent_pages(
        self, parent: ParentRow, base_values: Mapping[str, Any]
    ) -> Iterator[list[Record]]:
        pages = self._pages({**base_values, **parent.values}, parent.included)
        tracker = parent.tracker
        if tracker is None:
            yield from pages
            return
        for batch in pages:
            yield tracker.filter(batch)
            if tracker.exhausted:
                pages.close()  # the rest of this parent's pages are out of range
                return

    def _parallel(
        self, parents: Iterable[ParentRow], base_values: Mapping[str, Any]
    ) -> Iterator[list[list[Record]]]:
        """Fan child requests out over a bounded pool; yield results in parent order.

        At most `2 * concurrency` parents are in flight (`rest_assets.http.ordered_pool`),
        so memory stays bounded however many parents there are. The first failure stops
        the fan-out: requests not started yet are cancelled.
        """
        width = self.resource.concurrency
        widen_pool(self.client.session, width)

        def fetch(parent: ParentRow) -> list[list[Record]]:
            return list(self._parent_pages(parent, base_values))

        def counted() -> Iterator[ParentRow]:
            for parent in parents:
                self.stats.parents += 1
                yield parent

        with closing(ordered_map(fetch, counted(), width)) as results:
            yield from results

    def _python_batches(self) -> Iterator[list[Record]]:
        """Records of a Python resource: a yielded list is one batch, single records are
        grouped; processing steps apply as for pages."""
        records = self.resource.records
        if isinstance(records, str):
            records = import_callable(records, f"resource {self.resource.name!r}: records")
        produced = records() if callable(records) else records
        if produced is None:
            return
        if isinstance(produced, Mapping):
            produced = [produced]
        pending: list[Record] = []
        for item in produced:
            if isinstance(item, list | tuple):
                if pending:
                    yield self._python_batch(pending)
                    pending = []
                yield self._python_batch(list(item))
            else:
                pending.append(item)
                if len(pending) >= PYTHON_BATCH_SIZE:
                    yield self._python_batch(pending)
                    pending = []
        if pending:
            yield self._python_batch(pending)

    def _python_batch(self, items: list[Any]) -> list[Record]:
        self._count_page()
        batch = [r if isinstance(r, dict) else {"value": r} for r in items]
        return self.steps.apply(batch) if self.steps else batch

    def _count_page(self) -> None:
        with self._stats_lock:  # pages are counted from worker threads when parallelized
            self.stats.pages += 1

    def _pages(
        self, values: Mapping[str, Any], included: Mapping[str, Any]
    ) -> Generator[list[Record], None, None]:
        endpoint: EndpointConfig = self.resource.endpoint
        path_values = dict(values)
        for name, spec in self._resolve.items():
            path_values[name] = values.get(f"resources.{spec.resource}.{spec.field}")
        # `path: ""` is the base URL itself (as in dlt); only a missing path is the name
        path = placeholders.render_path(
            endpoint.path if endpoint.path is not None else self.resource.name,
            path_values,
            where=f"resource {self.resource.name!r}: endpoint.path",
        )
        for page in self.client.paginate(
            path.path,
            method=endpoint.method,
            params=placeholders.render(self._params, path_values),
            json=placeholders.render(endpoint.json_body, path_values),
            data=placeholders.render(endpoint.data, path_values),
            headers=_header_values(placeholders.render(endpoint.headers, path_values)),
            paginator=paginator_spec(endpoint.paginator),
            data_selector=endpoint.data_selector,
            auth=self._auth,
            response_actions=self._actions or None,
            max_pages=endpoint.max_pages,
            resource=self.resource.name,
            page_concurrency=endpoint.page_concurrency,
            max_empty_pages=endpoint.max_empty_pages,
            trust_path_origin=path.trusted,
        ):
            self._count_page()
            records = page.records
            if included:
                records = [_with_parent(r, included) for r in records]
            if self.steps:
                records = self.steps.apply(records)
            yield records


def _header_values(headers: Mapping[str, Any] | None) -> dict[str, str] | None:
    # A header that is exactly one placeholder takes the parent value's type (an int id).
    if not headers:
        return None
    return {k: v if isinstance(v, str) else str(v) for k, v in headers.items() if v is not None}


def _with_parent(record: Any, included: Mapping[str, Any]) -> Record:
    if isinstance(record, dict):
        record.update(included)
        return record
    return {"value": record, **included}
