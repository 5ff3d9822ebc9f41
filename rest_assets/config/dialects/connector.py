"""The read/write REST connector's files: `MODEL`, `VERSION`, `CONFIG: {inputs, outputs}`.

A connector file is one source. Its name is the file's stem (`customers.yml` -> `customers`),
else `MODEL`, else `connector`; `sources.yml` names nothing, so there `MODEL` wins.

- `CONFIG.inputs.<name>` (`format: rest_api`) is a resource: `url` is its endpoint (the whole
  URL), `method`, `headers`, `params` as given; `auth` bearer / api_key (`header` or `param`,
  plus `key`) / basic; `pagination` offset (`offset` and `limit=<page_size>` query
  parameters, until a page holds fewer than `page_size` records, at most `max_pages`
  pages), cursor (the body's `cursor_field` sent back as `cursor`, `limit=<page_size>`,
  until the cursor is absent or null), next_link (the body's `link_field` followed until
  absent or null), absent: one request; `response.root_key` the key holding the records
  (absent: the whole body is the record or the list of records); `schema` the declared
  column types (absent: inferred from the data).
- `CONFIG.outputs.<name>` (`format: rest_api`) is an output: the rows of the input (the
  only one, or the one `from:` names) sent to `url` in batches of `batch_size`.
- `rate_limit` of every entry applies to the whole file (one limiter and one retry policy per
  source): the lowest `requests_per_second` wins; different retry settings are an error.
- `transform: {type: noop}`, `MODEL` and `VERSION` are accepted. An entry whose `format` is
  not `rest_api` (e.g. `delta`) is skipped with a warning naming its path; the rest loads.
- Values are Jinja templates (rest_assets.config.templates): `{{ env.NAME }}` is `${NAME}`,
  `{{ dt }}` the run's date.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rest_assets.config.models import NAME_PATTERN
from rest_assets.config.templates import Conversion, convert
from rest_assets.config.validation import validate_model
from rest_assets.errors import ConfigError

TOP_KEYS = ("MODEL", "VERSION", "CONFIG")
CONFIG_KEYS = ("inputs", "outputs", "transform")
FORMAT = "rest_api"
# The default config file's stem names nothing; a file named so takes MODEL's name.
GENERIC_STEMS = {"sources"}
DEFAULT_NAME = "connector"
# Query parameters of the offset and cursor strategies (the spec leaves them unnamed).
OFFSET_PARAM, LIMIT_PARAM, CURSOR_PARAM = "offset", "limit", "cursor"

ColumnType = Literal[
    "string", "integer", "long", "float", "double", "boolean", "timestamp", "date", "binary"
]


class _Strict(BaseModel):
    """Unknown keys are errors, as everywhere in the config."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConnectorAuth(_Strict):
    """`bearer` (`token`), `api_key` (`key` and `header` or `param`), `basic`
    (`username`, `password`)."""

    type: Literal["bearer", "api_key", "basic"] = Field(description="bearer, api_key or basic.")
    token: str | None = Field(default=None, description="bearer: the token.")
    header: str | None = Field(default=None, description="api_key: the header carrying it.")
    param: str | None = Field(default=None, description="api_key: the query parameter.")
    key: str | None = Field(default=None, description="api_key: the key.")
    username: str | None = Field(default=None, description="basic: the user name.")
    password: str | None = Field(default=None, description="basic: the password.")

    @model_validator(mode="after")
    def _fields_of_type(self) -> ConnectorAuth:
        takes = {
            "bearer": ("token",),
            "api_key": ("key", "header", "param"),
            "basic": ("username", "password"),
        }[self.type]
        given = [k for k in _AUTH_FIELDS if getattr(self, k) is not None]
        foreign = [k for k in given if k not in takes]
        if foreign:
            raise ValueError(
                f"{', '.join(foreign)} does not apply to type {self.type}, which takes "
                f"{', '.join(takes)}; remove it"
            )
        if self.type == "bearer" and self.token is None:
            raise ValueError('type bearer needs token, e.g. token: "{{ env.API_TOKEN }}"')
        if self.type == "basic" and (self.username is None or self.password is None):
            raise ValueError("type basic needs username and password")
        if self.type == "api_key":
            if self.key is None:
                raise ValueError('type api_key needs key, e.g. key: "{{ env.API_KEY }}"')
            if (self.header is None) == (self.param is None):
                raise ValueError(
                    "type api_key needs either header (e.g. header: X-Api-Key) or param "
                    "(e.g. param: api_key), one of the two"
                )
        return self


