"""Tests for seawall.sla._periods: calendar periods in UTC and rolling windows."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest

from seawall.config import Sla
from seawall.sla import month_bounds, period_bounds, resolve_period
from seawall.sla._periods import AVERAGE_MONTH, iso, months_between, period_label


def ts(*parts: int) -> float:
    return float(calendar.timegm(datetime(*parts, tzinfo=UTC).utctimetuple()))


def sla(period: object = "monthly") -> Sla:
    return Sla.model_validate(
        {
            "provider": "payments/stripe",
            "period": period,
            "objectives": [{"metric": "availability", "target": "99.9%"}],
        }
    )


def test_month_bounds_are_the_utc_calendar_month() -> None:
    """ "2026-11" is [2026-11-01 00:00, 2026-12-01 00:00) UTC: 30 days, 43,200 minutes."""
    start, end = month_bounds("2026-11")
    assert (start, end) == (ts(2026, 11, 1), ts(2026, 12, 1))
    assert (end - start) / 60 == 43_200


def test_december_rolls_over_into_the_next_year() -> None:
    """December ends at January 1st of the following year."""
    assert month_bounds("2026-12") == (ts(2026, 12, 1), ts(2027, 1, 1))


def test_the_last_minute_of_a_month_belongs_to_it_and_midnight_to_the_next() -> None:
    """23:59 on November 30th lies inside November; 00:00 on December 1st does not."""
    start, end = month_bounds("2026-11")
    assert start <= ts(2026, 11, 30, 23, 59) < end
    assert not start <= ts(2026, 12, 1) < end
    assert month_bounds("2026-12")[0] == ts(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "Nov 2026", "2026-00", ""])
def test_a_malformed_month_says_how_to_write_it(text: str) -> None:
    """A month that is not YYYY-MM is refused with an example of the right form."""
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(text)


def test_calendar_periods_contain_now() -> None:
    """Daily, weekly (ISO, from Monday), monthly and quarterly periods are those holding now."""
    now = ts(2026, 11, 18, 15, 30)  # a Wednesday
    assert period_bounds("daily", now=now) == (ts(2026, 11, 18), ts(2026, 11, 19))
    assert period_bounds("weekly", now=now) == (ts(2026, 11, 16), ts(2026, 11, 23))
    assert period_bounds("monthly", now=now) == (ts(2026, 11, 1), ts(2026, 12, 1))
    assert period_bounds("quarterly", now=now) == (ts(2026, 10, 1), ts(2027, 1, 1))


def test_a_rolling_period_ends_at_now() -> None:
    """A duration period is the window of that length ending exactly at now."""
    now = ts(2026, 11, 18, 15, 30)
    assert period_bounds(30 * 86400.0, now=now) == (now - 30 * 86400, now)


def test_resolve_period_prefers_the_month_asked_for() -> None:
    """--month picks that calendar month; without it the SLA's current period is used."""
    now = ts(2026, 12, 3)
    assert resolve_period(sla("weekly"), month="2026-11", now=now) == month_bounds("2026-11")
    assert resolve_period(sla(), month=None, now=now) == month_bounds("2026-12")
    assert resolve_period(sla("7d"), month=None, now=now) == (now - 7 * 86400, now)


def test_labels_name_the_period() -> None:
    """Months, quarters, ISO weeks and days get their usual names; others an ISO interval."""
    assert period_label(*month_bounds("2026-11")) == "2026-11"
    assert period_label(ts(2026, 10, 1), ts(2027, 1, 1)) == "2026-Q4"
    assert period_label(ts(2026, 11, 16), ts(2026, 11, 23)) == "2026-W47"
    assert period_label(ts(2026, 11, 18), ts(2026, 11, 19)) == "2026-11-18"
    assert period_label(ts(2026, 11, 18), ts(2026, 11, 18, 6)) == (
        "2026-11-18T00:00:00Z/2026-11-18T06:00:00Z (6h)"
    )


def test_fee_months_are_exact_for_calendar_months_and_averaged_otherwise() -> None:
    """A month is 1 and a quarter 3 fee months; a week is 7 days over an average month."""
    assert months_between(*month_bounds("2026-02")) == 1.0
    assert months_between(ts(2026, 10, 1), ts(2027, 1, 1)) == 3.0
    assert months_between(ts(2026, 11, 16), ts(2026, 11, 23)) == 7 * 86400 / AVERAGE_MONTH
    assert AVERAGE_MONTH == 30.436875 * 86400


def test_iso_is_utc_to_the_second() -> None:
    """Times print as UTC with a Z suffix."""
    assert iso(ts(2026, 11, 30, 23, 59)) == "2026-11-30T23:59:00Z"
