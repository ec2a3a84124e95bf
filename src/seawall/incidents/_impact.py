"""When harm began: the start of the run of failing minutes that led up to an alarm.

An alert fires after its ``for:`` and a breaker opens after its window has
filled, so the vendor was failing before anyone was told. The minute rollups
show since when: walking back from the alarm's minute over at most
:data:`LOOKBACK` seconds, each minute with a vendor fault (failure, timeout,
connect error) extends the run, a minute of vendor traffic without a fault
ends it, and a minute without vendor traffic (nobody called, or every call
was refused while a breaker was open) neither extends nor ends it. The
impact started at the first minute of that run.

A lone fault long before the alarm, with healthy minutes after it, is not
the start of this outage, so it is not counted: that would only inflate the
time to detect.
"""

from __future__ import annotations

from collections.abc import Iterable

from seawall.store import RollupRow

__all__ = ["LOOKBACK", "failing_since", "lookback_range"]

#: how far before an alarm the rollups are searched for the first failing minute
LOOKBACK = 30 * 60.0
_MINUTE = 60


def lookback_range(at: float) -> tuple[int, int]:
    """The minute rows to read for an alarm at ``at``: ``[start, end)`` in Unix seconds,
    the :data:`LOOKBACK` before it and the alarm's own minute."""
    minute = int(at // _MINUTE * _MINUTE)
    return int((at - LOOKBACK) // _MINUTE * _MINUTE), minute + _MINUTE


def failing_since(rows: Iterable[RollupRow], at: float) -> float | None:
    """The start of the run of failing minutes reaching the alarm at ``at``, or None.

    ``rows`` are minute rollups of the affected integration(s), any providers;
    rows outside :func:`lookback_range` are ignored.
    """
    low, high = lookback_range(at)
    good: dict[int, int] = {}
    bad: dict[int, int] = {}
    for row in rows:
        if row.width != _MINUTE or not low <= row.start < high:
            continue
        good[row.start] = good.get(row.start, 0) + row.vendor_good
        bad[row.start] = bad.get(row.start, 0) + row.vendor_bad
    since: int | None = None
    for minute in sorted(set(good) | set(bad), reverse=True):
        if bad[minute] > 0:
            since = minute
        elif good[minute] > 0:
            break
    return None if since is None else float(since)
