"""Tests for seawall.sla._latency: threshold shares and histogram quantiles."""

from __future__ import annotations

import pytest

from seawall.config import Sla
from seawall.sla import LatencyResult, build_report, latency_quantile, latency_share, month_bounds
from seawall.store import LATENCY_BOUNDS, RollupRow

START, END = month_bounds("2026-11")


def histogram(**by_bound: int) -> tuple[int, ...]:
    """Counts keyed by bucket upper bound in ms (``b750=3``), ``inf`` for the open bucket."""
    counts = [0] * (len(LATENCY_BOUNDS) + 1)
    for key, n in by_bound.items():
        index = len(LATENCY_BOUNDS) if key == "inf" else LATENCY_BOUNDS.index(int(key[1:]) / 1000)
        counts[index] = n
    return tuple(counts)


def latency_sla(threshold: str, target: str = "99%") -> Sla:
    return Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [
                {"metric": "latency", "percentile": 95, "threshold": threshold, "target": target}
            ],
        }
    )


def latency_result(contract: Sla, hist: tuple[int, ...]) -> LatencyResult:
    rows = [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(START),
            width=60,
            attempts=sum(hist),
            success=sum(hist),
            latency=hist,
        )
    ]
    report = build_report("t", contract, rows, period_start=START, period_end=END, now=END)
    result = report.objectives[0]
    assert isinstance(result, LatencyResult)
    return result


def test_a_threshold_on_a_bucket_bound_is_counted_exactly() -> None:
    """At 800 ms (a bound) 990 of 1,000 calls are within: exactly 99%, met, not approximate."""
    result = latency_result(latency_sla("800ms"), histogram(b750=990, b1500=10))
    assert (result.within, result.count, result.value) == (990.0, 1000, 0.99)
    assert result.met is True
    assert result.approximate is False


def test_a_threshold_inside_a_bucket_is_interpolated_and_flagged() -> None:
    """At 625 ms, half-way through the (500, 750] bucket, half its 100 calls count."""
    within, approximate = latency_share(histogram(b5=900, b750=100), 0.625)
    assert (within, approximate) == (950.0, True)
    result = latency_result(latency_sla("625ms", target="95%"), histogram(b5=900, b750=100))
    assert (result.value, result.met, result.approximate) == (0.95, True, True)


def test_the_objective_is_missed_below_target() -> None:
    """989 of 1,000 within 800 ms misses a 99% target."""
    result = latency_result(latency_sla("800ms"), histogram(b750=989, b1500=11))
    assert result.met is False
    assert result.budget_remaining == pytest.approx(-0.1)


def test_a_threshold_past_the_last_bound_cannot_split_the_open_bucket() -> None:
    """Beyond 30 s the open bucket's calls count as over the threshold, flagged approximate."""
    assert latency_share(histogram(b50=3, inf=1), 60.0) == (3.0, True)


def test_no_calls_meet_the_objective_by_definition() -> None:
    """With an empty histogram the share is 100% and the result says there was no traffic."""
    result = latency_result(latency_sla("800ms"), histogram())
    assert (result.value, result.met, result.no_traffic, result.percentile_value) == (
        1.0,
        True,
        True,
        None,
    )


def test_quantiles_interpolate_within_the_bucket_like_prometheus() -> None:
    """100 calls in (500, 750] put p50 at 625 ms and p100 at the bucket's top."""
    hist = histogram(b750=100)
    assert latency_quantile(hist, 0.5) == 0.625
    assert latency_quantile(hist, 1.0) == 0.75
    assert latency_quantile(histogram(b5=10), 0.5) == 0.0025  # the first bucket starts at 0


def test_a_quantile_in_the_open_bucket_is_the_highest_finite_bound() -> None:
    """As histogram_quantile does, a rank past the last bound reads as that bound (30 s)."""
    assert latency_quantile(histogram(b5=1, inf=99), 0.99) == 30.0


def test_an_empty_histogram_has_no_quantile() -> None:
    """No calls, no percentile."""
    assert latency_quantile(histogram(), 0.95) is None


def test_the_reported_percentile_comes_with_the_objective() -> None:
    """The objective's p95 is read off the same histogram for the report."""
    result = latency_result(latency_sla("800ms"), histogram(b750=100))
    assert result.percentile_value == 0.5 + 0.25 * 0.95


def test_a_histogram_of_the_wrong_length_is_refused() -> None:
    """A histogram must have one count per bound plus the open bucket."""
    with pytest.raises(ValueError, match="counts"):
        latency_share((1, 2, 3), 0.8)
