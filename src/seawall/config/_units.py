"""Parsers for the units the configuration speaks: durations, percentages,
rates and sizes.

Each parser returns a plain number (seconds, a fraction, calls per second,
bytes) and raises :class:`UnitError` with a message that shows the accepted
spellings, so ``seawall check`` can tell the user exactly what to write.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "UnitError",
    "format_duration",
    "parse_duration",
    "parse_percentage",
    "parse_rate",
    "parse_size",
]


class UnitError(ValueError):
    """A value is not in the unit its key expects."""


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")

_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]i?b|b)", re.IGNORECASE)

_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*(s|sec|m|min|h|d)")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_duration(value: object) -> float:
    """``250ms``, ``2s``, ``5m``, ``1h30m``, ``7d`` -> seconds.

    A bare number is refused unless it is zero: ``timeout: 5`` could mean
    seconds or milliseconds, and guessing wrong turns a timeout into a hang.
    """
    if _is_number(value):
        if value == 0:
            return 0.0
        msg = f"a duration needs a unit: write {value}s, {value}ms or {value}m"
        raise UnitError(msg)
    if not isinstance(value, str):
        msg = "expected a duration such as 250ms, 2s, 5m, 1h or 7d"
        raise UnitError(msg)
    text = value.strip().lower()
    if not _DURATION_WHOLE.fullmatch(text):
        msg = f"'{value}' is not a duration: write e.g. 250ms, 2s, 5m, 1h30m or 7d"
        raise UnitError(msg)
    return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds`` in the config's units."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_percentage(value: object) -> float:
    """``99.9%`` or ``0.999`` -> 0.999; a fraction must lie in [0, 1]."""
    if _is_number(value):
        fraction = float(value)  # type: ignore[arg-type]
        if not 0.0 <= fraction <= 1.0:
            msg = f"{value} is not a fraction between 0 and 1: write {value}% or {fraction / 100:g}"
            raise UnitError(msg)
        return fraction
    if isinstance(value, str):
        text = value.strip()
        try:
            percent = text.endswith("%")
            fraction = float(text[:-1].strip()) / 100.0 if percent else float(text)
        except ValueError:
            fraction = math.nan
        if math.isnan(fraction):
            msg = f"'{value}' is not a percentage: write e.g. 99.9% or 0.999"
            raise UnitError(msg)
        if not 0.0 <= fraction <= 1.0:
            msg = f"'{value}' is outside 0%..100%"
            raise UnitError(msg)
        return fraction
    msg = "expected a percentage such as 99.9% or 0.999"
    raise UnitError(msg)


def parse_rate(value: object) -> float:
    """``100/s``, ``6000/m``, ``10/h`` -> calls per second."""
    if isinstance(value, str):
        match = _RATE.fullmatch(value.strip().lower())
        if match:
            per_second = float(match.group(1)) / _RATE_UNITS[match.group(2)]
            if per_second <= 0:
                msg = f"'{value}' must be more than zero"
                raise UnitError(msg)
            return per_second
    msg = f"'{value}' is not a rate: write e.g. 100/s, 6000/m or 10/h"
    raise UnitError(msg)


def parse_size(value: object) -> int:
    """``10MB``, ``512KiB``, ``1GB`` or a number of bytes -> bytes."""
    if _is_number(value):
        if value < 0 or value != int(value):  # type: ignore[operator, call-overload]
            msg = f"{value} is not a whole, non-negative number of bytes"
            raise UnitError(msg)
        return int(value)  # type: ignore[call-overload, no-any-return]
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match:
            return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    msg = f"'{value}' is not a size: write e.g. 10MB, 512KiB or 1GB"
    raise UnitError(msg)
