"""Per-day points for the HTML charts: availability and latency percentiles per UTC day."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.config import AvailabilityObjective, Sla
from seawall.sla._availability import DEFAULT_BAD_MINUTE_THRESHOLD, Measure, tally
from seawall.sla._build import excludes_maintenance, provider_rows
from seawall.sla._latency import latency_quantile, sum_histograms
from seawall.sla._maintenance import MaintenanceMask
from seawall.sla._periods import iso
from seawall.sla._report import DailyPoint
from seawall.sla._traffic import aggregate, kept
from seawall.store import RollupRow

__all__ = ["daily_series"]


def daily_series(
    rows: Sequence[RollupRow],
    start: float,
    end: float,
    *,
    sla: Sla | None = None,
    maintenance: Sequence[tuple[float, float]] = (),
    bad_minute_threshold: float = DEFAULT_BAD_MINUTE_THRESHOLD,
) -> tuple[DailyPoint, ...]:
    """One point per UTC day in ``[start, end)`` (the first and last may be partial).

    With ``sla``, only its provider's rows are read and availability is in its
    first availability objective's measure, with maintenance excused as it
    says; without, every row counts, by calls, maintenance included.
    """
    measure: Measure = "calls"
    excused = False
    if sla is not None:
        rows = provider_rows(sla, rows)
        excused = excludes_maintenance(sla)
        for objective in sla.objectives:
            if isinstance(objective, AvailabilityObjective):
                measure = objective.measure
                break
    traffic = aggregate(rows)
    mask = MaintenanceMask(maintenance) if excused else None
    points = []
    day_start = start
    while day_start < end:
        day_end = min(end, (day_start // 86400 + 1) * 86400)
        counts = tally(
            traffic, day_start, day_end, measure=measure, mask=mask, threshold=bad_minute_threshold
        )
        day_slots, _ = kept(traffic.in_range(day_start, day_end), mask)
        histogram = sum_histograms(day_slots)
        points.append(
            DailyPoint(
                day=iso(day_start)[:10],
                start=day_start,
                end=day_end,
                availability=float(counts.availability),
                good=counts.good,
                bad=counts.bad,
                p50=latency_quantile(histogram, 0.50),
                p95=latency_quantile(histogram, 0.95),
                p99=latency_quantile(histogram, 0.99),
            )
        )
        day_start = day_end
    return tuple(points)
