"""Tests for seawall.sla._budget: error budget remaining and burn rates (SRE Workbook)."""

from __future__ import annotations

from fractions import Fraction

from seawall.config import Sla
from seawall.sla import BURN_WINDOWS, budget_remaining, build_report, burn_rate, month_bounds
from seawall.sla._budget import error_budget
from seawall.store import RollupRow

START, END = month_bounds("2026-11")

CONTRACT = Sla.model_validate(
    {
        "provider": "payments/stripe",
        "objectives": [{"metric": "availability", "target": "99.9%", "measure": "minutes"}],
    }
)


def bad_minute(start: float) -> RollupRow:
    return RollupRow(
        integration="payments", provider="stripe", start=int(start), width=60, attempts=1, failure=1
    )


def test_remaining_is_one_minus_consumed_over_allowed() -> None:
    """27 bad minutes of 43,200 against 99.9% use 62.5% of the budget: 37.5% remains."""
    report = build_report(
        "t",
        CONTRACT,
        [bad_minute(START + 60 * n) for n in range(27)],
        period_start=START,
        period_end=END,
        now=END,
    )
    budget = report.error_budget
    assert budget is not None
    assert budget.allowed == 0.001
    assert budget.consumed == 27 / 43_200
    assert budget.remaining == 0.375
    assert report.availability is not None
    assert report.availability.budget_remaining == 0.375


def test_an_overspent_budget_goes_negative() -> None:
    """54 bad minutes spend 125% of the budget: -25% remains."""
    assert budget_remaining(0.999, Fraction(54, 43_200)) == -0.25
    assert error_budget(0.999, Fraction(54, 43_200)).remaining == -0.25


def test_burn_rate_is_the_bad_fraction_over_the_allowed_fraction() -> None:
    """10% bad against a 99.9% target burns 100 times too fast."""
    assert burn_rate(Fraction(1, 10), 0.999) == 100.0
    assert burn_rate(Fraction(1, 1000), 0.999) == 1.0


def test_a_100_percent_target_has_no_budget() -> None:
    """Nothing is allowed, so remaining and burn rate are undefined (None)."""
    assert budget_remaining(1.0, 0) is None
    assert burn_rate(0.5, 1.0) is None


def test_report_burn_rates_over_trailing_windows_ending_at_period_end() -> None:
    """6 bad minutes in November's last hour burn 100x over 1h, 100/6 over 6h, and so on."""
    rows = [bad_minute(END - 60 * n) for n in range(1, 7)]
    report = build_report("t", CONTRACT, rows, period_start=START, period_end=END, now=END)
    assert [b.label for b in report.burn_rates] == [label for label, _ in BURN_WINDOWS]
    expected = [
        float(Fraction(6, minutes) / Fraction(1, 1000)) for minutes in (60, 360, 1440, 4320)
    ]
    assert [b.rate for b in report.burn_rates] == expected
    assert [b.end for b in report.burn_rates] == [END] * 4
    assert report.burn_rates[0].start == END - 3600
    assert report.burn_rates[0].bad_fraction == 0.1


def test_burn_windows_end_at_now_and_stop_at_the_period_start() -> None:
    """Two hours into the month the 3-day window covers only those two hours."""
    now = START + 7200
    rows = [bad_minute(START + 60 * n) for n in range(12)]
    report = build_report("t", CONTRACT, rows, period_start=START, period_end=END, now=now)
    three_days = report.burn_rates[-1]
    assert (three_days.start, three_days.end) == (START, now)
    assert three_days.bad_fraction == 12 / 120
    assert three_days.rate == 100.0
