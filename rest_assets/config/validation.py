"""Validating config mappings against the models, with errors in the user's words.

Every problem names its field path in the file as written (`sources[0](github).client.base_url`,
`CONFIG.inputs.customers.pagination.page_size`) and says what to do; unknown keys get the
closest accepted key as a hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from rest_assets.config.models import EndpointConfig, ResourceConfig
from rest_assets.errors import ConfigError


def validate_model(model: type[BaseModel], data: Any, origin: str, prefix: str = "") -> Any:
    """`data` validated as `model`; a ConfigError listing every problem with its path
    (after `prefix`, the path of `data` itself in the file)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, data, origin, model, prefix)) from None


def _format_errors(
    exc: ValidationError, data: Any, origin: str, model: type[BaseModel], prefix: str = ""
) -> str:
    lines = [f"{origin}: invalid configuration ({exc.error_count()} problem(s))"]
    for error in exc.errors():
        loc = _user_loc(list(error["loc"]), data)
        path = _describe_path(loc, data)
        if prefix:
            path = prefix if path == "(top level)" else f"{prefix}.{path}"
        lines.append(f"  - {path}: {_explain(error, loc, model)}")
    return "\n".join(lines)


def _user_loc(loc: list[Any], data: Any) -> list[Any]:
    """`loc` without the union member names pydantic inserts ('AuthConfig',
    'function-after[...]'); a part that is a key of the data (`CONFIG`, an input named
    `Customers`) is always kept."""
    out: list[Any] = []
    node = data
    for part in loc:
        if _holds(node, part):
            out.append(part)
            node = node[part]
        elif _is_union_tag(part):
            continue
        else:
            out.append(part)
            node = None
    return out


def _holds(node: Any, part: Any) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or "[" in part)


def _describe_path(loc: list[Any], data: Any) -> str:
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], Mapping):
                name = node[part].get("name")
                if isinstance(name, str):
                    label = f"[{part}]({name})"
            out += label
        else:
            out += f".{part}" if out else str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out or "(top level)"


def _explain(error: Any, loc: list[Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    key = loc[-1] if loc else None
    if kind == "extra_forbidden" and isinstance(key, str):
        return _unknown_key_hint(key, loc, model)
    if kind == "missing":
        return f"required field {key!r} is missing; add it"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"{message} (got {error.get('input')!r})"
    return message


def _unknown_key_hint(key: str, loc: list[Any], model: type[BaseModel]) -> str:
    owner = _model_at(model, loc[:-1])
    allowed = sorted(_field_names(owner)) if owner else []
    hint = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{hint}; did you mean {close[0]!r}?"
    if owner is ResourceConfig and key in _field_names(EndpointConfig):
        return f"{hint} at resource level; move it under endpoint: (endpoint.{key})"
    moved = getattr(owner, "moved_keys", {}).get(key) if owner else None
    if moved:
        return f"{hint} here; it belongs under {moved.split('.')[0]}: ({moved})"
    if allowed:
        return f"{hint}; remove it (accepted here: {', '.join(allowed)})"
    return f"{hint}; remove it"


def _field_names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _model_at(model: type[BaseModel], loc: list[Any]) -> type[BaseModel] | None:
    current: Any = model
    keyed = False  # the previous field is a mapping of names to models: this part is a name
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = _model_in_annotation(field.annotation)
        keyed = getattr(field.annotation, "__origin__", None) is dict
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in_annotation(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in_annotation(arg)
        if found is not None:
            return found
    return None
