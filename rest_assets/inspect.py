"""Look at a live endpoint and suggest how to configure it.

`inspect_endpoint(url)` fetches the first pages through `RestClient` (so retries, redaction
and the origin rules for credentials all apply) and suggests a `data_selector`, a paginator,
a primary key and an incremental cursor field, with the fields it saw. Detection of the
records path and of the paginator is the HTTP engine's own (`detect_records_path`,
`detect_paginator`): what `inspect` suggests is what an `auto` config would do at run time,
made explicit and checked against a second page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from rest_assets.config.names import name_from_path
from rest_assets.errors import PaginationLoopError, RestAssetsError
from rest_assets.http.client import RestClient
from rest_assets.http.detector import detect_paginator
from rest_assets.http.paginators import BasePaginator, create_paginator
from rest_assets.http.redact import redact_url
from rest_assets.http.request import Page
from rest_assets.http.selectors import DataSelector, detect_records_path

__all__ = ["FieldInfo", "Suggestion", "inspect_endpoint", "paginator_spec"]

# Plausible epoch values: seconds or milliseconds between 2001 and 2286.
_EPOCH_SECONDS = (1_000_000_000, 10_000_000_000)
_EPOCH_MILLIS = (1_000_000_000_000, 10_000_000_000_000)
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_ID_LIKE = re.compile(r"(?:^|_)(?:id|uuid|guid|key)$|[a-z0-9](?:Id|ID|Uuid|Key)$")
_TIME_LIKE = re.compile(r"(?:_at|_on|_time|_ts|timestamp|date|time)$", re.IGNORECASE)
# Keys that hint at pagination when the engine found none: worth a warning.
_PAGING_HINTS = (
    "next",
    "next_page",
    "page",
    "total_pages",
    "totalPages",
    "has_more",
    "cursor",
    "next_cursor",
    "offset",
    "total",
)


@dataclass
class FieldInfo:
    """One field seen in the sampled records.

    `types` are inferred JSON types (integer, number, string, boolean, timestamp, date,
    object, array, array<object>); `present` counts the records that have the field and
    `nullable` says whether it was missing or null in any of them.
    """

    name: str
    types: list[str]
    present: int
    nullable: bool
    children: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    """What `inspect_endpoint` saw and what it suggests for the resource config.

    `url` is redacted. `paginator` is a spec dict as the config takes it;
    `paginator_confirmed` is True when a second page was fetched and brought new records,
    False when the paginator failed to advance, None when there was nothing to follow.
    """

    url: str
    status: int
    data_selector: str | None
    paginator: dict[str, Any]
    paginator_description: str
    paginator_confirmed: bool | None
    more_pages: bool
    pages_fetched: int
    records_sampled: int
    primary_key: str | None
    cursor_field: str | None
    cursor_kind: str | None
    fields: list[FieldInfo]
    nested_objects: list[str]
    lists: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    name: str = "resource"
    source_url: str = ""

    def to_resource(
        self,
        name: str | None = None,
        *,
        path: str | None = None,
        incremental: bool = False,
        write_disposition: str | None = None,
        primary_key: str | bool | None = True,
        include_paginator: bool = True,
    ) -> dict[str, Any]:
        """The resource as a `sources.yml` mapping.

        `path` defaults to the URL as given to `inspect_endpoint` (a full URL is a valid
        endpoint path).
        `incremental=True` adds `endpoint.incremental` on the suggested cursor field (and
        makes the default write disposition merge, or append without a primary key).
        `primary_key=True` uses the suggestion, a string overrides it, None/False omits it.
        """
        key = self.primary_key if primary_key is True else (primary_key or None)
        endpoint: dict[str, Any] = {"path": path if path is not None else self.source_url}
        if self.params:
            endpoint["params"] = dict(self.params)
        if include_paginator:
            endpoint["paginator"] = dict(self.paginator)
        if self.data_selector is not None:
            endpoint["data_selector"] = self.data_selector
        if incremental:
            if self.cursor_field is None:
                raise ValueError(
                    "no incremental cursor field was found in the sampled records; "
                    "configure endpoint.incremental by hand"
                )
            endpoint["incremental"] = {"cursor_path": self.cursor_field}
        resource: dict[str, Any] = {"name": name or self.name, "endpoint": endpoint}
        if key:
            resource["primary_key"] = key
        disposition = write_disposition
        if disposition is None and incremental:
            disposition = "merge" if key else "append"
        if disposition == "merge" and not key:
            raise ValueError("write_disposition merge needs a primary key; none was found")
        if disposition is not None:
            resource["write_disposition"] = disposition
        return resource

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of everything (for `rest-assets inspect --json`)."""
        return asdict(self)

    def report(self) -> str:
        """A readable multi-line report (the URL is redacted)."""
        lines = [
            f"GET {self.url}",
            f"  status {self.status}; {self.records_sampled} record(s) sampled from "
            f"{self.pages_fetched} page(s)"
            + (" (more pages available)" if self.more_pages else ""),
            "",
            "suggestions:",
            "  data_selector : " + (self.data_selector or "(none: the body is a list of records)"),
            f"  paginator     : {self.paginator_description}  [{self._confirmation()}]",
            f"  primary_key   : {self.primary_key or '(none found)'}",
            "  incremental   : "
            + (
                f"{self.cursor_field} ({self.cursor_kind})"
                if self.cursor_field
                else "(no updated_at-like cursor found)"
            ),
        ]
        if self.fields:
            width = max(len(f.name) for f in self.fields)
            lines += ["", f"fields ({len(self.fields)}):"]
            for info in self.fields:
                kind = "|".join(info.types)
                extra = "  nullable" if info.nullable else ""
                if info.children:
                    extra += "  {" + ", ".join(info.children[:8])
                    extra += ", ...}" if len(info.children) > 8 else "}"
                lines.append(f"  {info.name:<{width}}  {kind}{extra}")
        if self.nested_objects:
            lines.append(
                "nested objects (become parent__child columns): " + ", ".join(self.nested_objects)
            )
        if self.lists:
            lines.append("lists: " + ", ".join(self.lists))
        if self.notes:
            lines += ["", "notes:"] + [f"  - {note}" for note in self.notes]
        return "\n".join(lines)

    def _confirmation(self) -> str:
        if self.paginator_confirmed is True:
            return "confirmed: page 2 brought new records"
        if self.paginator_confirmed is False:
            return "NOT confirmed: see notes"
        if self.paginator.get("type") == "single_page":
            return "one page"
        return "only one page to look at"