_AUTH_FIELDS = ("token", "header", "param", "key", "username", "password")


class ConnectorPagination(_Strict):
    """`offset` (`page_size`, `max_pages`), `cursor` (`cursor_field`, `page_size`),
    `next_link` (`link_field`)."""

    type: Literal["offset", "cursor", "next_link"] = Field(
        description="offset, cursor or next_link; without pagination, one request."
    )
    page_size: int | None = Field(
        default=None, gt=0, description="Records per page, sent as `limit`."
    )
    max_pages: int | None = Field(default=None, gt=0, description="At most this many pages.")
    cursor_field: str | None = Field(
        default=None, description="cursor: the response key holding the next cursor."
    )
    link_field: str | None = Field(
        default=None, description="next_link: the response key holding the next URL."
    )

    @model_validator(mode="after")
    def _fields_of_type(self) -> ConnectorPagination:
        # a key of another type first: it tells which type was meant
        if self.type != "cursor" and self.cursor_field is not None:
            raise ValueError(f"cursor_field applies to type cursor, not {self.type}; remove it")
        if self.type != "next_link" and self.link_field is not None:
            raise ValueError(f"link_field applies to type next_link, not {self.type}; remove it")
        if self.type == "next_link" and self.page_size is not None:
            raise ValueError("page_size does not apply to type next_link; remove it")
        if self.type == "offset" and self.page_size is None:
            raise ValueError("type offset needs page_size, e.g. page_size: 100")
        if self.type == "cursor" and self.cursor_field is None:
            raise ValueError("type cursor needs cursor_field, e.g. cursor_field: next_cursor")
        if self.type == "next_link" and self.link_field is None:
            raise ValueError("type next_link needs link_field, e.g. link_field: next")
        return self


class ConnectorResponse(_Strict):
    """Where the records are in a response."""

    root_key: str | None = Field(
        default=None,
        description="The key holding the records; absent: the whole body is the record "
        "or the list of records.",
    )


class ConnectorRateLimit(_Strict):
    """Throttling and retries; one limiter and retry policy serve the whole file."""

    requests_per_second: float | None = Field(
        default=None, gt=0, description="Requests per second across the file's entries."
    )
    retry_on: list[int] | None = Field(default=None, description="Statuses retried.")
    max_retries: int | None = Field(default=None, ge=0, description="Retries per request.")


class ConnectorColumn(_Strict):
    """One declared column."""

    name: str = Field(description="Column name.")
    type: ColumnType = Field(
        description="string, integer, long, float, double, boolean, timestamp, date or binary."
    )


_MOVED_KEYS = {
    "root_key": "response.root_key",
    "page_size": "pagination.page_size",
    "max_pages": "pagination.max_pages",
    "cursor_field": "pagination.cursor_field",
    "link_field": "pagination.link_field",
    "token": "auth.token",
    "requests_per_second": "rate_limit.requests_per_second",
    "retry_on": "rate_limit.retry_on",
    "max_retries": "rate_limit.max_retries",
}


