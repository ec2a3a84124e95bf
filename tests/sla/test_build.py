"""Tests for seawall.sla._build: a whole report from the reference contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.config import Sla, load_config
from seawall.sla import (
    AvailabilityResult,
    LatencyResult,
    SlaReport,
    SupportTerms,
    Totals,
    build_report,
    daily_series,
    month_bounds,
)
from seawall.store import LATENCY_BOUNDS, RollupRow
from tests.conftest import REFERENCE_ENV

START, END = month_bounds("2026-11")
FAST = LATENCY_BOUNDS.index(0.75)
SLOW = LATENCY_BOUNDS.index(1.5)


@pytest.fixture(scope="module")
def stripe(reference_path: Path) -> Sla:
    config = load_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    return config.slas["stripe-standard"]


def row(
    minute: int, *, success: int = 0, final: int = 0, failure: int = 0, **extra: int
) -> RollupRow:
    latency = [0] * (len(LATENCY_BOUNDS) + 1)
    latency[FAST] = success + final
    latency[SLOW] = failure
    return RollupRow(
        integration="payments",
        provider="stripe",
        start=int(START) + 60 * minute,
        width=60,
        attempts=success + final + failure + extra.get("throttled", 0),
        success=success,
        final=final,
        failure=failure,
        latency=tuple(latency),
        **extra,
    )


def november(stripe: Sla) -> SlaReport:
    """990 fast good calls, and 10 slow failures in 5 bad minutes of 2 each."""
    rows = [row(m, success=98, final=1, throttled=2, rejected=3) for m in range(1000, 1010)]
    rows += [row(m, failure=2) for m in (600, 601, 602, 900, 901)]
    return build_report(
        "stripe-standard",
        stripe,
        rows,
        [(START + 86400, START + 86400 + 3600)],
        period_start=START,
        period_end=END,
        now=END + 5,
    )


def test_the_reference_stripe_sla_is_measured_by_minutes(stripe: Sla) -> None:
    """stripe-standard: 5 bad minutes of 43,140 (an hour excused) miss 99.99% by minutes."""
    report = november(stripe)
    availability = report.availability
    assert isinstance(availability, AvailabilityResult)
    assert availability.measure == "minutes"
    assert (availability.good, availability.bad, availability.excluded) == (43_135, 5, 60)
    assert availability.value == 43_135 / 43_140
    assert availability.met is False
    assert report.met is False


def test_the_reference_latency_objective_is_exact_at_800ms(stripe: Sla) -> None:
    """990 of 1,000 calls within 800 ms is exactly the 99% target: met, not approximate."""
    latency = november(stripe).objectives[1]
    assert isinstance(latency, LatencyResult)
    assert (latency.percentile, latency.threshold, latency.target) == (95.0, 0.8, 0.99)
    assert (latency.within, latency.count, latency.value) == (990.0, 1000, 0.99)
    assert (latency.met, latency.approximate) == (True, False)


def test_the_reference_credit_is_ten_percent_of_2000(stripe: Sla) -> None:
    """99.9884% is below 99.99% but not 99.9%: 10% of 2,000 USD, 200.00 USD."""
    credit = november(stripe).credit
    assert (credit.credit, credit.amount, credit.currency) == (0.1, 200.0, "USD")


def test_the_report_carries_breaches_support_and_totals(stripe: Sla) -> None:
    """Two breaches, the configured support terms, and raw totals with throttled and rejected."""
    report = november(stripe)
    assert [(b.start, b.minutes, b.error_rate) for b in report.breaches] == [
        (START + 600 * 60, 3, 1.0),
        (START + 900 * 60, 2, 1.0),
    ]
    assert report.support == SupportTerms(
        response_time=3600.0,
        resolution_time=28800.0,
        escalation_contact="vendor-stripe",
        escalation_after=1800.0,
    )
    assert report.totals == Totals(attempts=1020, good=990, bad=10, throttled=20, rejected=30)
    assert report.maintenance == ((START + 86400, START + 86400 + 3600),)
    assert (report.period.label, report.period.complete) == ("2026-11", True)
    assert report.as_of == END + 5


def test_report_latency_percentiles_come_from_the_summed_histogram(stripe: Sla) -> None:
    """p50 of 1,000 calls with 990 in (500, 750] is read by interpolation in that bucket."""
    latency = november(stripe).latency
    assert latency.count == 1000
    assert latency.p50 == 0.5 + 0.25 * 500 / 990
    assert latency.p99 == 0.75  # the 990th call is the last fast one


def test_an_empty_period_must_end_after_it_starts(stripe: Sla) -> None:
    """A zero-length period is refused."""
    with pytest.raises(ValueError, match="end after"):
        build_report("x", stripe, [], period_start=START, period_end=START, now=START)


def test_daily_series_has_one_point_per_day(stripe: Sla) -> None:
    """November gives 30 points; the day with bad minutes shows them by the SLA's measure."""
    rows = [row(m, success=1, failure=1) for m in (600, 601, 602)]
    rows.append(row(1440 * 3, success=100))
    points = daily_series(rows, START, END, sla=stripe)
    assert len(points) == 30
    assert points[0].day == "2026-11-01"
    assert (points[0].bad, points[0].good, points[0].availability) == (3, 1437, 1437 / 1440)
    assert points[1].availability == 1.0
    assert points[1].p50 is None
    assert points[3].p50 == 0.625
    assert points[-1].end == END


def test_daily_series_without_an_sla_counts_calls() -> None:
    """Without a contract, every row counts and availability is by calls."""
    points = daily_series([row(0, success=3, failure=1)], START, START + 86400)
    assert len(points) == 1
    assert points[0].availability == 0.75
