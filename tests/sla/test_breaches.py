"""Tests for seawall.sla._breaches: the minute-level outage list."""

from __future__ import annotations

from seawall.config import Sla
from seawall.sla import Breach, build_report, month_bounds
from seawall.store import RollupRow

START, END = month_bounds("2026-11")


def minute(n: int) -> float:
    return START + 60 * n


def row(n: int, *, success: int = 0, failure: int = 0, throttled: int = 0) -> RollupRow:
    return RollupRow(
        integration="payments",
        provider="stripe",
        start=int(minute(n)),
        width=60,
        attempts=success + failure + throttled,
        success=success,
        failure=failure,
        throttled=throttled,
    )


def breaches(rows: list[RollupRow], maintenance=(), *, exclude: bool = True) -> tuple[Breach, ...]:
    contract = Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [
                {"metric": "availability", "target": "99.9%", "exclude_maintenance": exclude}
            ],
        }
    )
    report = build_report(
        "t", contract, rows, maintenance, period_start=START, period_end=END, now=END
    )
    return report.breaches


def test_adjacent_bad_minutes_merge_into_one_breach() -> None:
    """Bad minutes 10, 11 and 12 are one 3-minute breach from 10 to 13; minute 15 is another."""
    rows = [row(10, failure=10), row(11, success=5, failure=5), row(12, failure=10)]
    rows += [row(13, success=100), row(15, success=18, failure=2)]
    found = breaches(rows)
    assert found == (
        Breach(
            start=minute(10),
            end=minute(13),
            minutes=3,
            attempts=30,
            failures=25,
            error_rate=25 / 30,
        ),
        Breach(
            start=minute(15), end=minute(16), minutes=1, attempts=20, failures=2, error_rate=0.1
        ),
    )


def test_a_quiet_minute_ends_a_breach() -> None:
    """A minute with no traffic between two bad ones splits them."""
    found = breaches([row(1, failure=1), row(3, failure=1)])
    assert [(b.start, b.end) for b in found] == [(minute(1), minute(2)), (minute(3), minute(4))]


def test_throttling_alone_is_no_breach() -> None:
    """A minute of only 429s had no vendor faults."""
    assert breaches([row(1, throttled=100)]) == ()


def test_maintenance_splits_and_hides_breaches_when_excluded() -> None:
    """A masked minute in the middle of an outage is excused and ends the run."""
    rows = [row(n, failure=3) for n in (20, 21, 22)]
    window = (minute(21), minute(22))
    assert [(b.start, b.minutes) for b in breaches(rows, [window])] == [
        (minute(20), 1),
        (minute(22), 1),
    ]
    assert [(b.start, b.minutes) for b in breaches(rows, [window], exclude=False)] == [
        (minute(20), 3)
    ]


def test_breaches_stop_at_the_period_boundary() -> None:
    """An outage running past midnight on December 1st ends November's breach at midnight."""
    rows = [
        RollupRow(
            integration="payments", provider="stripe", start=int(END) + d, width=60, failure=1
        )
        for d in (-120, -60, 0, 60)
    ]
    found = breaches(rows)
    assert [(b.start, b.end, b.minutes) for b in found] == [(END - 120, END, 2)]
