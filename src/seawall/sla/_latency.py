"""Latency objectives read off the summed histogram.

Rollup rows keep per-bucket counts over :data:`~seawall.store.LATENCY_BOUNDS`,
so histograms add up exactly. The share of calls at or under a threshold is
exact when the threshold is a bucket bound; otherwise it is interpolated
linearly inside the bucket that holds it and flagged approximate. Quantiles
follow Prometheus' ``histogram_quantile``
(https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile):
linear interpolation within the bucket, a lower bound of 0 for the first
bucket, and the highest finite bound when the rank falls in the open bucket.

The histogram counts every attempt's duration (throttled ones too: a 429 is
still an answer the caller waited for).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

from seawall.config import LatencyObjective
from seawall.sla._budget import budget_remaining
from seawall.sla._exact import exact
from seawall.sla._report import LatencyResult, LatencySummary
from seawall.sla._traffic import Slot
from seawall.store import LATENCY_BOUNDS

__all__ = [
    "evaluate_latency",
    "latency_quantile",
    "latency_share",
    "sum_histograms",
    "summarize_latency",
]


def sum_histograms(slots: Iterable[Slot]) -> tuple[int, ...]:
    """The bucket-by-bucket sum of the slots' latency histograms."""
    columns = zip(*(slot.latency for slot in slots), strict=True)
    return tuple(map(sum, columns)) or (0,) * (len(LATENCY_BOUNDS) + 1)


def _check(histogram: Sequence[int], bounds: Sequence[float]) -> None:
    if len(histogram) != len(bounds) + 1:
        want, got = len(bounds) + 1, len(histogram)
        msg = f"a histogram over {len(bounds)} bounds has {want} counts, not {got}"
        raise ValueError(msg)


def latency_share(
    histogram: Sequence[int], threshold: float, bounds: Sequence[float] = LATENCY_BOUNDS
) -> tuple[float, bool]:
    """Calls at or under ``threshold`` seconds, and whether that was interpolated.

    Beyond the last finite bound the open bucket cannot be split: its calls
    count as over the threshold and the answer is flagged approximate.
    """
    _check(histogram, bounds)
    below = 0
    lower = 0.0
    for count, upper in zip(histogram, bounds, strict=False):
        if math.isclose(threshold, upper, rel_tol=1e-9):
            return float(below + count), False
        if threshold < upper:
            return below + count * (threshold - lower) / (upper - lower), True
        below += count
        lower = upper
    return float(below), True


def latency_quantile(
    histogram: Sequence[int], q: float, bounds: Sequence[float] = LATENCY_BOUNDS
) -> float | None:
    """The ``q``-quantile (0..1) in seconds, as ``histogram_quantile`` reads it; None if empty."""
    _check(histogram, bounds)
    if not 0.0 <= q <= 1.0:
        msg = f"a quantile lies in [0, 1], not {q}"
        raise ValueError(msg)
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    below = 0
    lower = 0.0
    for count, upper in zip(histogram, bounds, strict=False):
        if count and below + count >= rank:
            return lower + (upper - lower) * (rank - below) / count
        below += count
        lower = upper
    return float(bounds[-1])


def summarize_latency(slots: Sequence[Slot]) -> LatencySummary:
    """Count, mean and p50/p95/p99 over ``slots``."""
    histogram = sum_histograms(slots)
    count = sum(histogram)
    return LatencySummary(
        count=count,
        mean=sum(s.latency_sum for s in slots) / count if count else None,
        p50=latency_quantile(histogram, 0.50),
        p95=latency_quantile(histogram, 0.95),
        p99=latency_quantile(histogram, 0.99),
    )


def evaluate_latency(objective: LatencyObjective, histogram: Sequence[int]) -> LatencyResult:
    """The objective is met when the share at or under its threshold reaches its target."""
    count = sum(histogram)
    within, approximate = latency_share(histogram, objective.threshold)
    share = Fraction(within) / count if count else Fraction(1)
    return LatencyResult(
        percentile=objective.percentile,
        threshold=objective.threshold,
        target=objective.target,
        value=float(share),
        met=share >= exact(objective.target),
        within=within,
        count=count,
        percentile_value=latency_quantile(histogram, objective.percentile / 100),
        approximate=approximate,
        no_traffic=count == 0,
        budget_remaining=budget_remaining(objective.target, 1 - share),
    )