def inspect_endpoint(  # noqa: PLR0913 - the inspect command's options, by keyword
    url: str,
    *,
    auth: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    data_selector: str | None = None,
    pages: int = 2,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Suggestion:
    """Fetch the first `pages` pages of `url` and suggest how to configure it.

    `auth` is a spec dict as the config takes it (`{type: bearer, token: "${VAR}"}`);
    `headers` and `params` may hold `${VAR}` too. `data_selector` overrides the detected
    records path. `name` (default: the last path segment) helps rank `<name>_id` as the
    primary key. Errors are RestAssetsError subclasses whose messages hold no secrets.
    """
    if pages < 1:
        raise ValueError("pages must be at least 1")
    resource = name or name_from_path(urlsplit(url).path)
    client = RestClient(
        url, headers=headers, auth=auth, env=env, timeout=timeout, retry={"max_attempts": 3}
    )
    notes: list[str] = []
    with client:
        fetched = _fetch(client, params, data_selector, pages, resource, notes)
        if not fetched:
            raise RestAssetsError(f"{redact_url(url)}: no page was returned")
        first_page, first_body = fetched[0]
        shown_url = client.redact(redact_url(first_page.response.url or url))

        selector_path = data_selector or detect_records_path(first_body)
        selector = DataSelector(selector_path)
        pager = detect_paginator(first_page.response, first_body, selector.select(first_body))
        spec, description = paginator_spec(pager)
        more = _replay(pager, fetched, selector)
    if selector_path == "$" and isinstance(first_body, list):
        suggested_selector: str | None = None
    else:
        suggested_selector = selector_path

    records = [r for page, _ in fetched for r in page.records]
    dicts = [r for r in records if isinstance(r, dict)]
    fields = _fields(dicts)
    first_dicts = [r for r in first_page.records if isinstance(r, dict)]
    confirmed = _confirm(fetched, _primary_key(first_dicts, resource), notes)
    if confirmed is False:
        # Repeated pages would make every key look duplicated: judge by page one alone.
        dicts = first_dicts
    primary_key = _primary_key(dicts, resource)
    cursor_field, cursor_kind = _cursor(dicts)
    if spec.get("type") == "single_page":
        notes += _paging_hints(first_body)
    notes += _sample_notes(records, dicts, primary_key)
    if suggested_selector == "$" and isinstance(first_body, dict):
        notes.append("the body is a single object: it loads as one row")
    return Suggestion(
        url=shown_url,
        status=first_page.response.status_code,
        data_selector=suggested_selector,
        paginator=spec,
        paginator_description=description,
        paginator_confirmed=confirmed,
        more_pages=more,
        pages_fetched=len(fetched),
        records_sampled=len(records),
        primary_key=primary_key,
        cursor_field=cursor_field,
        cursor_kind=cursor_kind,
        fields=fields,
        nested_objects=[f.name for f in fields if "object" in f.types],
        lists=_lists(fields, resource),
        params=dict(params or {}),
        notes=notes,
        name=resource,
        source_url=url,
    )


def _fetch(
    client: RestClient,
    params: Mapping[str, Any] | None,
    data_selector: str | None,
    pages: int,
    resource: str,
    notes: list[str],
) -> list[tuple[Page, Any]]:
    """The first `pages` pages with their parsed bodies; a paginator loop becomes a note."""
    fetched: list[tuple[Page, Any]] = []
    try:
        for page in client.paginate(
            "", params=params, data_selector=data_selector, max_pages=pages, resource=resource
        ):
            fetched.append((page, _body(page)))
    except PaginationLoopError as exc:
        notes.append(f"the detected paginator went in circles: {exc}")
    return fetched


def _paging_hints(first_body: Any) -> list[str]:
    hints = [k for k in _PAGING_HINTS if isinstance(first_body, dict) and k in first_body]
    if not hints:
        return []
    return [
        f"no paginator was detected but the body has {', '.join(hints)}: if the "
        "endpoint is paginated, set endpoint.paginator explicitly"
    ]


def _sample_notes(records: list[Any], dicts: list[Any], primary_key: str | None) -> list[str]:
    notes: list[str] = []
    if not records:
        notes.append("the first page has no records: no primary key or cursor can be suggested")
    elif len(dicts) < len(records):
        notes.append("some records are not objects; each becomes a single `value` column")
    if records and primary_key is None:
        notes.append("no field is unique and non-null across the sample: no primary key")
    return notes


def _lists(fields: list[FieldInfo], resource: str) -> list[str]:
    return [
        f"{f.name} (list of objects: child table {resource}__{f.name})"
        if "array<object>" in f.types
        else f"{f.name} (list of values)"
        for f in fields
        if any(t.startswith("array") for t in f.types)
    ]


def paginator_spec(pager: BasePaginator) -> tuple[dict[str, Any], str]:
    """A paginator instance as a config spec dict (`to_config()`), plus its description.

    Parameters at their defaults are left out. The spec is checked by building it again
    with `create_paginator`: anything that does not round-trip (a custom paginator without
    `to_config`, or a subclass the registry builds as its parent) falls back to
    `{"type": "auto"}`.
    """
    description = pager.describe()
    try:
        spec = pager.to_config()
        rebuilt = create_paginator(dict(spec))
    except (NotImplementedError, ValueError, TypeError):
        return {"type": "auto"}, description
    if rebuilt is None or type(rebuilt) is not type(pager) or rebuilt.to_config() != spec:
        return {"type": "auto"}, description
    return spec, description


def _body(page: Page) -> Any:
    content = page.response.content
    return orjson.loads(content) if content and content.strip() else None


def _replay(pager: BasePaginator, fetched: list[tuple[Page, Any]], selector: DataSelector) -> bool:
    """Drive the detected paginator over the fetched pages; True if it wants another one."""
    try:
        for page, body in fetched:
            pager.update_state(page.response, body, selector.select(body))
            if not pager.has_next_page:
                return False
    except PaginationLoopError:
        return False
    return bool(pager.has_next_page)


def _confirm(fetched: list[tuple[Page, Any]], key: str | None, notes: list[str]) -> bool | None:
    """Whether page 2 really moved on from page 1 (None when there was no page 2)."""
    if len(fetched) < 2:
        return None
    first, second = fetched[0][0].records, fetched[1][0].records
    if not second:
        notes.append("page 2 was empty: the paginator advanced and found the end")
        return True
    if key is not None:
        seen = {_hashable(r.get(key)) for r in first if isinstance(r, dict)}
        again = [r for r in second if isinstance(r, dict) and _hashable(r.get(key)) in seen]
        if len(again) == len(second):
            notes.append(
                f"page 2 repeated the {key} values of page 1: the API may ignore the paginator's "
                "parameter; check its docs and set endpoint.paginator by hand"
            )
            return False
        return True
    if orjson.dumps(first) == orjson.dumps(second):
        notes.append("page 2 was identical to page 1: the paginator does not advance")
        return False
    return True


def _hashable(value: Any) -> Any:
    return orjson.dumps(value) if isinstance(value, dict | list) else value


# --- fields ---------------------------------------------------------------------------------


def _timestamp_kind(value: Any) -> str | None:
    """Kind: "timestamp", "date" or "epoch" if `value` looks like a point in time, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        low, high = _EPOCH_SECONDS
        mlow, mhigh = _EPOCH_MILLIS
        return "epoch" if low <= value < high or mlow <= value < mhigh else None
    if isinstance(value, str) and _ISO.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return "date" if parsed and len(value) == 10 else "timestamp"
    return None


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        kind = _timestamp_kind(value)
        return kind if kind in ("timestamp", "date") else "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array<object>" if value and all(isinstance(v, dict) for v in value) else "array"
    return type(value).__name__


def _fields(records: list[dict[str, Any]]) -> list[FieldInfo]:
    order: dict[str, FieldInfo] = {}
    for record in records:
        for key, value in record.items():
            info = order.get(key)
            if info is None:
                info = order[key] = FieldInfo(name=key, types=[], present=0, nullable=False)
            _observe(info, value)
    for info in order.values():
        _settle(info, len(records))
    return list(order.values())


def _observe(info: FieldInfo, value: Any) -> None:
    """Count one record's value of the field."""
    info.present += 1
    kind = _type_of(value)
    if kind == "null":
        info.nullable = True
    elif kind not in info.types:
        info.types.append(kind)
    if isinstance(value, dict):
        info.children += [k for k in value if k not in info.children]


def _settle(info: FieldInfo, sampled: int) -> None:
    """Conclude on a field once every sampled record was seen."""
    if "array<object>" in info.types and "array" in info.types:
        info.types.remove("array")  # empty lists say nothing about the element type
    if info.present < sampled:
        info.nullable = True
    if not info.types:
        info.types = ["null"]


def _primary_key(records: list[dict[str, Any]], name: str) -> str | None:
    """A field unique and non-null in every sampled record, id-like names only, best first."""
    if not records:
        return None
    singular = _singular(name)
    preferred = ["id", f"{name}_id", f"{singular}_id", f"{singular}Id", "uuid", "guid", "key"]

    def rank(key: str) -> tuple[int, int]:
        lowered = key.lower()
        for index, candidate in enumerate(preferred):
            if lowered == candidate.lower():
                return (0, index)
        return (1, 0)

    candidates = sorted((k for k in records[0] if rank(k)[0] == 0 or _ID_LIKE.search(k)), key=rank)
    for key in candidates:
        values = [r.get(key) for r in records]
        if any(v is None or isinstance(v, dict | list | bool | float) for v in values):
            continue
        if len(set(values)) == len(values):
            return key
    return None


def _singular(name: str) -> str:
    if name.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _cursor_rank(path: str) -> int | None:
    leaf = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", path.rsplit(".", 1)[-1]).lower()
    if "updated" in leaf:
        return 0
    if "modified" in leaf or "changed" in leaf or "edited" in leaf:
        return 1
    if "created" in leaf or "inserted" in leaf:
        return 2
    if _TIME_LIKE.search(leaf):
        return 3
    return None


def _cursor(records: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The best updated_at-like field whose values are all timestamps, and their kind."""
    best: tuple[tuple[int, int, int], str, str] | None = None
    for position, path in enumerate(_field_paths(records)):
        rank = _cursor_rank(path)
        if rank is None:
            continue
        kinds = {_timestamp_kind(_get(record, path)) for record in records}
        if None in kinds or len(kinds) != 1:
            continue
        order = (rank, path.count("."), position)
        if best is None or order < best[0]:
            best = (order, path, kinds.pop() or "")
    if best is None:
        return None, None
    labels = {"timestamp": "ISO timestamps", "date": "ISO dates", "epoch": "epoch numbers"}
    return best[1], labels.get(best[2], best[2])


def _field_paths(records: list[dict[str, Any]]) -> list[str]:
    """Every top-level key and `key.child` of nested objects, in order of first sight."""
    paths: list[str] = []
    for record in records:
        for key, value in record.items():
            if key not in paths:
                paths.append(key)
            if isinstance(value, dict):
                paths += [f"{key}.{k}" for k in value if f"{key}.{k}" not in paths]
    return paths


def _get(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
