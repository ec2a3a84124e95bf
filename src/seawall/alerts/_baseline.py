"""Learned normal behaviour: a robust band from history, per hour of the week or day.

:func:`learn` takes (wall time, value) samples and returns the :class:`Band`
a value is judged against: the **median** of the samples and a robust
spread, ``1.4826 x MAD`` (the median absolute deviation, scaled to match a
standard deviation for normal data; Rousseeuw & Croux, "Alternatives to the
Median Absolute Deviation", 1993). Median and MAD ignore the odd outage in
the history, where a mean and a standard deviation would be dragged by it.

Seasonality picks which samples count: with ``hour-of-week`` the samples in
the same hour of the same weekday as ``at`` (Monday 03:00-04:00 is compared
with earlier Mondays 03:00-04:00); with fewer than ``min_samples`` of them,
the same hour of any day; then every sample. Below ``min_samples`` overall
there is no band: the rule is still *learning*, and never fires.

The spread has a floor -- 5% of the median, and an absolute ``floor`` in the
metric's unit -- so a perfectly flat history (an error rate of exactly 0 all
week) does not make every wiggle an anomaly.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from seawall.config import BaselineSpec

__all__ = ["Band", "Direction", "Level", "SlottedSamples", "learn", "slot_of"]

Level = Literal["hour-of-week", "hour-of-day", "none"]
Direction = Literal["above", "below", "both"]

#: MAD x this estimates a standard deviation for normally distributed data
MAD_SCALE = 1.4826
#: the spread is at least this share of the median
RELATIVE_FLOOR = 0.05
_TINY = 1e-12
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """What a value is judged against: the usual value and how far it usually strays."""

    median: float
    sigma: float  #: the robust spread, floored
    mad: float
    samples: int
    level: Level  #: the seasonality the samples were picked by
    slot: str  #: e.g. "Mon 03:00-04:00", "03:00-04:00", "any hour"

    def deviation(self, value: float) -> float:
        """How many spreads ``value`` lies from the median (negative: below)."""
        return (value - self.median) / self.sigma

    def breached(self, value: float, deviations: float, direction: Direction) -> bool:
        """Whether ``value`` lies over ``deviations`` spreads out, on ``direction``'s side."""
        d = self.deviation(value)
        if direction == "above":
            return d > deviations
        if direction == "below":
            return d < -deviations
        return abs(d) > deviations

    def edge(self, deviations: float, direction: Direction, value: float | None = None) -> float:
        """The band's edge the value is held against (for ``both``, on the value's side)."""
        below = direction == "below" or (
            direction == "both" and value is not None and value < self.median
        )
        return (
            self.median - deviations * self.sigma
            if below
            else self.median + deviations * self.sigma
        )

    def as_mapping(self) -> dict[str, float | str]:
        return {
            "median": self.median,
            "sigma": self.sigma,
            "samples": float(self.samples),
            "level": self.level,
            "slot": self.slot,
        }


def slot_of(at: float, tz: tzinfo = UTC) -> tuple[int, int]:
    """(hour of the week, Monday 00:00 = 0; hour of the day) of wall time ``at`` in ``tz``."""
    local = datetime.fromtimestamp(at, tz)
    return local.weekday() * 24 + local.hour, local.hour


class SlottedSamples:
    """Samples sorted by time and grouped by hour of the week and of the day, for :func:`learn`.

    Build it once per history and learn from it for many ``at``: the grouping
    is the costly part.
    """

    __slots__ = ("_all", "_by_day", "_by_week", "tz")

    def __init__(self, samples: Sequence[tuple[float, float]], *, tz: tzinfo = UTC) -> None:
        self.tz = tz
        ordered = sorted(samples)
        self._all = ([t for t, _ in ordered], [v for _, v in ordered])
        self._by_week: dict[int, tuple[list[float], list[float]]] = {}
        self._by_day: dict[int, tuple[list[float], list[float]]] = {}
        for t, v in ordered:
            week, day = slot_of(t, tz)
            for groups, key in ((self._by_week, week), (self._by_day, day)):
                times, values = groups.setdefault(key, ([], []))
                times.append(t)
                values.append(v)

    def __len__(self) -> int:
        return len(self._all[0])

    def select(self, level: Level, slot: int, start: float, end: float) -> list[float]:
        """The values of ``level``'s ``slot`` with a time in ``[start, end)``."""
        if level == "hour-of-week":
            group = self._by_week.get(slot)
        elif level == "hour-of-day":
            group = self._by_day.get(slot)
        else:
            group = self._all
        if group is None:
            return []
        times, values = group
        return values[bisect_left(times, start) : bisect_left(times, end)]

    def learn(self, *, at: float, spec: BaselineSpec, floor: float = 0.0) -> Band | None:
        """The band for ``at`` from the samples in ``[at - spec.window, at)``; see :func:`learn`."""
        week, day = slot_of(at, self.tz)
        levels: list[tuple[Level, int, str]] = []
        if spec.seasonality == "hour-of-week":
            levels.append(("hour-of-week", week, f"{_DAYS[week // 24]} {_hours(day)}"))
        if spec.seasonality in ("hour-of-week", "hour-of-day"):
            levels.append(("hour-of-day", day, _hours(day)))
        levels.append(("none", 0, "any hour"))
        start = at - spec.window
        for level, slot, label in levels:
            values = self.select(level, slot, start, at)
            if len(values) >= spec.min_samples:
                return _band(values, level, label, floor)
        return None


def learn(
    samples: Sequence[tuple[float, float]],
    *,
    at: float,
    spec: BaselineSpec,
    tz: tzinfo = UTC,
    floor: float = 0.0,
) -> Band | None:
    """The band a value at ``at`` is judged against, or None while there is too little history.

    ``samples`` are (wall time, value); only those in ``[at - spec.window, at)``
    count. ``floor`` is the smallest spread, in the metric's unit.
    """
    return SlottedSamples(samples, tz=tz).learn(at=at, spec=spec, floor=floor)


def _band(values: list[float], level: Level, slot: str, floor: float) -> Band:
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    sigma = max(MAD_SCALE * mad, RELATIVE_FLOOR * abs(median), floor, _TINY)
    return Band(median=median, sigma=sigma, mad=mad, samples=len(values), level=level, slot=slot)


def _hours(hour: int) -> str:
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"
