"""Response-shape faults: schema drift and truncated JSON.

Vendors change response shapes without notice (a renamed field, a number that
becomes a string, a removed member), and proxies cut bodies short. These pure
functions rewrite a response body the way that happens, so contract checks
and parsers can be tested against it.

A field path is dot-separated (``main.temp``); a numeric segment indexes a
list, and a list met on the way is walked element by element, so
``weather.main`` reaches ``main`` in every element of ``weather``.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["apply_drift", "convert_json_type", "malformed_body"]

_FALLBACK_TRUNCATED = b'{"data": [{"id": "'


def apply_drift(
    document: Any,
    *,
    rename: Mapping[str, str] = {},
    remove: Sequence[str] = (),
    retype: Mapping[str, str] = {},
) -> Any:
    """A drifted copy of ``document``: renames first, then removals, then type changes."""
    drifted = copy.deepcopy(document)
    for path, new_name in rename.items():
        for parent, name in list(_targets(drifted, path.split("."))):
            parent[new_name] = parent.pop(name)
    for path in remove:
        for parent, name in list(_targets(drifted, path.split("."))):
            del parent[name]
    for path, json_type in retype.items():
        for parent, name in list(_targets(drifted, path.split("."))):
            parent[name] = convert_json_type(parent[name], json_type)
    return drifted


def convert_json_type(value: Any, json_type: str) -> Any:
    """``value`` as the JSON type named, the way a careless vendor release would send it."""
    if json_type == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if json_type in {"number", "integer"}:
        number = _as_number(value)
        return int(number) if json_type == "integer" else float(number)
    if json_type == "boolean":
        return bool(value)
    if json_type == "null":
        return None
    if json_type == "array":
        return value if isinstance(value, list) else [value]
    if json_type == "object":
        return value if isinstance(value, dict) else {"value": value}
    msg = f"unknown JSON type {json_type!r}"
    raise ValueError(msg)


def malformed_body(body: bytes) -> bytes:
    """A prefix of ``body`` that no JSON parser accepts."""
    candidate = body[: len(body) // 2] if body.strip() else b""
    if not candidate.strip():
        return _FALLBACK_TRUNCATED
    try:
        json.loads(candidate)
    except ValueError:
        return candidate
    return candidate + _FALLBACK_TRUNCATED


def _targets(node: Any, parts: list[str]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every ``(parent, name)`` the path reaches; a list is walked element by element."""
    if isinstance(node, list):
        head = parts[0]
        if head.isdigit():
            index = int(head)
            if len(parts) > 1 and index < len(node):
                yield from _targets(node[index], parts[1:])
            return
        for item in node:
            yield from _targets(item, parts)
        return
    if not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head not in node:
        return
    if rest:
        yield from _targets(node[head], rest)
    else:
        yield node, head


def _as_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return 0.0
        return number if math.isfinite(number) else 0.0
    return 0.0
