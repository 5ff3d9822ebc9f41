"""Incremental loading: where a resource's cursor starts, and tracking it over the records.

A resource is incremental when its endpoint has an `incremental` section, or (legacy) a
param `{type: incremental, cursor_path, initial_value}`. The cursor state is a small JSON
object stored by the Dagster layer (see `rest_assets.dagster.state`); this module only
computes it:

- `IncrementalSpec` compiles the config once: the cursor path (plain field names skip
  JSONPath), `convert` (a callable or `pkg.module:function`), `last_value_func` and
  `row_order`.
- `spec.values(state)` gives the `{incremental.*}` placeholder values of a run.
- `spec.tracker(state)` filters each batch of records: records behind the start value or
  beyond the end value are dropped, and so are records at the start value that the previous
  run already loaded (their primary keys, or a hash of the record, are kept in the state), so
  an inclusive `>=` filter on the server never duplicates rows, even with `append`.
  It raises `RangeExhausted` once `row_order` proves no later record can be in range.
- `window` (`1d`, `6h`, numbers) splits the range into consecutive windows, each fetched
  with its own `{incremental.start_value}`/`{incremental.end_value}` (`spec.windows(state)`);
  `lookback` re-reads that far behind the cursor and drops the records already loaded there
  (their keys are kept with the cursor, bounded by MAX_RECENT_KEYS).
- a record whose cursor value cannot be compared with the run's values (MySQL's
  `0000-00-00 00:00:00` among ISO timestamps) is excluded and counted (`tracker.invalid`, a
  few named in `tracker.invalid_samples` for the warning), or included without moving the
  cursor, or fails the run (`on_cursor_value_invalid`); it never fails every run by default.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import orjson
from jsonpath_ng import parse as jsonpath_parse

from rest_assets.config.models import EndpointConfig, IncrementalConfig, IncrementalParam
from rest_assets.errors import ConfigError, RestAssetsError
from rest_assets.extract.steps import Record, import_callable

# At most this many keys of records at the cursor value are remembered; beyond it a record
# at the boundary may be loaded twice (merge on a primary key still keeps one).
MAX_BOUNDARY_KEYS = 1000
# With `lookback`, the keys of records this close behind the cursor are kept to skip them when
# they are read again; past this many (the oldest go first), merge on a primary key dedups.
MAX_RECENT_KEYS = 5000
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
START = "{incremental.start_value}"
END = "{incremental.end_value}"
# How many excluded records a warning names.
INVALID_SAMPLES = 5
_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_MISSING = object()
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{8}$")

logger = logging.getLogger("rest_assets.extract")


class RangeExhausted(Exception):
    """Raised by a tracker when `row_order` shows that no later record can be in range."""


class CursorValueError(RestAssetsError):
    """A record's cursor value cannot be compared (`on_cursor_value_invalid: raise`)."""


