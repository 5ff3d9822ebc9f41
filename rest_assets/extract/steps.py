"""Processing steps (filter, map, yield_map) and dotted-path imports of user callables."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rest_assets.config.models import ProcessingStep
from rest_assets.errors import ConfigError

Record = dict[str, Any]


def import_callable(value: Any, where: str) -> Callable[..., Any]:
    """A callable as given, or imported from `pkg.module:function` / `pkg.module.function`."""
    if callable(value):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a callable or a dotted path like my_pkg.steps:func")
    module_name, sep, attr = value.partition(":")
    if not sep:
        module_name, _, attr = value.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"{where}: {value!r} is not a dotted path like my_pkg.steps:func")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import module {module_name!r} ({exc}); make sure it is installed "
            "or on PYTHONPATH"
        ) from None
    target = getattr(module, attr, None)
    if not callable(target):
        raise ConfigError(f"{where}: {module_name!r} has no callable named {attr!r}")
    return target


class Steps:
    """A compiled chain of processing steps applied to a batch of records at once."""

    def __init__(self, steps: list[ProcessingStep], where: str) -> None:
        self._chain: list[tuple[str, Callable[..., Any]]] = []
        for i, step in enumerate(steps):
            kind = (
                "filter"
                if step.filter is not None
                else "map"
                if step.map is not None
                else "yield_map"
            )
            fn = import_callable(getattr(step, kind), f"{where}.processing_steps[{i}].{kind}")
            self._chain.append((kind, fn))

    def __bool__(self) -> bool:
        return bool(self._chain)

    def apply(self, records: Iterable[Record]) -> list[Record]:
        """Run every step over the batch, in order."""
        batch: Iterable[Record] = records
        for kind, fn in self._chain:
            batch = _apply_one(kind, fn, batch)
        return list(batch)


def _apply_one(kind: str, fn: Callable[..., Any], batch: Iterable[Record]) -> Iterator[Record]:
    if kind == "filter":
        return (r for r in batch if fn(r))
    if kind == "map":
        return (fn(r) for r in batch)
    return (out for r in batch for out in fn(r))
