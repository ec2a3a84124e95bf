"""Error budgets and burn rates, as the Google SRE Workbook defines them.

* The error budget is ``1 - SLO``: the bad fraction the objective allows
  ("Implementing SLOs", https://sre.google/workbook/implementing-slos/).
* Budget remaining is ``1 - consumed / allowed``; it goes negative once the
  period has spent more than it was allowed.
* The burn rate over a window is the window's bad fraction over ``1 - SLO``:
  1 spends the budget exactly by the period's end, 14.4 over an hour spends
  2% of a 30-day budget ("Alerting on SLOs",
  https://sre.google/workbook/alerting-on-slos/).

A target of 100% allows nothing, so both are undefined (``None``) there.
"""

from __future__ import annotations

from fractions import Fraction

from seawall.sla._exact import exact
from seawall.sla._report import ErrorBudget

__all__ = ["BURN_WINDOWS", "budget_remaining", "burn_rate", "error_budget"]

#: the trailing windows a report shows burn rates for: the SRE Workbook's
#: multiwindow alerting pairs (1h/5m, 6h/30m) and slower 24h and 3d burns
BURN_WINDOWS: tuple[tuple[str, float], ...] = (
    ("1h", 3600.0),
    ("6h", 6 * 3600.0),
    ("24h", 24 * 3600.0),
    ("3d", 3 * 86400.0),
)


def _allowed(target: float) -> Fraction:
    return 1 - exact(target)


def budget_remaining(target: float, consumed: Fraction | float) -> float | None:
    """``1 - consumed / (1 - target)``; None for a 100% target."""
    allowed = _allowed(target)
    if allowed <= 0:
        return None
    return float(1 - Fraction(consumed) / allowed)


def burn_rate(bad_fraction: Fraction | float, target: float) -> float | None:
    """``bad_fraction / (1 - target)``; None for a 100% target."""
    allowed = _allowed(target)
    if allowed <= 0:
        return None
    return float(Fraction(bad_fraction) / allowed)


def error_budget(target: float, consumed: Fraction | float) -> ErrorBudget:
    """The budget a period with bad fraction ``consumed`` has left."""
    return ErrorBudget(
        target=target,
        allowed=float(_allowed(target)),
        consumed=float(consumed),
        remaining=budget_remaining(target, consumed),
    )