@dataclass
class CursorState:
    """What one run leaves for the next: the last cursor value and the records at it."""

    last_value: Any = None
    boundary_keys: list[str] = field(default_factory=list)
    # `lookback` only: [cursor value, key] of the records within the lookback span.
    recent: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {"last_value": self.last_value, "boundary_keys": list(self.boundary_keys)}
        if self.recent:
            out["recent"] = [list(pair) for pair in self.recent]
        return out

    @classmethod
    def from_json(cls, data: Any) -> CursorState | None:
        """A state from stored JSON; None (start from `initial_value`) for anything else."""
        if not isinstance(data, Mapping) or data.get("last_value") is None:
            return None
        keys = data.get("boundary_keys") or []
        recent = [
            [pair[0], str(pair[1])]
            for pair in data.get("recent") or []
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        return cls(data["last_value"], [str(k) for k in keys], recent)


def parse_span(value: Any, where: str) -> float | None:
    """Seconds (or cursor units) of a `window`/`lookback`: a number, or `30s`, `15m`, `6h`,
    `1d`, `2w`."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        span = float(value)
    else:
        match = _SPAN.match(str(value))
        if match is None:
            raise ConfigError(
                f"{where}: {value!r} is not a span; use a number or e.g. 30m, 6h, 1d, 2w"
            )
        span = float(match.group(1)) * _UNITS[match.group(2)]
    if span <= 0:
        raise ConfigError(f"{where}: {value!r} must be greater than zero")
    return span


def shift(value: Any, seconds: float) -> Any:
    """`value` moved by `seconds` (cursor units for numbers), keeping its type and format."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and float(seconds).is_integer():
        return value + int(seconds)
    if isinstance(value, int | float):
        return value + seconds
    if isinstance(value, datetime):
        return value + timedelta(seconds=seconds)
    if isinstance(value, str) and (parsed := _as_datetime(value)) is not None:
        moved = parsed + timedelta(seconds=seconds)
        return _format_like(value, moved)
    return value


def _format_like(example: str, moment: datetime) -> str:
    """`moment` written the way `example` is: a date, `...Z`, or ISO with an offset."""
    if len(example) == 10 and moment == datetime(
        moment.year, moment.month, moment.day, tzinfo=timezone.utc
    ):
        return moment.date().isoformat()
    text = (
        moment.astimezone(timezone.utc).isoformat() if example.endswith("Z") else moment.isoformat()
    )
    return text.replace("+00:00", "Z") if example.endswith("Z") else text


def now_like(example: Any) -> Any:
    """The current time in the form of a cursor value (epoch seconds for numbers)."""
    now = datetime.now(timezone.utc)
    if isinstance(example, str):
        return _format_like(example if len(example) != 10 else example + "T00:00:00Z", now)
    if isinstance(example, datetime):
        return now
    if isinstance(example, int):
        return int(time.time())
    return time.time()


def _is_date_text(value: Any) -> bool:
    return isinstance(value, str) and _DATE_TEXT.match(value) is not None


def _is_date(value: Any) -> bool:
    return (isinstance(value, date) and not isinstance(value, datetime)) or _is_date_text(value)


def lag_value(value: Any, lag: float, sign: int, days: bool, where: str) -> Any:
    """`value` moved back by `lag` as dlt moves it (`sign` -1 for last_value_func min: moved
    forward): numbers by cursor units (an int stays an int), datetimes by seconds, dates by
    days (`days`: a datetime by days too, to the start of its day); text keeps its format."""
    step = -lag * sign
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        moved = value + step
        return int(moved) if isinstance(value, int) else moved
    if isinstance(value, datetime):
        return _lag_datetime(value, step, days)
    if isinstance(value, date):
        return value + timedelta(days=step)
    if isinstance(value, str):
        if _is_date_text(value):
            compact = "-" not in value
            day = datetime.strptime(value, "%Y%m%d" if compact else "%Y-%m-%d").date()
            moved_day = day + timedelta(days=step)
            return moved_day.strftime("%Y%m%d" if compact else "%Y-%m-%d")
        parsed = _as_datetime(value)
        if parsed is not None:
            return _format_like(value, _lag_datetime(parsed, step, days))
    raise ConfigError(
        f"{where}.incremental.lag needs a number, date or datetime cursor; the cursor value "
        f"is {value!r} ({type(value).__name__}); remove lag or point cursor_path at such a field"
    )


def _lag_datetime(value: datetime, step: float, days: bool) -> datetime:
    if not days:
        return value + timedelta(seconds=step)
    day = value.date() + timedelta(days=step)
    boundary = datetime.min.time() if step <= 0 else datetime.max.time()
    return datetime.combine(day, boundary, tzinfo=value.tzinfo)


def find_incremental(endpoint: EndpointConfig, where: str) -> tuple[IncrementalConfig | None, str]:
    """The endpoint's incremental config and the legacy param it came from ("" if none)."""
    legacy = [(k, v) for k, v in endpoint.params.items() if isinstance(v, IncrementalParam)]
    if len(legacy) > 1 or (legacy and endpoint.incremental is not None):
        raise ConfigError(
            f"{where}.endpoint: only one incremental cursor per resource; found "
            f"{'params.' + legacy[0][0] if legacy else ''} and another one"
        )
    if legacy:
        name, param = legacy[0]
        return IncrementalConfig(**param.model_dump(exclude={"type", "transform"})), name
    return endpoint.incremental, ""


def legacy_params(endpoint: EndpointConfig) -> dict[str, str]:
    """Query params of the legacy forms, as placeholders filled from the cursor.

    `params: {since: {type: incremental, ...}}` sends `since=<start value>`;
    `incremental: {start_param, end_param}` sends those two params.
    """
    out: dict[str, str] = {}
    for name, value in endpoint.params.items():
        if isinstance(value, IncrementalParam):
            out[name] = START
    inc = endpoint.incremental
    if inc is not None and inc.start_param:
        out[inc.start_param] = START
    if inc is not None and inc.end_param:
        out[inc.end_param] = END
    return out


def _compile_path(path: str, where: str) -> Callable[[Any], Any]:
    """A getter for a cursor path: plain (dotted) field names without JSONPath."""
    text = path[2:] if path.startswith("$.") else path
    parts = text.split(".")
    if all(part and set(part) <= _PLAIN for part in parts):
        if len(parts) == 1:
            key = parts[0]

            def plain(record: Any) -> Any:
                return record.get(key, _MISSING) if isinstance(record, dict) else _MISSING

            return plain

        def nested(record: Any) -> Any:
            for part in parts:
                if not isinstance(record, dict) or part not in record:
                    return _MISSING
                record = record[part]
            return record

        return nested
    try:
        expression = jsonpath_parse(path)
    except Exception as exc:  # jsonpath-ng raises several exception types
        raise ConfigError(f"{where}: invalid cursor_path {path!r}: {exc}") from None

    def find(record: Any) -> Any:
        matches = expression.find(record)
        return matches[0].value if matches else _MISSING

    return find


def _as_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _key(value: Any) -> Any:
    """A sort key that compares ISO timestamps of different formats and numeric strings."""
    if isinstance(value, str):
        parsed = _as_datetime(value)
        if parsed is not None:
            return (1, parsed)
        try:
            return (0, float(value))
        except ValueError:
            return (2, value)
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, datetime):
        return (1, value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return (2, str(value))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1: cursor values of the same kind compare natively, others through `_key`."""
    if type(a) is type(b) and not isinstance(a, str):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str) and len(a) == len(b):
        # same-length strings (one timestamp format, zero-padded ids) order as text: fast path
        return (a > b) - (a < b)
    ka, kb = _key(a), _key(b)
    if ka[0] != kb[0]:
        raise TypeError(f"cannot compare cursor values {a!r} and {b!r}")
    return (ka > kb) - (ka < kb)


def _native(values: list[Any]) -> bool:
    """Whether `compare` orders these values as Python's own operators do: one type (not
    bool's int mix-ups), and for strings one length (a single timestamp or id format)."""
    kind = type(values[0])
    if not all(type(v) is kind for v in values):
        return False
    if kind is str:
        size = len(values[0])
        return all(len(v) == size for v in values)
    return kind in (int, float, datetime, date)


def record_key(record: Any, primary_key: Sequence[str]) -> str:
    """The identity of a record at the boundary: its primary key, else a stable hash."""
    if primary_key and isinstance(record, dict):
        return orjson.dumps([record.get(k) for k in primary_key], default=str).decode()
    data = orjson.dumps(record, default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


class _Verdict(enum.Enum):
    KEEP = "keep"  # in range: stored, and its value moves the cursor
    UNTRACKED = "untracked"  # stored without moving the cursor (include rules)
    SKIP = "skip"
    STOP = "stop"  # out of range, and row_order says no later record is in it


class IncrementalSpec:
    """A resource's incremental config, compiled once per definitions load."""

    def __init__(
        self, config: IncrementalConfig, where: str, primary_key: Sequence[str] = ()
    ) -> None:
        self.config = config
        self.where = where
        self.cursor_path = config.cursor_path
        self.get = _compile_path(config.cursor_path, f"{where}.incremental.cursor_path")
        self.convert = (
            import_callable(config.convert, f"{where}.incremental.convert")
            if config.convert is not None
            else None
        )
        func = config.last_value_func
        if isinstance(func, str) and func not in ("max", "min"):
            func = import_callable(func, f"{where}.incremental.last_value_func")
        # a custom function decides which of two values is "later"; max and min are signs
        self.custom: Callable[[tuple[Any, ...]], Any] | None = (
            None if isinstance(func, str) else func
        )
        self.sign = -1 if func == "min" else 1
        key = config.primary_key
        self.primary_key = list(primary_key) if key is None else list(key)
        # `primary_key: []` (dlt's way to turn it off) or an open start: no boundary dedup
        self.dedup = key != [] and config.range_start == "closed"
        if config.end_value is not None and config.initial_value is None:
            raise ConfigError(f"{where}.incremental: end_value needs an initial_value")
        if config.end_value is not None:
            self._check_range(config.initial_value, config.end_value)
        self.lag = config.lag or None
        if self.lag is not None and config.end_value is not None and config.window is None:
            logger.info(f"{where}.incremental: lag is off when end_value is set (as in dlt)")
            self.lag = None
        if self.lag is not None and self.custom is not None:
            logger.warning(
                f"{where}.incremental: lag works with last_value_func max or min only; "
                "it is ignored (as in dlt)"
            )
            self.lag = None
        # dlt lags in days when the cursor is a date, or the initial value looks like one
        self.lag_in_days = _is_date(config.initial_value)
        self.window = parse_span(config.window, f"{where}.incremental.window")
        self.lookback = parse_span(config.lookback, f"{where}.incremental.lookback")
        if self.lookback is not None and config.lag:
            raise ConfigError(f"{where}.incremental: give lag or lookback, not both")
        if self.window is not None and self.custom is not None:
            raise ConfigError(f"{where}.incremental.window works with last_value_func: max only")
        if self.window is not None and config.initial_value is None:
            raise ConfigError(f"{where}.incremental.window needs an initial_value to start from")
        if self.window is not None and self.sign != 1:
            raise ConfigError(f"{where}.incremental.window works with last_value_func: max only")

    def _check_range(self, initial: Any, end: Any) -> None:
        where = f"{self.where}.incremental.end_value"
        try:
            ahead = self.compare(initial, end) > 0
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: {end!r} cannot be compared with initial_value {initial!r}; give both "
                "in one form (two ISO timestamps, or two numbers)"
            ) from None
        if ahead:
            direction = "after" if self.sign == 1 else "before (last_value_func: min)"
            raise ConfigError(
                f"{where}: {end!r} must come {direction} initial_value {initial!r} (as in dlt)"
            )

    @classmethod
    def for_endpoint(
        cls, endpoint: EndpointConfig, where: str, primary_key: Sequence[str] = ()
    ) -> IncrementalSpec | None:
        """The spec of an endpoint (new or legacy form), or None when not incremental."""
        config, _ = find_incremental(endpoint, where)
        return cls(config, where, primary_key) if config is not None else None

    @property
    def looks_back(self) -> bool:
        """Whether runs re-read behind the cursor (`lag` or `lookback`)."""
        return self.lag is not None or self.lookback is not None

    def compare(self, a: Any, b: Any) -> int:
        """-1, 0 or 1: whether `a` comes before, with or after `b` in the cursor's order
        (ascending for max, descending for min, a custom function's choice)."""
        if self.custom is None:
            return compare(a, b) * self.sign
        if a == b:
            return 0
        chosen = self.custom((a, b))
        if chosen == a:
            return 1
        if chosen == b:
            return -1
        raise ConfigError(
            f"{self.where}.incremental.last_value_func returned {chosen!r} for ({a!r}, {b!r}); "
            "it must return one of the values it is given"
        )

    def start_value(self, state: CursorState | None) -> Any:
        """Where a run starts: the last value (minus `lag`/`lookback`, never before the
        initial value), else the initial value.

        Unlike dlt, a run with end_value keeps its cursor too (dlt's run is stateless and
        re-loads the whole range every time, duplicating rows with append): a re-run loads
        what is new in the range; `rest-assets cursor reset` starts it over."""
        if state is None or state.last_value is None:
            return self.config.initial_value
        return self.behind(state.last_value)

    def behind(self, value: Any) -> Any:
        """`value` moved back by `lag` (dlt's units) or `lookback`; as is without either."""
        initial = self.config.initial_value
        if self.lag is not None:
            moved = lag_value(value, self.lag, self.sign, self.lag_in_days, self.where)
            if initial is not None and self.compare(moved, initial) < 0:
                return initial  # dlt: the lag never crosses initial_value
            return moved
        if self.lookback is not None:
            step = -self.lookback * self.sign
            if isinstance(value, int | float) and not isinstance(value, bool):
                return type(value)(value + step)
            return shift(value, step)
        return value

    def windows(self, state: CursorState | None, now: Any = None) -> Iterator[tuple[Any, Any]]:
        """Consecutive (start, end) windows of `window` from the run's start value up to
        `end_value`, else up to now; the last one ends there. Empty without `window`."""
        if self.window is None:
            return
        start = self.start_value(state)
        final = self.config.end_value
        if final is None:
            final = now if now is not None else now_like(start)
        while compare(start, final) < 0:
            end = shift(start, self.window)
            if compare(end, final) >= 0:
                end = final
            yield start, end
            start = end

    def values(
        self, state: CursorState | None, start: Any = _MISSING, end: Any = _MISSING
    ) -> dict[str, Any]:
        """`{incremental.*}` placeholder values (converted); `start`/`end` override a window."""
        start_value = self.start_value(state) if start is _MISSING else start
        end_value = self.config.end_value if end is _MISSING else end
        last = state.last_value if state is not None else None
        raw = {
            "start_value": start_value,
            "initial_value": self.config.initial_value,
            "last_value": start_value if last is None or start is not _MISSING else last,
            "end_value": end_value,
        }
        return {f"incremental.{k}": self._convert(v) for k, v in raw.items()}

    def _convert(self, value: Any) -> Any:
        if value is None or self.convert is None:
            return value
        return self.convert(value)

    def tracker(
        self,
        state: CursorState | None,
        *,
        start: Any = _MISSING,
        end: Any = _MISSING,
        end_inclusive: bool = False,
        end_keys: Sequence[str] | None = None,
    ) -> CursorTracker:
        """A tracker for one run; `start`/`end` bound a window instead of the state/config.

        With `end_keys`, records at the end value are kept only if their key is one of them
        (a window re-run takes back exactly the records its first run had at its end).
        """
        start_value = self.start_value(state) if start is _MISSING else start
        seen = [] if state is None else state.boundary_keys
        if start is not _MISSING and state is not None and start != state.last_value:
            seen = []
        if self.looks_back and state is not None and start is _MISSING:
            # records between the lag/lookback start and the cursor that were loaded already
            seen = [*state.boundary_keys, *(str(pair[1]) for pair in state.recent)]
        if not self.dedup:
            seen = []
        if end is _MISSING:
            end = self.config.end_value
            end_inclusive = end_inclusive or self.config.range_end == "closed"
        return CursorTracker(
            self,
            start_value,
            seen,
            end,
            end_inclusive,
            previous=state,
            end_keys=end_keys,
        )


class CursorTracker:
    """Filters batches of records against the range and tracks the new cursor."""

    def __init__(
        self,
        spec: IncrementalSpec,
        start: Any,
        boundary_keys: Sequence[str],
        end: Any,
        end_inclusive: bool,
        previous: CursorState | None = None,
        end_keys: Sequence[str] | None = None,
    ) -> None:
        self.spec = spec
        self.start = start
        self.end = end
        self.end_inclusive = end_inclusive
        self.previous = previous
        self.seen = set(boundary_keys)
        self.end_keys = set(end_keys) if end_keys is not None else None
        # with lag/lookback, keys in `seen` are skipped anywhere up to the previous cursor
        self.lookback = spec.looks_back
        self.dedup_upto = previous.last_value if spec.looks_back and previous else start
        self.open_start = spec.config.range_start == "open"
        self.recent: list[list[Any]] = []
        self.last_value: Any = None
        self.keys_at_last: list[str] = []
        self.kept = 0
        order = spec.config.row_order
        # records arrive in the cursor's direction (ascending for max) or against it
        self.forward = order is not None and ((order == "asc") == (spec.sign == 1))
        self.backward = order is not None and not self.forward
        self.exhausted = False
        # records whose cursor value cannot be compared (on_cursor_value_invalid)
        self.invalid = 0
        self.invalid_samples: list[str] = []

    def _cmp(self, a: Any, b: Any) -> int:
        return self.spec.compare(a, b)

    def filter(self, records: list[Record]) -> list[Record]:
        """The records of a batch in range and not loaded before.

        Sets `exhausted` when `row_order` shows that no later record can be in range: the
        caller stores the returned records, then stops paginating.
        """
        kept: list[Record] = []
        # the kept records that have a cursor value, and those values, for `_track_batch`
        tracked: list[Record] = []
        values: list[Any] = []
        exhausted = False
        for record in records:
            value = self.spec.get(record)
            verdict = self._verdict(record, value, tracked)
            if verdict is _Verdict.STOP:
                exhausted = True
                break
            if verdict is _Verdict.SKIP:
                continue
            kept.append(record)
            if verdict is _Verdict.KEEP:
                tracked.append(record)
                values.append(value)
        self._track_batch(values, tracked)
        self.kept += len(kept)
        self.exhausted = exhausted
        return kept

    def _verdict(self, record: Record, value: Any, tracked: list[Record]) -> _Verdict:
        """What becomes of one record: kept (and tracked), kept without moving the cursor,
        skipped, or the end of the walk."""
        if value is _MISSING or value is None:
            rule = self.spec.config.on_cursor_value_missing
            if rule == "raise":
                raise ConfigError(
                    f"{self.spec.where}: a record has no value at cursor_path "
                    f"{self.spec.cursor_path!r}; set incremental.on_cursor_value_missing "
                    "to include or exclude such records"
                )
            return _Verdict.UNTRACKED if rule == "include" else _Verdict.SKIP
        if self.start is not None:
            try:
                verdict = self._start_verdict(record, value)
            except TypeError:
                return self._invalid_verdict(record, value)
            if verdict is not None:
                return verdict
        elif not self._comparable(value, tracked):
            return self._invalid_verdict(record, value)
        if self.end is not None:
            return self._end_verdict(record, value)
        return _Verdict.KEEP

    def _start_verdict(self, record: Record, value: Any) -> _Verdict | None:
        """Skip (or stop at) a record before the start, or at it and loaded before."""
        c = self._cmp(value, self.start)
        if c < 0 or (c == 0 and self.open_start):
            return _Verdict.STOP if self.backward and c < 0 else _Verdict.SKIP
        if (
            self.seen
            and (c == 0 or (self.lookback and self._cmp(value, self.dedup_upto) <= 0))
            and record_key(record, self.spec.primary_key) in self.seen
        ):
            return _Verdict.SKIP
        return None

    def _end_verdict(self, record: Record, value: Any) -> _Verdict:
        """Keep a record before the end; past it, skip it (or stop, when rows ascend)."""
        c = self._cmp(value, self.end)
        if c > 0 or (c == 0 and not self.end_inclusive):
            return _Verdict.STOP if self.forward else _Verdict.SKIP
        if (
            c == 0
            and self.end_keys is not None
            and record_key(record, self.spec.primary_key) not in self.end_keys
        ):
            return _Verdict.SKIP
        return _Verdict.KEEP

    def _invalid_verdict(self, record: Record, value: Any) -> _Verdict:
        include = self._invalid(record, value) == "include"
        return _Verdict.UNTRACKED if include else _Verdict.SKIP

    def _comparable(self, value: Any, tracked: list[Record]) -> bool:
        """Whether `value` compares with the run's reference when it has no start value:
        its end, else the cursor so far (or the batch's first kept value)."""
        reference = self.end
        if reference is None:
            reference = self.last_value
        if reference is None and tracked:
            reference = self.spec.get(tracked[0])
        if reference is None:
            return True
        try:
            compare(value, reference)
        except TypeError:
            return False
        return True

    def _invalid(self, record: Record, value: Any) -> str:
        """Count (or raise for) a record whose cursor value cannot be compared."""
        rule = self.spec.config.on_cursor_value_invalid
        keys = self.spec.primary_key
        if keys and isinstance(record, dict):
            who = ", ".join(f"{k}={record.get(k)!r}" for k in keys)
        else:
            who = f"hash {record_key(record, ())[:12]}"
        if rule == "raise":
            raise CursorValueError(
                f"{self.spec.where}: the record with {who} has {value!r} at cursor_path "
                f"{self.spec.cursor_path!r}, which cannot be compared with the cursor's values; "
                "set incremental.on_cursor_value_invalid to exclude (skip such records, with a "
                "warning) or include (load them without moving the cursor)"
            )
        self.invalid += 1
        if len(self.invalid_samples) < INVALID_SAMPLES:
            self.invalid_samples.append(f"{who} ({value!r})")
        return rule

    def invalid_warning(self) -> str | None:
        """The warning for the records whose cursor value could not be compared, if any."""
        if not self.invalid:
            return None
        rule = self.spec.config.on_cursor_value_invalid
        done = "excluded" if rule == "exclude" else "loaded without moving the cursor"
        more = (
            f" and {self.invalid - len(self.invalid_samples)} more"
            if self.invalid > len(self.invalid_samples)
            else ""
        )
        return (
            f"{self.spec.where}: {self.invalid} record(s) {done}: their value at cursor_path "
            f"{self.spec.cursor_path!r} cannot be compared with the cursor's "
            f"({', '.join(self.invalid_samples)}{more}); on_cursor_value_invalid: {rule}"
        )

    def _track_batch(self, values: list[Any], records: list[Record]) -> None:
        """Move the cursor over a batch's kept records.

        The usual batch holds one kind of value (numbers, or timestamps in one format): its
        newest value is then a C-level `max` (`min` for last_value_func min), and only the
        records at that value get a key. Per record, that was a compare and a key each
        (~0.2 s of 200k records, 0.6 s+ in a busy process). Anything else goes record by record.
        """
        if not values:
            return
        if self.lookback or self.spec.custom is not None or not _native(values):
            for value, record in zip(values, records, strict=True):
                self._track(value, record)
            return
        best = max(values) if self.spec.sign == 1 else min(values)
        if self.last_value is not None:
            c = self._cmp(best, self.last_value)
            if c < 0:
                return
            if c > 0:
                self.last_value, self.keys_at_last = best, []
        else:
            self.last_value = best
        room = MAX_BOUNDARY_KEYS - len(self.keys_at_last) if self.spec.dedup else 0
        for value, record in zip(values, records, strict=True):
            if room <= 0:
                break
            if value == best:
                self.keys_at_last.append(record_key(record, self.spec.primary_key))
                room -= 1

    def _track(self, value: Any, record: Record) -> None:
        if not self.spec.dedup:
            if self.last_value is None or self._cmp(value, self.last_value) > 0:
                self.last_value = value
            return
        if self.lookback:
            self.recent.append([value, record_key(record, self.spec.primary_key)])
            if len(self.recent) > 4 * MAX_RECENT_KEYS:
                self.recent = self._recent_pairs(value, [])
        if self.last_value is None or self._cmp(value, self.last_value) > 0:
            self.last_value = value
            self.keys_at_last = [record_key(record, self.spec.primary_key)]
        elif self._cmp(value, self.last_value) == 0 and len(self.keys_at_last) < MAX_BOUNDARY_KEYS:
            self.keys_at_last.append(record_key(record, self.spec.primary_key))

    def state(self) -> CursorState | None:
        """The state after this run; the previous one when no record was in range."""
        if self.last_value is None:
            return self.previous
        keys = self.keys_at_last
        prev = self.previous
        if prev is not None and prev.last_value is not None:
            if self._cmp(self.last_value, prev.last_value) < 0:
                return prev  # a window re-run behind the cursor does not move it back
            if self._cmp(self.last_value, prev.last_value) == 0:
                # the old boundary records are still at the cursor: remember both
                keys = list(dict.fromkeys([*prev.boundary_keys, *keys]))
                keys = keys[-MAX_BOUNDARY_KEYS:]
        recent: list[list[Any]] = []
        if self.lookback:
            recent = self._recent_pairs(self.last_value, prev.recent if prev else [])
        return CursorState(self.last_value, keys, recent)

    def _recent_pairs(self, last: Any, older: list[list[Any]]) -> list[list[Any]]:
        """[value, key] of records within `lookback` of `last`: newest MAX_RECENT_KEYS."""
        floor = self.spec.behind(last)
        pairs = {pair[1]: pair for pair in [*older, *self.recent] if self._cmp(pair[0], floor) >= 0}
        ordered = sorted(pairs.values(), key=lambda p: _key(p[0]))
        return ordered[-MAX_RECENT_KEYS:]
