"""Rollup rows summed per time bucket: the one view every calculation reads.

Rows with the same ``(start, width)`` are added together (a report covers one
provider, but any number of rows may share a bucket); rows of different
widths are assumed not to overlap, which is what downsampling guarantees.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from seawall.sla._maintenance import MaintenanceMask
from seawall.sla._report import Totals
from seawall.store import LATENCY_BOUNDS, RollupRow

__all__ = ["Slot", "Traffic", "aggregate", "kept", "totals"]

_EMPTY_LATENCY = (0,) * (len(LATENCY_BOUNDS) + 1)


@dataclass(frozen=True, slots=True)
class Slot:
    """One time bucket's vendor counts, summed over the rows that share it."""

    start: int
    width: int
    attempts: int = 0
    good: int = 0
    bad: int = 0
    throttled: int = 0
    rejected: int = 0
    latency_sum: float = 0.0
    latency: tuple[int, ...] = _EMPTY_LATENCY

    @property
    def end(self) -> int:
        return self.start + self.width

    def minute_starts(self) -> range:
        return range(self.start - self.start % 60, self.end, 60)


@dataclass(frozen=True, slots=True)
class Traffic:
    """Slots ordered by start, with range look-ups in O(log n)."""

    slots: tuple[Slot, ...] = ()
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)
    _widest: int = field(default=60, repr=False, compare=False)

    def in_range(self, start: float, end: float) -> list[Slot]:
        """The slots whose bucket starts in ``[start, end)``."""
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_left(self._starts, end)
        return list(self.slots[lo:hi])

    def overlapping(self, start: float, end: float) -> list[Slot]:
        """The slots whose bucket shares any time with ``[start, end)``."""
        lo = bisect.bisect_right(self._starts, start - self._widest)
        hi = bisect.bisect_left(self._starts, end)
        return [s for s in self.slots[lo:hi] if s.end > start]


def aggregate(rows: Iterable[RollupRow]) -> Traffic:
    """Sum ``rows`` per ``(start, width)``, ordered by start."""
    sums: dict[tuple[int, int], list[float]] = {}
    hist: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        key = (row.start, row.width)
        acc = sums.get(key)
        if acc is None:
            sums[key] = [
                row.attempts,
                row.vendor_good,
                row.vendor_bad,
                row.throttled,
                row.rejected,
                row.latency_sum,
            ]
            hist[key] = list(row.latency)
            continue
        acc[0] += row.attempts
        acc[1] += row.vendor_good
        acc[2] += row.vendor_bad
        acc[3] += row.throttled
        acc[4] += row.rejected
        acc[5] += row.latency_sum
        hist[key] = [a + b for a, b in zip(hist[key], row.latency, strict=True)]
    slots = tuple(
        Slot(
            start=start,
            width=width,
            attempts=int(acc[0]),
            good=int(acc[1]),
            bad=int(acc[2]),
            throttled=int(acc[3]),
            rejected=int(acc[4]),
            latency_sum=acc[5],
            latency=tuple(hist[start, width]),
        )
        for (start, width), acc in sorted(sums.items())
    )
    return Traffic(slots, [s.start for s in slots], max((s.width for s in slots), default=60))


def kept(slots: Sequence[Slot], mask: MaintenanceMask | None) -> tuple[list[Slot], bool]:
    """``slots`` without those in maintenance, and whether the cut was approximate.

    A minute bucket is dropped when its minute is masked. A wider (downsampled)
    bucket is dropped only when every one of its minutes is masked; one that is
    partly masked is kept whole and the answer is flagged approximate.
    """
    if not mask:
        return list(slots), False
    out: list[Slot] = []
    approximate = False
    for slot in slots:
        if slot.width == 60 and slot.start % 60 == 0:  # a minute row: one look-up
            if not mask.excludes(slot.start):
                out.append(slot)
            continue
        minutes = slot.minute_starts()
        masked = sum(mask.excludes(m) for m in minutes)
        if masked == len(minutes):
            continue
        approximate = approximate or masked > 0
        out.append(slot)
    return out, approximate


def totals(slots: Sequence[Slot]) -> Totals:
    """Raw counts over ``slots`` (maintenance included)."""
    return Totals(
        attempts=sum(s.attempts for s in slots),
        good=sum(s.good for s in slots),
        bad=sum(s.bad for s in slots),
        throttled=sum(s.throttled for s in slots),
        rejected=sum(s.rejected for s in slots),
    )
