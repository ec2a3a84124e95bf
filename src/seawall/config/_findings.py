"""Findings: one problem in a configuration, located by file, line and key path."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Finding", "FindingCode", "format_path"]


class FindingCode(enum.Enum):
    """The class of a configuration problem; stable names for tools and tests."""

    SYNTAX = "syntax"  #: the YAML itself does not parse
    FILE = "file"  #: the file (or a ${file:...} it names) cannot be read
    UNKNOWN_KEY = "unknown-key"  #: a key seawall does not know
    DUPLICATE_KEY = "duplicate-key"  #: the same key twice in one mapping
    DUPLICATE_NAME = "duplicate-name"  #: two list items share a name
    MISSING = "missing"  #: a required key is absent
    TYPE = "type"  #: a value of the wrong type
    UNIT = "unit"  #: a duration, percentage, rate or size in a wrong unit
    VALUE = "value"  #: a value of the right type that is not allowed
    UNSET_VARIABLE = "unset-variable"  #: ${VAR} names an unset environment variable
    REFERENCE = "reference"  #: a name that points at nothing
    IMPORT = "import"  #: an adapter import path that does not resolve


def format_path(path: tuple[str | int, ...]) -> str:
    """``("integrations", "payments", "providers", 0, "name")`` ->
    ``integrations.payments.providers[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem: where it is, what class it is, and what to do about it."""

    file: str
    line: int
    path: tuple[str | int, ...]
    code: FindingCode
    message: str

    @property
    def key_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key_path}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.key_path,
            "code": self.code.value,
            "message": self.message,
        }
