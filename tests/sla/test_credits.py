"""Tests for seawall.sla._credits: tiers (strictly below) and the money owed."""

from __future__ import annotations

from fractions import Fraction

import pytest

from seawall.config import Sla
from seawall.sla import build_report, credit_tier, month_bounds
from seawall.sla._credits import credit_owed
from seawall.sla._periods import AVERAGE_MONTH
from seawall.store import RollupRow

START, END = month_bounds("2026-11")

CONTRACT = Sla.model_validate(
    {
        "provider": "payments/stripe",
        "objectives": [{"metric": "availability", "target": "99.99%", "measure": "calls"}],
        "credits": [
            {"below": "99.99%", "credit": "10%"},
            {"below": "99.9%", "credit": "25%"},
            {"below": "99.0%", "credit": "50%"},
        ],
        "monthly_fee": 2000,
        "currency": "EUR",
    }
)


def calls(good: int, bad: int) -> list[RollupRow]:
    return [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(START),
            width=60,
            attempts=good + bad,
            success=good,
            failure=bad,
        )
    ]


@pytest.mark.parametrize(
    ("good", "bad", "credit"),
    [
        (10_000, 0, None),  # 100%
        (9_999, 1, None),  # exactly 99.99%: not below 99.99%
        (99_989, 11, 0.10),  # 99.989%
        (999, 1, 0.10),  # exactly 99.9%: below 99.99%, not below 99.9%
        (9_985, 15, 0.25),  # 99.85%: the largest applicable credit wins
        (99, 1, 0.25),  # exactly 99.0%
        (9_899, 101, 0.50),  # 98.99%
    ],
)
def test_below_means_strictly_below(good: int, bad: int, credit: float | None) -> None:
    """A value exactly on a tier's boundary is not below it; the largest credit applies."""
    tier = credit_tier(Fraction(good, good + bad), CONTRACT.credits)
    assert (tier.credit if tier else None) == credit


def test_float_inputs_are_read_at_twelve_places() -> None:
    """0.999 as a float equals the parsed 99.9% boundary, despite binary rounding."""
    assert CONTRACT.credits[1].below != 0.999  # 0.9990000000000001 from "99.9%"
    tier = credit_tier(0.999, CONTRACT.credits)
    assert tier is not None
    assert tier.credit == 0.10


def test_tiers_are_sorted_before_reading() -> None:
    """Tiers given lowest first pick the same credit."""
    assert (
        credit_tier(Fraction(9985, 10000), tuple(reversed(CONTRACT.credits)))
        == (CONTRACT.credits[1])
    )


def test_the_monthly_fee_times_the_credit_is_owed() -> None:
    """99.85% in November owes 25% of 2,000 EUR: 500.00 EUR."""
    report = build_report(
        "t", CONTRACT, calls(9_985, 15), period_start=START, period_end=END, now=END
    )
    owed = report.credit
    assert (owed.tier_below, owed.credit, owed.months, owed.fee) == (
        CONTRACT.credits[1].below,
        0.25,
        1.0,
        2000.0,
    )
    assert (owed.amount, owed.currency) == (500.0, "EUR")
    assert owed.availability == 0.9985


def test_meeting_every_tier_owes_nothing() -> None:
    """At 100% no tier applies and the amount is zero."""
    owed = build_report(
        "t", CONTRACT, calls(10, 0), period_start=START, period_end=END, now=END
    ).credit
    assert (owed.tier_below, owed.credit, owed.amount) == (None, 0.0, 0.0)


def test_exactly_on_a_boundary_through_a_whole_report() -> None:
    """Exactly 99.9% measured by calls falls in the 10% tier: 200.00 EUR."""
    owed = build_report(
        "t", CONTRACT, calls(999, 1), period_start=START, period_end=END, now=END
    ).credit
    assert (owed.credit, owed.amount) == (0.10, 200.0)


def test_shorter_periods_prorate_the_fee() -> None:
    """A week owes the credit on 7 / 30.436875 of the monthly fee, rounded to cents."""
    months = 7 * 86400 / AVERAGE_MONTH
    owed = credit_owed(
        Fraction(9985, 10000), CONTRACT.credits, monthly_fee=2000, months=months, currency="EUR"
    )
    assert owed.fee == 2000 * months
    assert owed.amount == 114.99  # 2000 * 0.229979... * 0.25 = 114.9897...


def test_cents_round_half_up() -> None:
    """An amount of exactly half a cent rounds up, as invoices do."""
    owed = credit_owed(
        Fraction(1, 2), CONTRACT.credits, monthly_fee=0.25, months=1.0, currency="USD"
    )
    assert owed.amount == 0.13  # 0.125 -> 0.13


def test_no_availability_objective_no_credit() -> None:
    """Without a measured availability there is nothing to read the tiers against."""
    owed = credit_owed(None, CONTRACT.credits, monthly_fee=2000, months=1.0, currency="USD")
    assert (owed.credit, owed.amount, owed.availability) == (0.0, 0.0, None)
