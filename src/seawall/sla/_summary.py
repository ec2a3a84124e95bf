"""Reports from a rollup summary: the same :class:`SlaReport` without reading every row.

A month of one provider is ~43,000 minute rows; pulling them into Python is
far slower than letting the database add them up. The store's
``Rollups.sla_summary`` therefore returns a *summary* of the rows
:func:`build_report` would read:

* ``stretches`` -- the rows summed per stretch between the cuts of
  :func:`summary_request` (each UTC midnight, each burn-rate window's start);
* ``detail`` -- the rows a sum cannot stand for, as they are: every hour row
  that stands for downsampled minutes, every minute that may be bad, and every
  minute in a maintenance window.

:func:`summary_rows` turns a summary back into rows that measure the same:
the detail rows, plus one row per stretch holding the rest of its sum. That
rest is the sum of minutes that are neither bad nor in maintenance, so it is
itself not bad (a sum of rows each under the threshold is under it too), and
it is placed on a minute of its stretch that is not in maintenance and holds
no detail row. Every number a report shows -- a sum over the period, a burn
window or a day, a count of bad minutes, a breach, a minute or call left out
for maintenance -- is therefore the same from these rows as from all of them,
and :func:`build_summary_report` simply hands them to :func:`build_report`.

:func:`summary_daily_series` does the same for the HTML charts: the summary
is cut at each UTC midnight, so each day's availability (by calls or by
minutes, maintenance excused as the SLA says) and latency percentiles are
exactly those :func:`daily_series` reads from every row.

One approximation is inherited from floats: ``latency_sum`` (seconds, a
float) is added up in another order, so the mean latency can differ from the
row path's in its last bits. Every count, ratio, quantile and verdict is exact.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from seawall.config import Sla
from seawall.sla._budget import BURN_WINDOWS
from seawall.sla._build import build_report
from seawall.sla._maintenance import MaintenanceMask
from seawall.sla._report import DailyPoint, SlaReport
from seawall.sla._series import daily_series
from seawall.store import RollupRow

__all__ = [
    "Summary",
    "SummaryRequest",
    "build_summary_report",
    "summary_daily_series",
    "summary_request",
    "summary_rows",
]

_DAY = 86400
_MINUTE = 60
_COUNTS = (
    "attempts",
    "success",
    "final",
    "throttled",
    "failure",
    "timeout",
    "connect_error",
    "rejected",
    "calls",
    "retries",
    "failovers",
)


class Summary(Protocol):
    """What the store's ``Rollups.sla_summary`` returns (a ``RollupSummary``)."""

    @property
    def integration(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def bad_minute_threshold(self) -> float: ...
    @property
    def maintenance(self) -> Sequence[tuple[float, float]]: ...
    @property
    def stretches(self) -> Sequence[RollupRow]: ...
    @property
    def detail(self) -> Sequence[RollupRow]: ...


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    """The range and cuts to ask ``Rollups.sla_summary`` for."""

    start: float  #: the period's start
    end: float  #: the measured end: ``min(period_end, now)``, not before the start
    splits: tuple[float, ...]  #: each UTC midnight and burn-rate window start inside


def summary_request(period_start: float, period_end: float, *, now: float) -> SummaryRequest:
    """Where a summary for a report (and its daily series) over the period must be cut."""
    measured_end = min(period_end, max(period_start, now))
    cuts = {max(period_start, measured_end - window) for _, window in BURN_WINDOWS}
    midnight = (period_start // _DAY + 1) * _DAY
    while midnight < measured_end:
        cuts.add(midnight)
        midnight += _DAY
    inside = sorted(cut for cut in cuts if period_start < cut < measured_end)
    return SummaryRequest(period_start, measured_end, tuple(inside))


def _rest(total: RollupRow, parts: Sequence[RollupRow]) -> RollupRow | None:
    """``total`` minus ``parts``; None when nothing is left."""
    counts = {name: getattr(total, name) - sum(getattr(p, name) for p in parts) for name in _COUNTS}
    latency = tuple(
        count - sum(p.latency[i] for p in parts) for i, count in enumerate(total.latency)
    )
    if min(*counts.values(), *latency) < 0:
        msg = (
            f"summary of {total.integration}/{total.provider}: the detail rows of "
            f"[{total.start}, {total.start + total.width}) exceed the stretch's sum"
        )
        raise ValueError(msg)
    if not any(counts.values()) and not any(latency):
        return None
    latency_sum = total.latency_sum - sum(p.latency_sum for p in parts)
    return replace(total, **counts, latency=latency, latency_sum=latency_sum)


def _free_minute(start: int, end: int, mask: MaintenanceMask, taken: set[int]) -> int | None:
    """The first minute in ``[start, end)`` outside maintenance that holds no detail row."""
    minute = -(-start // _MINUTE) * _MINUTE
    while minute < end:
        if minute not in taken and not mask.excludes(minute):
            return minute
        minute += _MINUTE
    return None


def summary_rows(summary: Summary) -> list[RollupRow]:
    """Rows that :func:`build_report` and :func:`daily_series` measure as the summarised ones.

    Valid for any period and days cut where the summary is (see the module
    docstring); raises ValueError when the summary is inconsistent.
    """
    mask = MaintenanceMask(summary.maintenance)
    detail = sorted(summary.detail, key=lambda r: (r.start, r.width))
    starts = [r.start for r in detail]
    taken = {r.start for r in detail if r.width == _MINUTE}
    rows = list(detail)
    for stretch in summary.stretches:
        end = stretch.start + stretch.width
        inside = detail[bisect.bisect_left(starts, stretch.start) : bisect.bisect_left(starts, end)]
        rest = _rest(stretch, inside)
        if rest is None:
            continue
        minute = _free_minute(stretch.start, end, mask, taken)
        if minute is None:
            msg = (
                f"summary of {summary.integration}/{summary.provider}: counts in "
                f"[{stretch.start}, {end}) that no minute outside maintenance can hold"
            )
            raise ValueError(msg)
        rows.append(replace(rest, start=minute, width=_MINUTE))
    rows.sort(key=lambda r: (r.start, r.width))
    return rows


def _check(summary: Summary, sla: Sla, start: float, end: float, cuts: set[float]) -> None:
    """ValueError unless ``summary`` is of the SLA's provider, covers the range and is cut."""
    if f"{summary.integration}/{summary.provider}" != sla.provider:
        msg = f"the summary is of {summary.integration}/{summary.provider}, not {sla.provider}"
        raise ValueError(msg)
    if (summary.start, summary.end) != (math.ceil(start), math.ceil(end)):
        msg = (
            f"the summary covers [{summary.start}, {summary.end}), "
            f"not [{math.ceil(start)}, {math.ceil(end)}) as needed"
        )
        raise ValueError(msg)
    bounds = {s.start for s in summary.stretches} | {summary.end}
    missing = sorted({math.ceil(cut) for cut in cuts if start < cut < end} - bounds)
    if missing:
        msg = f"the summary is not cut at {missing[:5]} (see summary_request)"
        raise ValueError(msg)


def build_summary_report(
    sla_name: str,
    sla: Sla,
    summary: Summary,
    *,
    period_start: float,
    period_end: float,
    now: float,
) -> SlaReport:
    """:func:`build_report` over the rows ``summary`` stands for: the same report.

    ``summary`` must be ``Rollups.sla_summary`` over :func:`summary_request`'s
    range and splits (its maintenance windows and bad-minute threshold are the
    report's). Raises ValueError for a summary of another provider, range, or
    without the burn-rate windows' cuts.
    """
    if period_end <= period_start:
        msg = f"a period must end after it starts ({period_start} .. {period_end})"
        raise ValueError(msg)
    wanted = summary_request(period_start, period_end, now=now)
    burns = {max(period_start, wanted.end - window) for _, window in BURN_WINDOWS}
    _check(summary, sla, wanted.start, wanted.end, burns)
    return build_report(
        sla_name,
        sla,
        summary_rows(summary),
        summary.maintenance,
        period_start=period_start,
        period_end=period_end,
        now=now,
        bad_minute_threshold=summary.bad_minute_threshold,
    )


def summary_daily_series(
    summary: Summary, start: float, end: float, *, sla: Sla
) -> tuple[DailyPoint, ...]:
    """:func:`daily_series` with ``sla`` over the rows ``summary`` stands for: the same points.

    ``[start, end)`` is the summary's range; exact, as the summary is cut at
    each UTC midnight. Raises ValueError when it is not.
    """
    midnights = set()
    midnight = (start // _DAY + 1) * _DAY
    while midnight < end:
        midnights.add(midnight)
        midnight += _DAY
    _check(summary, sla, start, end, midnights)
    return daily_series(
        summary_rows(summary),
        start,
        end,
        sla=sla,
        maintenance=summary.maintenance,
        bad_minute_threshold=summary.bad_minute_threshold,
    )
