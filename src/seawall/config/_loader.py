"""Loading a configuration: YAML -> interpolation -> model -> references.

:func:`check_config` returns every finding; :func:`load_config` returns a frozen
:class:`~seawall.config.Config` or raises :class:`~seawall.ConfigError` carrying
those findings. Neither lets a traceback reach the user.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from seawall._errors import ConfigError
from seawall.config._fields import STRICT_UNITS
from seawall.config._findings import Finding, FindingCode
from seawall.config._model import Config
from seawall.config._refs import check_references, did_you_mean
from seawall.config._source import Source, _Unresolved, parse_source, read_source

__all__ = ["check_config", "check_text", "load_config"]

Loc = tuple[str | int, ...]

_TYPE_ERRORS = {
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "string_type",
    "dict_type",
    "list_type",
    "tuple_type",
    "model_type",
    "model_attributes_type",
    "is_instance_of",
    "none_required",
    "type",
}


def check_config(
    path: str | Path, *, env: Mapping[str, str] | None = None, check_imports: bool = True
) -> tuple[Config | None, list[Finding]]:
    """Read, validate and cross-check ``path``: the config (if valid) and every finding."""
    return _check(read_source(path, env=env), check_imports=check_imports)


def check_text(
    text: str,
    *,
    file: str = "<config>",
    env: Mapping[str, str] | None = None,
    check_imports: bool = True,
) -> tuple[Config | None, list[Finding]]:
    """Like :func:`check_config` for YAML already in memory."""
    return _check(parse_source(text, file=file, env=env), check_imports=check_imports)


def load_config(
    path: str | Path, *, env: Mapping[str, str] | None = None, check_imports: bool = True
) -> Config:
    """A valid, frozen :class:`Config` from ``path``, or :class:`ConfigError`."""
    config, findings = check_config(path, env=env, check_imports=check_imports)
    if config is None or findings:
        count = len(findings)
        summary = "\n".join(str(f) for f in findings[:20])
        msg = f"{path}: {count} problem{'s' if count != 1 else ''} in the configuration\n{summary}"
        raise ConfigError(msg, tuple(findings))
    config._origin = str(path)
    return config


def _check(source: Source, *, check_imports: bool) -> tuple[Config | None, list[Finding]]:
    if source.data is None:
        return None, sorted(set(source.findings), key=_order)
    config: Config | None = None
    if not isinstance(source.data, dict):
        source.add(
            (),
            FindingCode.TYPE,
            "the top level must be a mapping of sections (version:, integrations:, ...)",
        )
    else:
        try:
            config = Config.model_validate(source.data, context={STRICT_UNITS: True})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                _translate(source, error)
        check_references(source, check_imports=check_imports)
    findings = sorted(set(source.findings), key=_order)
    return (config if not findings else None), findings


def _order(finding: Finding) -> tuple[int, str, str]:
    return (finding.line, finding.key_path, finding.message)


def _has(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _data_path(data: Any, loc: Loc) -> tuple[Loc, bool]:
    """Map a pydantic ``loc`` onto the data: drop union tags, keep real keys.

    The second value says whether the whole path exists in the data.
    """
    path: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        if _has(current, part):
            current = current[part]
            path.append(part)
        elif i == len(loc) - 1:
            path.append(part)
            return tuple(path), False
    return tuple(path), True


def _value_at(data: Any, path: Loc) -> Any:
    current = data
    for part in path:
        if not _has(current, part):
            return None
        current = current[part]
    return current


def _unresolved_under(data: Any, path: Loc) -> bool:
    return _contains_unresolved(_value_at(data, path))


def _contains_unresolved(value: Any) -> bool:
    if isinstance(value, _Unresolved):
        return True
    if isinstance(value, dict):
        return any(_contains_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unresolved(v) for v in value)
    return False


def _translate(source: Source, error: ErrorDetails) -> None:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    path, _ = _data_path(source.data, loc)
    if _unresolved_under(source.data, path):
        return  # the unset variable or unreadable file is already reported there
    message = error["msg"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed = _allowed_keys(loc[:-1])
        source.add(
            path, FindingCode.UNKNOWN_KEY, f"unknown key '{key}'{did_you_mean(key, allowed)}"
        )
        return
    if kind == "missing":
        source.findings.append(
            Finding(
                source.file,
                source.line_of(path[:-1]),
                path,
                FindingCode.MISSING,
                f"required key '{path[-1]}' is missing",
            )
        )
        return
    if kind == "union_tag_not_found":
        tag = str(error.get("ctx", {}).get("discriminator", "type")).strip("'")
        source.findings.append(
            Finding(
                source.file,
                source.line_of(path),
                (*path, tag),
                FindingCode.MISSING,
                f"required key '{tag}' is missing",
            )
        )
        return
    if kind == "too_short":
        minimum = error.get("ctx", {}).get("min_length", 1)
        actual = _value_at(source.data, path)
        if isinstance(actual, list | dict) and len(actual) >= minimum:
            return  # pydantic's echo of an item that failed on its own; reported there
        source.add(
            path, FindingCode.VALUE, f"needs at least {minimum} item{'s' if minimum != 1 else ''}"
        )
        return
    if kind in ("union_tag_invalid", "literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected_tags") or error.get("ctx", {}).get(
            "expected", ""
        )
        given = _shown_input(source, path, error.get("input"))
        source.add(path, FindingCode.VALUE, f"{given}must be one of {expected}")
        return
    if kind == "unit":
        code = FindingCode.UNIT
    elif kind in _TYPE_ERRORS:
        code = FindingCode.TYPE
        message = _type_message(kind, message)
    else:
        code = FindingCode.VALUE
        if kind not in ("value",):
            message = f"{_shown_input(source, path, error.get('input'))}{_lower_first(message)}"
    source.add(path, code, _scrub(source, path, message))


def _lower_first(text: str) -> str:
    text = text.removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


def _type_message(kind: str, message: str) -> str:
    words = {
        "int_type": "expected a whole number",
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number, not a fraction",
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "string_type": "expected a string",
        "dict_type": "expected a mapping (key: value)",
        "model_type": "expected a mapping (key: value)",
        "model_attributes_type": "expected a mapping (key: value)",
        "list_type": "expected a list (- item)",
        "tuple_type": "expected a list (- item)",
    }
    return words.get(kind, _lower_first(message))


def _shown_input(source: Source, path: Loc, value: Any) -> str:
    """Echo short scalar inputs, never ones that came from the environment."""
    if path in source.interpolated or isinstance(value, dict | list) or value is None:
        return ""
    text = repr(value) if isinstance(value, str) else str(value)
    return f"{text} is wrong: " if len(text) <= 60 else ""


def _scrub(source: Source, path: Loc, message: str) -> str:
    value = source.interpolated.get(path)
    if value and value in message:
        message = message.replace(value, "<value from the environment>")
    return message


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys a mapping at ``loc`` may hold, found by walking the model types."""
    target: Any = Config
    for part in loc:
        target = _step(target, part)
        if target is None:
            return []
    models = _models_in(target)
    keys: list[str] = []
    for model in models:
        for name, field in model.model_fields.items():
            keys.append(field.alias or name)
    return keys


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def _models_in(tp: Any) -> list[type[BaseModel]]:
    return [t for t in _unwrap(tp) if isinstance(t, type) and issubclass(t, BaseModel)]


def _step(tp: Any, part: str | int) -> Any:
    for candidate in _unwrap(tp):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, field in candidate.model_fields.items():
                if part in (name, field.alias):
                    return field.annotation
            # a discriminated-union tag: pick the member whose 'type'/'metric' literal matches
            continue
        origin = typing.get_origin(candidate)
        args = typing.get_args(candidate)
        if origin is dict and isinstance(part, str):
            return args[1]
        if origin in (tuple, list) and isinstance(part, int):
            return args[0]
    members = _models_in(tp)
    for model in members:
        for field in model.model_fields.values():
            if typing.get_origin(field.annotation) is typing.Literal and part in typing.get_args(
                field.annotation
            ):
                return model
    return None
