"""How API field names become DuckDB table and column names: the one naming rule.

Two conventions:

- ``snake_case`` (the default, dlt's default convention): ``displayName`` -> ``display_name``,
  ``E-mail Address`` -> ``e_mail_address``, ``1st`` -> ``_1st``, ``price$`` -> ``pricex``.
  The steps, in dlt's order: surrounding whitespace stripped; ``+ * @ | -`` become
  ``x x a l _``; every run of other characters outside ``[A-Za-z0-9_]`` becomes one ``_``
  (non-ASCII letters included: no transliteration); camelCase is split and lower-cased; a
  leading digit gets a ``_`` prefix; each trailing ``_`` becomes ``x``; runs of ``_``
  collapse to one. A key holding ``__`` is normalized fragment by fragment and keeps its
  ``__`` (``foo__Bar`` -> ``foo__bar``), as dlt does.
- ``direct``: names are kept as the API spells them (rest-assets' behaviour before 0.2).

In both, an empty or blank key is ``_empty``; nested fields are joined with ``__``
(``user.displayName`` -> ``user__display_name``) and a list field of table ``t`` is the
child table ``t__<field>``.

Only the name of each key is decided here. Which key keeps a name when several keys of one
table get the same one is decided where the table's columns are known
(:func:`keeper_order`): every value is kept, the others get ``_2``, ``_3``...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal

Naming = Literal["snake_case", "direct"]
NAMINGS: tuple[str, ...] = ("snake_case", "direct")
DEFAULT_NAMING: Naming = "snake_case"

EMPTY_KEY = "_empty"
SEPARATOR = "__"

_REDUCE = str.maketrans("+-*@|", "x_xal")
_NON_ALNUM = re.compile(r"[^a-zA-Z\d_]+")
_CAMEL_1 = re.compile(r"([^_])([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_LEADING_DIGIT = re.compile(r"^\d")
_UNDERSCORES = re.compile(r"__+")


@lru_cache(maxsize=65536)
def _snake_identifier(name: str) -> str:
    """One identifier (no ``__`` inside) in snake_case; ``""`` for a blank one."""
    text = name.strip()
    if not text:
        return ""
    text = _NON_ALNUM.sub("_", text.translate(_REDUCE))
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", text)).lower()
    if _LEADING_DIGIT.match(text):
        text = "_" + text
    stripped = text.rstrip("_")
    text = stripped + "x" * (len(text) - len(stripped))
    return _UNDERSCORES.sub("_", text)


@lru_cache(maxsize=65536)
def _snake_key(key: str) -> str:
    # dlt breaks a key on "__" and normalizes each non-blank fragment
    fragments = [_snake_identifier(f) for f in key.split(SEPARATOR) if f.strip()]
    return SEPARATOR.join(f for f in fragments if f)


def normalize_key(key: str, naming: Naming = DEFAULT_NAMING) -> str:
    """The column-name fragment of one JSON key (never empty: a blank key is ``_empty``)."""
    if naming == "direct":
        return key if key.strip() else EMPTY_KEY
    return _snake_key(key) or EMPTY_KEY


def column_name(path: Sequence[str], naming: Naming = DEFAULT_NAMING) -> str:
    """The column of a (nested) field: its keys from the record's top, each normalized,
    joined with ``__`` (``("user", "displayName")`` -> ``user__display_name``)."""
    return SEPARATOR.join(normalize_key(k, naming) for k in path)


def table_name(name: str, naming: Naming = DEFAULT_NAMING) -> str:
    """The table of a resource (or its ``table_name``): ``Issue Comments`` ->
    ``issue_comments``; kept as written under ``direct``."""
    return normalize_key(name, naming)


def child_table_name(table: str, path: Sequence[str], naming: Naming = DEFAULT_NAMING) -> str:
    """The child table holding the items of list field ``path`` of rows of ``table``
    (``table`` is already a table name): ``posts`` + ``("tags",)`` -> ``posts__tags``."""
    return f"{table}{SEPARATOR}{column_name(path, naming)}"


def column_names(names: Iterable[str], naming: Naming = DEFAULT_NAMING) -> tuple[str, ...]:
    """Columns named by the user (primary key, merge key, hints): each normalized like a key."""
    return tuple(normalize_key(n, naming) for n in names)


def keeper_order(paths: Sequence[Sequence[str]], final: str) -> list[int]:
    """Which of several fields that all became column ``final`` keeps the name: indexes of
    ``paths`` (each field's keys from the top of its table's rows) in the order they get
    ``final``, ``final_2``, ``final_3``...

    The field already spelled as the column name comes first, then the others in code-point
    order of their keys joined with ``__``; between equal spellings (a literal ``a__b`` key
    and a nested ``a.b``) the nested one first, as in dlt. The order depends on the keys
    only, never on which page or record showed a key first.
    """
    joined = [SEPARATOR.join(p) for p in paths]
    return sorted(range(len(paths)), key=lambda i: (joined[i] != final, joined[i], -len(paths[i])))