class ConnectorInput(_Strict):
    """`CONFIG.inputs.<name>`: one read, an asset `<source>/<name>` landing in DuckDB."""

    # keys written one level too high, and where they belong (error hints)
    moved_keys: ClassVar[dict[str, str]] = _MOVED_KEYS

    format: Literal["rest_api"] = Field(description="rest_api (other formats are skipped).")
    url: str = Field(description="The endpoint's full URL.")
    method: Literal["GET", "POST"] = Field(default="GET", description="GET or POST.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")
    params: dict[str, Any] = Field(default_factory=dict, description="Query parameters.")
    auth: ConnectorAuth | None = Field(default=None, description="Authentication.")
    pagination: ConnectorPagination | None = Field(
        default=None, description="Pagination; absent: one request."
    )
    response: ConnectorResponse | None = Field(default=None, description="`root_key`.")
    rate_limit: ConnectorRateLimit | None = Field(default=None, description="Rate limit.")
    schema_: list[ConnectorColumn] | None = Field(
        default=None, alias="schema", description="Declared column types; else inferred."
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ConnectorOutput(_Strict):
    """`CONFIG.outputs.<name>`: the rows of an input sent to an API in batches."""

    moved_keys: ClassVar[dict[str, str]] = _MOVED_KEYS

    format: Literal["rest_api"] = Field(description="rest_api (other formats are skipped).")
    url: str = Field(description="The endpoint's full URL.")
    method: Literal["POST", "PUT", "PATCH"] = Field(default="POST", description="HTTP method.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")
    auth: ConnectorAuth | None = Field(default=None, description="Authentication.")
    batch_size: int = Field(default=100, ge=1, le=100_000, description="Records per request.")
    rate_limit: ConnectorRateLimit | None = Field(default=None, description="Rate limit.")
    from_: str | None = Field(
        default=None,
        alias="from",
        description="The input to send (needed when the file has several), or an asset "
        "`source/resource` or a DuckDB table `schema.table`.",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ConnectorTransform(BaseModel):
    """`transform`: only `noop` is something rest-assets does (rows are sent as read)."""

    type: str = Field(description="noop.")

    model_config = ConfigDict(extra="allow")


class ConnectorSection(_Strict):
    """`CONFIG`: inputs, outputs and the transform between them."""

    inputs: dict[str, ConnectorInput] = Field(default_factory=dict, description="Reads.")
    outputs: dict[str, ConnectorOutput] = Field(default_factory=dict, description="Writes.")
    transform: ConnectorTransform | None = Field(default=None, description="noop.")


class ConnectorFile(_Strict):
    """A read/write REST connector file."""

    MODEL: str | None = Field(
        default=None,
        description="Names the source when the file name does not (a file called sources.yml).",
    )
    VERSION: str | None = Field(default=None, description="Free-form; not interpreted.")
    CONFIG: ConnectorSection = Field(description="The inputs and outputs.")

    @field_validator("MODEL", "VERSION", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # VERSION: 1.0 is a version, not a number
        return value


@dataclass
class ConnectorSource:
    """A connector file translated: the source (dlt's shape) and what `validate` says of it."""

    source: dict[str, Any]
    version: str | None
    name_origin: str
    entries: dict[str, str] = field(default_factory=dict)  # resource/output -> its path
    skipped: list[str] = field(default_factory=list)  # warnings: entries not loaded
    notes: list[str] = field(default_factory=list)
    skipped_inputs: set[str] = field(default_factory=set)  # names of inputs not loaded


def is_connector(raw: Mapping[str, Any]) -> bool:
    """A connector file has a top-level `CONFIG`."""
    return "CONFIG" in raw


def from_connector(raw: Mapping[str, Any], origin: str, stem: str | None) -> ConnectorSource:
    """Translate a connector file into one source in dlt's shape (a ConfigError on mistakes)."""
    _check_keys(raw, TOP_KEYS, "(top level)", origin)
    section = raw.get("CONFIG")
    if not isinstance(section, Mapping):
        raise ConfigError(f"{origin}: CONFIG must be a mapping with inputs and/or outputs")
    _check_keys(section, CONFIG_KEYS, "CONFIG", origin)
    skipped: list[str] = []
    skipped_inputs: set[str] = set()
    kept: dict[str, Any] = {}
    for kind in ("inputs", "outputs"):
        entries = section.get(kind) or {}
        if not isinstance(entries, Mapping):
            raise ConfigError(f"{origin}: CONFIG.{kind} must be a mapping of names to entries")
        kept[kind] = {}
        for name, entry in entries.items():
            where = f"CONFIG.{kind}.{name}"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{origin}: {where} must be a mapping with format and url")
            fmt = entry.get("format")
            if fmt is None:
                raise ConfigError(f"{origin}: {where}.format is missing; add format: rest_api")
            if fmt != FORMAT:
                skipped.append(
                    f"{where}: format {fmt!r} is not something rest-assets does (it reads REST "
                    "APIs into DuckDB and sends DuckDB rows to REST APIs); this entry is "
                    "skipped, the rest of the file loads"
                )
                if kind == "inputs":
                    skipped_inputs.add(str(name))
                continue
            kept[kind][name] = entry
    filtered = {**raw, "CONFIG": {**section, **kept}}
    model: ConnectorFile = validate_model(ConnectorFile, filtered, origin)
    name, name_origin = source_name(model.MODEL, stem)
    result = ConnectorSource(
        {}, model.VERSION, name_origin, skipped=skipped, skipped_inputs=skipped_inputs
    )
    result.source = _Translation(model, name, origin, result).source()
    return result


def source_name(model: str | None, stem: str | None) -> tuple[str, str]:
    """The source's name and where it comes from (said by `validate`)."""
    if stem and stem not in GENERIC_STEMS:
        return _identifier(stem), f"the file name {stem!r}"
    if model:
        return _identifier(model), f"MODEL {model!r}"
    if stem:
        return _identifier(stem), f"the file name {stem!r}"
    return DEFAULT_NAME, "a default: the config has no file name and no MODEL"


def _identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text.strip()) or DEFAULT_NAME
    return f"_{name}" if name[0].isdigit() else name


def _check_keys(raw: Mapping[str, Any], accepted: tuple[str, ...], where: str, origin: str) -> None:
    for key in raw:
        if key in accepted:
            continue
        close = difflib.get_close_matches(str(key), accepted, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"accepted here: {', '.join(accepted)}"
        place = "at the top of a connector file" if where == "(top level)" else f"in {where}"
        raise ConfigError(f"{origin}: unknown key {key!r} {place}; {hint}")


def key_path(key: str) -> str:
    """A response key as a path the data selector reads: one key, dots and all."""
    if NAME_PATTERN.match(key):
        return key
    if "'" in key:
        raise ValueError(f"a response key with a quote ({key!r}) is not supported")
    return f"$['{key}']"


class _Translation:
    """One connector file -> one source dict; collects notes on the way."""

    def __init__(
        self, model: ConnectorFile, name: str, origin: str, result: ConnectorSource
    ) -> None:
        self.model = model
        self.name = name
        self.origin = origin
        self.result = result
        self.found = Conversion()

    def source(self) -> dict[str, Any]:
        section = self.model.CONFIG
        inputs, outputs = section.inputs, section.outputs
        if not inputs and not outputs:
            raise ConfigError(
                f"{self.origin}: CONFIG has no entry with format: rest_api, so there is nothing "
                "for rest-assets to load or send"
            )
        for name in set(inputs) & set(outputs):
            raise ConfigError(
                f"{self.origin}: CONFIG.outputs.{name}: an input has the same name; inputs and "
                "outputs share the asset names <source>/<name>, so rename one"
            )
        self._transform(section.transform, bool(outputs))
        entries: list[tuple[str, ConnectorInput | ConnectorOutput]] = [
            *((f"CONFIG.inputs.{n}", e) for n, e in inputs.items()),
            *((f"CONFIG.outputs.{n}", e) for n, e in outputs.items()),
        ]
        auths = {where: self._auth(entry.auth, where) for where, entry in entries}
        client_auth = self._client_auth(auths)
        if inputs:
            name, entry = next(iter(inputs.items()))
            base_url = self._origin_of(entry.url, f"CONFIG.inputs.{name}", placeholders=True)
        else:
            name, output = next(iter(outputs.items()))
            base_url = self._origin_of(output.url, f"CONFIG.outputs.{name}", placeholders=False)
        client: dict[str, Any] = {"base_url": base_url}
        if client_auth is not None:
            client["auth"] = client_auth
        rate_limit = self._rate_limit(
            {f"CONFIG.inputs.{n}": e.rate_limit for n, e in inputs.items()}
            | {f"CONFIG.outputs.{n}": e.rate_limit for n, e in outputs.items()}
        )
        if rate_limit:
            client["rate_limit"] = rate_limit
        resources = []
        for name, entry in inputs.items():
            where = f"CONFIG.inputs.{name}"
            resource = self._resource(name, entry, where)
            auth = auths[where]
            if auth != client_auth:
                resource["auth"] = auth or {"type": "none"}
            resources.append(resource)
            self.result.entries[name] = where
        sent = [self._output(name, entry, list(inputs)) for name, entry in outputs.items()]
        for name in outputs:
            self.result.entries[name] = f"CONFIG.outputs.{name}"
        self.result.notes = list(dict.fromkeys([*self.result.notes, *self.found.notes]))
        described = [p for p in (self.model.MODEL, self.model.VERSION) if p]
        description = "Read/write REST connector file" + (
            f" ({' '.join(described)})" if described else ""
        )
        return {
            "name": self.name,
            "description": description,
            "client": client,
            "resources": resources,
            "outputs": sent,
        }

    # --- entries ------------------------------------------------------------------------

    def _resource(self, name: str, entry: ConnectorInput, where: str) -> dict[str, Any]:
        endpoint: dict[str, Any] = {
            "path": self._convert(entry.url, f"{where}.url", placeholders=True),
            "method": entry.method,
            "params": self._convert(entry.params, f"{where}.params", placeholders=True),
            "headers": self._convert(entry.headers, f"{where}.headers", placeholders=True),
            "data_selector": self._selector(entry.response, where),
        }
        endpoint.update(self._paginator(entry.pagination, endpoint["params"], where))
        resource: dict[str, Any] = {"name": name, "endpoint": endpoint}
        if entry.schema_:
            resource["columns"] = {c.name: {"data_type": c.type} for c in entry.schema_}
        return resource

    def _paginator(
        self, pagination: ConnectorPagination | None, params: dict[str, Any], where: str
    ) -> dict[str, Any]:
        if pagination is None:
            return {"paginator": {"type": "single_page"}}
        out: dict[str, Any] = {}
        if pagination.max_pages is not None:
            out["max_pages"] = pagination.max_pages
        if pagination.type == "offset":
            # an empty total_path: no total is read, a short page is the last one
            out["paginator"] = {
                "type": "offset",
                "limit": pagination.page_size,
                "offset_param": OFFSET_PARAM,
                "limit_param": LIMIT_PARAM,
                "total_path": "",
            }
        elif pagination.type == "cursor":
            out["paginator"] = {
                "type": "cursor",
                "cursor_path": self._key(pagination.cursor_field or "", f"{where}.pagination"),
                "cursor_param": CURSOR_PARAM,
            }
            if pagination.page_size is not None:
                params.setdefault(LIMIT_PARAM, pagination.page_size)
        else:
            out["paginator"] = {
                "type": "json_link",
                "next_url_path": self._key(pagination.link_field or "", f"{where}.pagination"),
            }
        return out

    def _selector(self, response: ConnectorResponse | None, where: str) -> str:
        if response is None or response.root_key is None:
            return "$"
        return self._key(response.root_key, f"{where}.response.root_key")

    def _key(self, key: str, where: str) -> str:
        try:
            return key_path(key)
        except ValueError as exc:
            raise ConfigError(f"{self.origin}: {where}: {exc}") from None

    def _output(self, name: str, entry: ConnectorOutput, inputs: list[str]) -> dict[str, Any]:
        where = f"CONFIG.outputs.{name}"
        return {
            "name": name,
            "from": self._upstream(entry.from_, inputs, where),
            "path": self._convert(entry.url, f"{where}.url", placeholders=False),
            "method": entry.method,
            "batch_size": entry.batch_size,
            "headers": self._convert(entry.headers, f"{where}.headers", placeholders=False),
        }

    def _upstream(self, given: str | None, inputs: list[str], where: str) -> str:
        if given is not None:
            if given in self.result.skipped_inputs:
                raise ConfigError(
                    f"{self.origin}: {where}.from: input {given!r} is skipped (its format is not "
                    "rest_api); name a rest_api input, an asset source/resource or a DuckDB "
                    "table schema.table"
                )
            if "/" not in given and "." not in given and given not in inputs:
                known = ", ".join(inputs) or "none"
                raise ConfigError(
                    f"{self.origin}: {where}.from: this file has no input {given!r} (inputs: "
                    f"{known}); name an input, an asset source/resource or a DuckDB table "
                    "schema.table"
                )
            return given
        if len(inputs) == 1:
            return inputs[0]
        if not inputs:
            raise ConfigError(
                f"{self.origin}: {where}: this file has no rest_api input whose rows it could "
                "send; add from: naming the rows to send, an asset <source>/<resource> or a "
                "DuckDB table <schema>.<table>"
            )
        raise ConfigError(
            f"{self.origin}: {where}: this file has {len(inputs)} inputs "
            f"({', '.join(inputs)}); add from: <input> to say which one's rows to send"
        )

    # --- shared settings ------------------------------------------------------------------

    def _auth(self, auth: ConnectorAuth | None, where: str) -> dict[str, Any] | None:
        if auth is None:
            return None
        where = f"{where}.auth"

        def secret(value: str | None, key: str) -> str | None:
            if value is None:
                return None
            return self._convert(value, f"{where}.{key}", placeholders=False)

        if auth.type == "bearer":
            return {"type": "bearer", "token": secret(auth.token, "token")}
        if auth.type == "basic":
            return {
                "type": "http_basic",
                "username": secret(auth.username, "username"),
                "password": secret(auth.password, "password"),
            }
        location = "header" if auth.header is not None else "query"
        return {
            "type": "api_key",
            "name": auth.header if auth.header is not None else auth.param,
            "api_key": secret(auth.key, "key"),
            "location": location,
        }

    def _client_auth(self, auths: Mapping[str, dict[str, Any] | None]) -> dict[str, Any] | None:
        """The source's auth: the outputs' (outputs use the client's), else the inputs'
        when they agree; inputs with another auth get their own."""
        output_auths = {w: a for w, a in auths.items() if w.startswith("CONFIG.outputs.")}
        distinct = _distinct(output_auths.values())
        if len(distinct) > 1:
            places = ", ".join(output_auths)
            raise ConfigError(
                f"{self.origin}: {places}: outputs of one file are sent with one auth, but "
                "these differ; give them the same auth or put them in separate files"
            )
        if distinct:
            return distinct[0]
        input_auths = _distinct(auths.values())
        return input_auths[0] if len(input_auths) == 1 else None

    def _origin_of(self, url: str, where: str, *, placeholders: bool) -> str:
        """The base URL of the source: the first entry's scheme and host, or the
        `${NAME}` its URL starts with."""
        converted = self._convert(url, f"{where}.url", placeholders=placeholders)
        reference = re.match(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}", converted)
        if reference:
            return reference.group(0)
        parts = urlsplit(converted)
        if parts.scheme not in ("http", "https") or not parts.netloc or "{" in parts.netloc:
            raise ConfigError(
                f"{self.origin}: {where}.url: {url!r} must be a full URL starting with http:// "
                "or https:// (or {{ env.NAME }} holding one), e.g. https://api.example.com/v1/items"
            )
        return f"{parts.scheme}://{parts.netloc}"

    def _rate_limit(self, limits: Mapping[str, ConnectorRateLimit | None]) -> dict[str, Any]:
        given = {w: r for w, r in limits.items() if r is not None}
        out: dict[str, Any] = {}
        rates = {w: r.requests_per_second for w, r in given.items() if r.requests_per_second}
        if rates:
            out["requests_per_second"] = min(rates.values())
            if len(set(rates.values())) > 1 or len(rates) < len(limits):
                self.result.notes.append(
                    f"rate_limit: {out['requests_per_second']:g} requests per second applies to "
                    "every entry of this file together (one limiter per source; the lowest "
                    f"rate given wins, from {', '.join(sorted(rates))})"
                )
        for key in ("retry_on", "max_retries"):
            values = {w: getattr(r, key) for w, r in given.items() if getattr(r, key) is not None}
            distinct = _distinct(values.values())
            if len(distinct) > 1:
                raise ConfigError(
                    f"{self.origin}: {', '.join(f'{w}.rate_limit.{key}' for w in values)}: "
                    f"rest-assets applies one retry policy to a file, but these {key} differ; "
                    "give them the same value or put the entries in separate files"
                )
            if distinct:
                out[key] = distinct[0]
        return out

    def _transform(self, transform: ConnectorTransform | None, has_outputs: bool) -> None:
        if transform is None:
            return
        if transform.type == "noop":
            self.result.notes.append("CONFIG.transform: noop, the rows are used as read")
            return
        if has_outputs:
            raise ConfigError(
                f"{self.origin}: CONFIG.transform: type {transform.type!r} is not something "
                "rest-assets does, and the outputs would send untransformed rows; use type: "
                "noop, or transform the rows in DuckDB (SQL, dbt) and name the result in the "
                "output's from:"
            )
        self.result.skipped.append(
            f"CONFIG.transform: type {transform.type!r} is not something rest-assets does; it "
            "is skipped (inputs land as read and no output sends them)"
        )

    def _convert(self, value: Any, where: str, *, placeholders: bool) -> Any:
        try:
            return convert(value, where, placeholders=placeholders, found=self.found)
        except ConfigError as exc:
            raise ConfigError(f"{self.origin}: {exc}") from None


def _distinct(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
