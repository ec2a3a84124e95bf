"""Tests for seawall.sla._availability: by calls and by minutes, vendor faults only."""

from __future__ import annotations

from typing import Any

from seawall.config import Sla
from seawall.sla import build_report, month_bounds
from seawall.sla._availability import DEFAULT_BAD_MINUTE_THRESHOLD, is_bad
from seawall.store import RollupRow

NOV_START, NOV_END = month_bounds("2026-11")
DEC_START, DEC_END = month_bounds("2026-12")
MINUTES_IN_NOVEMBER = 43_200


def row(start: float, *, width: int = 60, provider: str = "stripe", **counts: int) -> RollupRow:
    attempts = sum(v for k, v in counts.items() if k != "rejected")
    return RollupRow(
        integration="payments",
        provider=provider,
        start=int(start),
        width=width,
        attempts=attempts,
        **counts,
    )


def sla(measure: str, *, target: str = "99.9%", exclude_maintenance: bool = True) -> Sla:
    objective: dict[str, Any] = {
        "metric": "availability",
        "target": target,
        "measure": measure,
        "exclude_maintenance": exclude_maintenance,
    }
    return Sla.model_validate({"provider": "payments/stripe", "objectives": [objective]})


def report(contract: Sla, rows: list[RollupRow], maintenance=(), month: str = "2026-11", **kw: Any):
    start, end = month_bounds(month)
    return build_report(
        "test", contract, rows, maintenance, period_start=start, period_end=end, now=end, **kw
    )


def minute(n: int) -> float:
    """The start of November's n-th minute (0-based)."""
    return NOV_START + 60 * n


def test_calls_availability_is_good_over_good_plus_bad() -> None:
    """9,985 good and 15 failed vendor attempts measure exactly 99.85%."""
    rows = [row(minute(0), success=5000), row(minute(1), success=4985, failure=10, timeout=5)]
    result = report(sla("calls"), rows).availability
    assert result is not None
    assert (result.good, result.bad) == (9985, 15)
    assert result.value == 9985 / 10000
    assert result.met is False


def test_declines_are_the_vendor_working() -> None:
    """Final answers (card declines) count as good, not against the vendor."""
    rows = [row(minute(0), success=500, final=499, connect_error=1)]
    result = report(sla("calls"), rows).availability
    assert result is not None
    assert (result.good, result.bad, result.value) == (999, 1, 0.999)
    assert result.met is True  # exactly at the 99.9% target


def test_throttled_and_rejected_calls_count_for_neither_side() -> None:
    """429s and seawall's own refusals change neither the numerator nor the denominator."""
    quiet = report(sla("calls"), [row(minute(0), success=999, failure=1)]).availability
    noisy = report(
        sla("calls"), [row(minute(0), success=999, failure=1, throttled=400, rejected=600)]
    ).availability
    assert quiet is not None
    assert noisy is not None
    assert (noisy.good, noisy.bad, noisy.value) == (quiet.good, quiet.bad, quiet.value)


def test_no_traffic_is_100_percent_and_says_so() -> None:
    """With no vendor attempts, availability is 100% by definition and the note says why."""
    only_refused = [row(minute(5), rejected=50, throttled=3)]
    by_calls = report(sla("calls"), only_refused).availability
    by_minutes = report(sla("minutes"), only_refused).availability
    assert by_calls is not None
    assert by_minutes is not None
    assert (by_calls.value, by_calls.no_traffic) == (1.0, True)
    assert "no vendor traffic" in by_calls.note
    assert (by_minutes.value, by_minutes.good, by_minutes.no_traffic) == (
        1.0,
        MINUTES_IN_NOVEMBER,
        True,
    )
    assert "every minute counts as good" in by_minutes.note


def test_minutes_availability_counts_bad_minutes_over_all_minutes_of_the_month() -> None:
    """4 bad minutes in November's 43,200 give exactly 43,196 / 43,200."""
    rows = [row(minute(n), success=90, failure=10) for n in (10, 20, 30, 40)]
    rows += [row(minute(n), success=100) for n in range(100, 200)]
    result = report(sla("minutes"), rows).availability
    assert result is not None
    assert (result.good, result.bad) == (43_196, 4)
    assert result.value == 43_196 / 43_200


