"""Planned maintenance as a mask over the minute grid.

Minutes are the intervals ``[m, m + 60)`` with ``m`` a multiple of 60. A
minute is *in maintenance* when any part of it overlaps a window: a window
from 10:00:30 to 10:05:00 masks the minutes 10:00 to 10:04. Rounding outwards
is deliberate -- the errors of a minute that was partly in maintenance cannot
be told apart from the planned ones, and the contract excuses those.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

__all__ = ["MaintenanceMask", "minute_ceil", "minute_floor"]


def minute_floor(ts: float) -> float:
    return float(ts // 60 * 60)


def minute_ceil(ts: float) -> float:
    return float(-(-ts // 60) * 60)


class MaintenanceMask:
    """Merged, minute-aligned maintenance intervals with fast membership."""

    __slots__ = ("_ends", "_starts", "windows")

    def __init__(self, windows: Iterable[tuple[float, float]] = ()) -> None:
        #: the windows as given, in order, without empty ones
        self.windows: tuple[tuple[float, float], ...] = tuple(
            sorted((float(s), float(e)) for s, e in windows if e > s)
        )
        merged: list[list[float]] = []
        for start, end in self.windows:
            lo, hi = minute_floor(start), minute_ceil(end)
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._starts = [lo for lo, _ in merged]
        self._ends = [hi for _, hi in merged]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def excludes(self, minute: float) -> bool:
        """Whether the minute starting at ``minute`` overlaps a window."""
        i = bisect.bisect_right(self._starts, minute) - 1
        return i >= 0 and minute < self._ends[i]

    def minutes(self, start: float, end: float) -> int:
        """How many grid minutes starting in ``[start, end)`` are in maintenance."""
        lo_bound, hi_bound = minute_ceil(start), minute_ceil(end)
        total = 0.0
        for lo, hi in zip(self._starts, self._ends, strict=True):
            total += max(0.0, min(hi, hi_bound) - max(lo, lo_bound))
        return int(total // 60)

    def clipped(self, start: float, end: float) -> tuple[tuple[float, float], ...]:
        """The windows as given that touch ``[start, end)``, clipped to it."""
        return tuple((max(s, start), min(e, end)) for s, e in self.windows if s < end and e > start)
