"""Where each source, resource and output is written in a config file: file and line.

The loader reports each entry's path in the file as written (`sources[0].resources[1]`,
`sources[1].rest_api.endpoints[0]`, `CONFIG.inputs.orders`; see `LoadReport`). Here that
path is followed through the file's YAML nodes (`yaml.compose`, which keeps line numbers
and builds no Python values), so the Dagster layer can point an asset's code reference at
its line. Reading locations never changes what was loaded: a path that cannot be followed
points at the nearest node found (the file's first line at worst).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rest_assets.config.report import LoadReport

_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


@dataclass(frozen=True)
class ConfigLocation:
    """A line of a config file (1-based)."""

    file: str
    line: int


@dataclass(frozen=True)
class SourceLocations:
    """The lines of one source and of its resources and outputs, by name."""

    source: ConfigLocation
    entries: dict[str, ConfigLocation] = field(default_factory=dict)

    def entry(self, name: str) -> ConfigLocation:
        """The line of a resource or output (the source's line when it is not known)."""
        return self.entries.get(name, self.source)


@dataclass(frozen=True)
class ConfigLocations:
    """The lines of every source of a config file, by source name."""

    file: str
    sources: dict[str, SourceLocations] = field(default_factory=dict)

    def source(self, name: str) -> SourceLocations | None:
        return self.sources.get(name)


def locate(path: str | Path, report: LoadReport) -> ConfigLocations:
    """The lines of the sources and entries `report` describes, in the file at `path`."""
    file = str(Path(path).resolve())
    try:
        root = yaml.compose(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        root = None
    out = ConfigLocations(file)
    for source in report.sources:
        entries = {
            name: ConfigLocation(file, _line(root, where)) for name, where in source.entries.items()
        }
        out.sources[source.name] = SourceLocations(
            ConfigLocation(file, _line(root, source.where)), entries
        )
    return out


def _line(root: yaml.Node | None, where: str) -> int:
    """The 1-based line of the entry at `where` (its key's line, for a mapping entry), or of
    the deepest entry found on the way to it."""
    if root is None:
        return 1
    steps = [(int(i), None) if i else (None, name) for i, name in _STEP.findall(where)]
    if steps and steps[0] == (None, "sources") and _child(root, None, "sources") is None:
        steps = steps[2:]  # one source alone at the top level: it was wrapped in `sources`
    node, line = root, int(root.start_mark.line)
    for index, name in steps:
        found = _child(node, index, name)
        if found is None:
            break
        node, line = found
    return line + 1


def _child(node: yaml.Node, index: int | None, name: str | None) -> tuple[yaml.Node, int] | None:
    """The child node at a list index or a mapping key, and the line it starts on."""
    if index is not None and isinstance(node, yaml.SequenceNode):
        if 0 <= index < len(node.value):
            item = node.value[index]
            return item, int(item.start_mark.line)
        return None
    if name is not None and isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == name:
                return value, int(key.start_mark.line)
    return None