def test_a_minute_is_bad_at_the_threshold_and_good_below_it() -> None:
    """5% errors make a bad minute (>=), 4% do not; quiet minutes are good."""
    assert DEFAULT_BAD_MINUTE_THRESHOLD == 0.05
    assert is_bad(19, 1, 0.05) is True
    assert is_bad(24, 1, 0.05) is False
    assert is_bad(0, 0, 0.05) is False
    rows = [row(minute(1), success=19, failure=1), row(minute(2), success=24, timeout=1)]
    result = report(sla("minutes"), rows).availability
    assert result is not None
    assert result.bad == 1


def test_the_bad_minute_threshold_is_a_parameter() -> None:
    """Raising the threshold to 20% turns a 10%-error minute good."""
    rows = [row(minute(1), success=9, failure=1)]
    default = report(sla("minutes"), rows).availability
    lenient = report(sla("minutes"), rows, bad_minute_threshold=0.2).availability
    assert default is not None
    assert lenient is not None
    assert (default.bad, lenient.bad) == (1, 0)


def test_only_the_months_own_rows_count() -> None:
    """A stream crossing midnight on December 1st splits exactly at the month boundary."""
    rows = [
        row(NOV_START - 60, failure=10),  # October 31st 23:59
        row(NOV_END - 60, success=1, failure=9),  # November 30th 23:59
        row(DEC_START, failure=5),  # December 1st 00:00
        row(DEC_START + 60, success=7),
    ]
    november = report(sla("calls"), rows).availability
    december = report(sla("calls"), rows, month="2026-12").availability
    assert november is not None
    assert december is not None
    assert (november.good, november.bad) == (1, 9)
    assert (december.good, december.bad) == (7, 5)
    november_minutes = report(sla("minutes"), rows).availability
    assert november_minutes is not None
    assert (november_minutes.bad, november_minutes.good) == (1, 43_199)


def test_other_providers_rows_are_ignored() -> None:
    """Rows of another provider (adyen) do not count towards stripe's SLA."""
    rows = [row(minute(0), success=10), row(minute(0), provider="adyen", failure=10)]
    result = report(sla("calls"), rows).availability
    assert result is not None
    assert (result.good, result.bad) == (10, 0)


def test_maintenance_minutes_leave_numerator_and_denominator() -> None:
    """A 10-minute window over 3 bad minutes leaves 43,190 minutes, all good."""
    window = (minute(60), minute(70))
    rows = [row(minute(n), failure=5) for n in (61, 62, 69)]
    result = report(sla("minutes"), rows, [window]).availability
    assert result is not None
    assert (result.good, result.bad, result.excluded) == (43_190, 0, 10)
    assert result.value == 1.0


def test_maintenance_counts_when_the_contract_does_not_exclude_it() -> None:
    """With exclude_maintenance: false the same 3 bad minutes count over all 43,200."""
    window = (minute(60), minute(70))
    rows = [row(minute(n), failure=5) for n in (61, 62, 69)]
    result = report(sla("minutes", exclude_maintenance=False), rows, [window]).availability
    assert result is not None
    assert (result.good, result.bad, result.excluded) == (43_197, 3, 0)
    assert result.value == 43_197 / 43_200


def test_maintenance_drops_the_calls_made_during_it() -> None:
    """By calls, attempts inside the window leave both sides of the ratio."""
    rows = [row(minute(0), success=99, failure=1), row(minute(61), success=1, failure=50)]
    result = report(sla("calls"), rows, [(minute(60), minute(62))]).availability
    assert result is not None
    assert (result.good, result.bad, result.excluded, result.value) == (99, 1, 51, 0.99)


def test_a_window_masks_every_minute_it_touches() -> None:
    """A window from :30 past one minute to :30 past the next masks both minutes."""
    result = report(sla("minutes"), [], [(minute(5) + 30, minute(6) + 30)]).availability
    assert result is not None
    assert result.excluded == 2
    assert result.good == 43_198


def test_a_running_period_counts_only_the_minutes_so_far() -> None:
    """Mid-month, minutes still to come are not counted as good."""
    contract = sla("minutes")
    now = minute(1000)
    built = build_report(
        "test",
        contract,
        [row(minute(3), failure=1)],
        period_start=NOV_START,
        period_end=NOV_END,
        now=now,
    )
    assert built.period.complete is False
    assert built.period.measured_end == now
    assert built.availability is not None
    assert (built.availability.good, built.availability.bad) == (999, 1)


def test_a_bad_hour_row_makes_sixty_bad_minutes_and_is_approximate() -> None:
    """Downsampled hour rows cannot show which minutes failed: all 60 count, flagged."""
    result = report(sla("minutes"), [row(minute(120), width=3600, success=90, failure=10)])
    assert result.availability is not None
    assert result.availability.bad == 60
    assert result.availability.approximate is True
