"""Parent field paths: the `<field>` of `{resources.<parent>.<field>}` and of `resolve` params.

A field is a small JSONPath: names and list indexes only, e.g. `id`, `author.id`,
`$.author.id`, `['@id']`, `items[0].id`. Wildcards, filters, slices and recursive descent
are refused when the config loads: a placeholder takes exactly one value per parent row.

The same path is evaluated two ways: on a raw record (a parent fetched inline, because it
is `selected: false`) and against the parent's DuckDB table, where nested objects became
`a__b` columns (see `FieldPath.column`) and values kept as JSON are read with a JSON
pointer (see `rest_assets.load.reader.read_parent_rows`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rest_assets.errors import ConfigError

Segment = str | int

# One step: `.name`, `name` (at the start), `['quoted']`, `["quoted"]` or `[3]`.
_STEP = re.compile(
    r"""\.?(?P<name>[^.\[\]'"*?$()\s][^.\[\]'"*?()\s]*)"""
    r"""|\[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]"""
    r"""|\[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]"""
    r"""|\[\s*(?P<index>-?\d+)\s*\]"""
)


@dataclass(frozen=True)
class FieldPath:
    """A parsed parent field: the text as written and its segments (names and indexes)."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def is_flat(self) -> bool:
        """Only names: the value sits in one flattened column of the parent's table."""
        return all(isinstance(s, str) for s in self.segments)

    @property
    def column(self) -> str:
        """The flattened column of a names-only path (`author.id` -> `author__id`)."""
        return "__".join(str(s) for s in self.segments)

    @property
    def suffix(self) -> str:
        """The `include_from_parent` column suffix: `author.id` -> `author_id`."""
        return "_".join(str(s) for s in self.segments)

    def evaluate(self, record: Any) -> Any:
        """The value at this path in a raw record; None where any step is missing."""
        node = record
        for segment in self.segments:
            if isinstance(segment, int):
                if not isinstance(node, Sequence) or isinstance(node, str | bytes):
                    return None
                try:
                    node = node[segment]
                except IndexError:
                    return None
            else:
                if not isinstance(node, Mapping):
                    return None
                node = node.get(segment)
            if node is None:
                return None
        return node


def parse_field(text: str, where: str = "field") -> FieldPath:
    """Parse a parent field path; a ConfigError names `where` when it is not supported."""
    source = text.strip()
    body = source[1:] if source.startswith("$") else source
    segments: list[Segment] = []
    pos = 0
    while pos < len(body):
        match = _STEP.match(body, pos)
        if match is None or match.end() == pos or (pos == 0 and body.startswith("..")):
            raise ConfigError(
                f"{where}: parent field {text!r} is not supported; use names and list "
                "indexes only (id, author.id, $.author.id, ['@id'], items[0].id): a "
                "placeholder takes one value per parent row, so wildcards, filters and "
                "slices cannot be used"
            )
        if match.group("name") is not None:
            segments.append(match.group("name"))
        elif match.group("index") is not None:
            segments.append(int(match.group("index")))
        else:
            quoted = match.group("sq") if match.group("sq") is not None else match.group("dq")
            segments.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = match.end()
    if not segments or isinstance(segments[0], int):
        raise ConfigError(
            f"{where}: parent field {text!r} must start with a field name, e.g. id or items[0].id"
        )
    return FieldPath(text, tuple(segments))
