"""Breaches: contiguous runs of bad minutes, the evidence a vendor claim needs.

Vendors grant credits against a list of outage intervals ("the dates and
times of each incident", as the AWS and Google Cloud claim procedures ask).
Adjacent bad minutes merge into one breach; a good minute, or a masked
maintenance minute, ends it. Breaches are listed whatever the SLA's
availability measure: a contract counted by calls still needs the intervals.
"""

from __future__ import annotations

import bisect

from seawall.sla._availability import bad_minutes
from seawall.sla._maintenance import MaintenanceMask
from seawall.sla._report import Breach
from seawall.sla._traffic import Traffic

__all__ = ["find_breaches"]


def find_breaches(
    traffic: Traffic,
    start: float,
    end: float,
    *,
    mask: MaintenanceMask | None,
    threshold: float,
) -> tuple[Breach, ...]:
    """Every run of bad minutes in ``[start, end)``, oldest first.

    A run's counts are those of the buckets whose bad minutes it holds; a
    downsampled bucket split by maintenance counts towards its first run.
    """
    pairs = bad_minutes(traffic, start, end, mask=mask, threshold=threshold)
    runs: list[list[int]] = []
    for minute, _ in pairs:
        if runs and minute <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], minute + 60)
        else:
            runs.append([minute, minute + 60])
    starts = [run[0] for run in runs]
    attempts = [0] * len(runs)
    failures = [0] * len(runs)
    seen: set[tuple[int, int]] = set()
    for minute, slot in pairs:
        if (slot.start, slot.width) in seen:
            continue
        seen.add((slot.start, slot.width))
        i = bisect.bisect_right(starts, minute) - 1
        attempts[i] += slot.good + slot.bad
        failures[i] += slot.bad
    return tuple(
        Breach(
            start=float(lo),
            end=float(hi),
            minutes=(hi - lo) // 60,
            attempts=attempts[i],
            failures=failures[i],
            error_rate=failures[i] / attempts[i] if attempts[i] else 0.0,
        )
        for i, (lo, hi) in enumerate(runs)
    )
