"""Service credits: which tier the measured availability falls in, and the money.

``below`` is strictly below, as vendor contracts write it ("Less than 99.9%
but greater than or equal to 99.0%", https://aws.amazon.com/s3/sla/): a month
at exactly 99.9% is *not* below 99.9%. Of the tiers the measured value is
under, the largest credit applies -- with {<99.99%: 10%, <99.9%: 25%,
<99.0%: 50%}, 99.85% earns 25%.

The fee a credit applies to is ``monthly_fee`` times the months the period
covers: exactly 1 for a calendar month and 3 for a quarter; for weeks, days
and rolling windows the period's length over an average Gregorian month
(30.436875 days), so a week earns 7 / 30.436875 of the monthly fee.
Amounts are rounded half-up to cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from seawall.config import Credit
from seawall.sla._exact import PLACES, exact
from seawall.sla._report import CreditOwed

__all__ = ["credit_owed", "credit_tier"]


def credit_tier(availability: Fraction | float, credits: Sequence[Credit]) -> Credit | None:
    """The tier with the largest credit whose ``below`` the availability is strictly under."""
    measured = availability if isinstance(availability, Fraction) else exact(availability)
    best: Credit | None = None
    for tier in sorted(credits, key=lambda c: c.below, reverse=True):
        if measured < exact(tier.below) and (best is None or tier.credit > best.credit):
            best = tier
    return best


def credit_owed(
    availability: Fraction | float | None,
    credits: Sequence[Credit],
    *,
    monthly_fee: float,
    months: float,
    currency: str,
) -> CreditOwed:
    """The credit and amount owed for a period of ``months`` at ``availability``."""
    tier = credit_tier(availability, credits) if availability is not None else None
    credit = tier.credit if tier is not None else 0.0
    fee = monthly_fee * months
    amount = (Decimal(repr(fee)) * Decimal(f"{credit:.{PLACES}f}")).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return CreditOwed(
        availability=float(availability) if availability is not None else None,
        tier_below=tier.below if tier is not None else None,
        credit=credit,
        fee=fee,
        months=months,
        amount=float(amount),
        currency=currency,
    )
