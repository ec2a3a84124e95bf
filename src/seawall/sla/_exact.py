"""Percentages as exact fractions, so contract boundaries compare exactly.

``99.9%`` parsed from YAML is the float ``0.9990000000000001``; a month with
exactly 0.1% bad minutes measures ``999/1000``. Compared as floats, that month
would land in the wrong credit tier. Every target, tier and threshold is read
to 12 decimal places (far finer than any contract writes) and compared with
the measured ratio as a :class:`fractions.Fraction`.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["PLACES", "exact"]

#: decimal places a configured percentage is read to
PLACES = 12


def exact(fraction: float) -> Fraction:
    """The configured fraction ``0.9998999999999999`` as exactly ``9999/10000``."""
    return Fraction(f"{fraction:.{PLACES}f}")
