"""Reading a YAML config safely and fast.

- libyaml's parser (`CSafeLoader`) when PyYAML has it, else the pure-Python one: a
  2,000-resource file parses in well under a second instead of several;
- a key given twice in one mapping is an error naming both lines (YAML would keep the last
  one silently: a second `base_url` sends every request elsewhere). Keys a merge (`<<:`)
  brings in may be overridden, as YAML intends;
- aliases are counted before anything is built: a document that expands to more than
  MAX_EXPANDED_NODES nodes (a "billion laughs" bomb, at any depth), or whose aliases
  refer to themselves, is refused at once. PyYAML shares aliased values, so such a file
  loads quickly, and then every later walk over it (defaults, validation, dumps) stalls.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rest_assets.errors import ConfigError

# A config with 2,000 resources has about 100,000 nodes; a million is far beyond any config.
MAX_EXPANDED_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Something that may be an alias (`*name`); without one no value is shared, nothing to count.
_ALIAS = re.compile(r"(?:^|[\s\[{,:?-])\*[^\s,\[\]{}]")

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, second: int) -> None:
        super().__init__(f"{key!r} is given twice, on line {first} and on line {second}")
        self.key, self.first, self.second = key, first, second


class ConfigLoader(_Base):  # type: ignore[misc,valid-type]
    """The safe loader (libyaml's when available) that refuses duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if isinstance(key_node, ScalarNode):
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeConstructor says so below
                    continue
                if first is not None:
                    raise _DuplicateKey(str(key), first, line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


ConfigLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, ConfigLoader.construct_yaml_map
)


def _expanded_size(root: Node, origin: str) -> int:
    """Nodes the document holds once every alias is expanded (each shared node counted as
    often as it is used); raises ConfigError past the limit or for a self-referring alias."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk: a deep document must not exhaust Python's stack
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        ident = id(node)
        children = _children(node)
        if done:
            on_path.discard(ident)
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_EXPANDED_NODES:
                raise ConfigError(
                    f"{origin}: line {node.start_mark.line + 1}: its aliases (*name) expand "
                    f"to more than {MAX_EXPANDED_NODES:,} values; a config never needs that "
                    "many: refusing to load it (a YAML alias bomb?)"
                )
            sizes[ident] = size
            continue
        if ident in sizes:
            continue
        if ident in on_path:
            raise ConfigError(
                f"{origin}: line {node.start_mark.line + 1}: an alias refers to a value that "
                "contains it; a config cannot be recursive"
            )
        on_path.add(ident)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                raise ConfigError(
                    f"{origin}: line {child.start_mark.line + 1}: an alias refers to a value "
                    "that contains it; a config cannot be recursive"
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_yaml(text: str, origin: str) -> Any:
    """The document in `text` (None for an empty one); ConfigError naming `origin` for
    invalid YAML, a duplicate key or an alias bomb."""
    loader = ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _ALIAS.search(text):
            _expanded_size(node, origin)
        return loader.construct_document(node)
    except _DuplicateKey as exc:
        raise ConfigError(
            f"{origin}: {exc}; YAML would keep only the last one silently. Remove one of them"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
