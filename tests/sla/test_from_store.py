"""Reports from ``Rollups.sla_summary`` equal reports from every row, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest

from seawall.config import Sla
from seawall.sla import (
    DailyPoint,
    SlaReport,
    build_report,
    build_summary_report,
    daily_series,
    month_bounds,
    render_json,
    summary_daily_series,
    summary_request,
    summary_rows,
)
from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from tests.store import conftest as backends

# the dual-backend fixtures of the store tests: every test here runs on both
sqlite_url = backends.sqlite_url
postgresql_url = backends.postgresql_url
url = backends.url
open_store = backends.open_store
store = backends.store

START, END = month_bounds("2026-11")
DAY = 86400
BUCKETS = len(LATENCY_BOUNDS) + 1
SLA = ("payments", "stripe")

SLAS = {
    "by-minutes": Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [
                {"metric": "availability", "target": "99.9%"},
                {"metric": "latency", "percentile": 95, "threshold": "800ms", "target": "99%"},
                {"metric": "latency", "percentile": 99, "threshold": "900ms", "target": "95%"},
            ],
            "credits": [{"below": "99.9%", "credit": "10%"}, {"below": "99%", "credit": "25%"}],
            "monthly_fee": 2000,
            "support": {"response_time": "1h"},
        }
    ),
    "by-calls-with-maintenance": Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [
                {
                    "metric": "availability",
                    "target": "99.5%",
                    "measure": "calls",
                    "exclude_maintenance": False,
                },
                {"metric": "availability", "target": "99%", "measure": "minutes"},
            ],
            "credits": [{"below": "99.5%", "credit": "5%"}],
            "monthly_fee": 999.99,
            "currency": "EUR",
        }
    ),
    "by-calls": Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [{"metric": "availability", "target": "99%", "measure": "calls"}],
        }
    ),
    "latency-only": Sla.model_validate(
        {
            "provider": "payments/stripe",
            "objectives": [
                {"metric": "latency", "percentile": 50, "threshold": "250ms", "target": "50%"}
            ],
        }
    ),
}


def _row(rng: random.Random, provider: tuple[str, str], start: int, kind: str) -> RollupRow:
    """A minute of traffic: ``normal``, ``outage``, ``at`` (exactly 5% bad), ``under``, ``quiet``."""
    success = final = failure = timeout = connect_error = 0
    throttled = rng.choice([0, 0, 0, 2])
    if kind == "normal":
        success, final = rng.randint(0, 40), rng.randint(0, 3)  # declines are the vendor working
        failure = rng.choice([0] * 8 + [1])
    elif kind == "outage":
        total = rng.randint(1, 30)
        bad = rng.randint(max(1, math.ceil(total * 0.05)), total)
        failure, timeout = bad // 2, bad // 4
        connect_error = bad - failure - timeout
        success = total - bad
    elif kind == "at":
        success, final, timeout = 18, 1, 1  # 1 bad in 20: exactly 5%
    elif kind == "under":
        success, final, failure = 19, 1, 1  # 1 bad in 21
    vendor = success + final + failure + timeout + connect_error
    attempts = vendor + throttled
    latency = [0] * BUCKETS
    for _ in range(attempts):
        latency[min(BUCKETS - 1, max(0, int(rng.gauss(9, 2.5))))] += 1
    return RollupRow(
        integration=provider[0],
        provider=provider[1],
        start=start,
        width=60,
        attempts=attempts,
        success=success,
        final=final,
        throttled=throttled,
        failure=failure,
        timeout=timeout,
        connect_error=connect_error,
        rejected=rng.choice([0, 0, 1]),
        calls=vendor + rng.randint(0, 2),
        retries=rng.randint(0, 1),
        failovers=rng.choice([0, 0, 0, 1]),
        # multiples of 1/8 s: float sums are exact in any order, so means compare with ==
        latency_sum=rng.randint(0, 64 * attempts) / 8,
        latency=tuple(latency),
    )


def _month(rng: random.Random, provider: tuple[str, str]) -> list[RollupRow]:
    """Sparse traffic from a day before the month to a day after, with outage runs."""
    minutes: dict[int, str] = {}
    for day in range(-1, 31):
        for _ in range(rng.randint(20, 80)):
            minutes[int(START) + day * DAY + 60 * rng.randrange(1440)] = "normal"
        for kind in ("at", "under", "quiet"):
            minutes[int(START) + day * DAY + 60 * rng.randrange(1440)] = kind
    runs = [int(START) - 120, int(START) + 2 * DAY - 300, int(START) + 9 * DAY + 7200]
    runs += [int(START) + rng.randrange(30 * 1440) * 60 for _ in range(6)]
    runs.append(int(END) - 180)  # across the month's end
    for begin in runs:
        for minute in range(rng.randint(2, 15)):
            minutes[begin + 60 * minute] = "outage"
    return [_row(rng, provider, start, kind) for start, kind in sorted(minutes.items())]


async def _fill(store: Store, seed: int) -> None:
    """A month of rollups for three providers, maintenance windows, and downsampled days."""
    rng = random.Random(seed)
    rollups = store.rollups
    await rollups.add(_month(rng, SLA))
    await rollups.add(_month(rng, ("payments", "adyen")))
    await rollups.add(_month(rng, ("email", "sendgrid")))
    windows = [
        (START - 3600, START + 1830.5),  # across the month's start
        (START + 1 * DAY + 600, START + 1 * DAY + 4200),  # in the downsampled days
        (START + 2 * DAY + 7200, START + 2 * DAY + 3 * 7200),  # a whole downsampled hour and more
        (START + 9 * DAY + 7230, START + 9 * DAY + 7200 + 425),  # over an outage, unaligned
        (START + rng.randrange(12, 28) * DAY + 45, START + 14 * DAY + 3 * 3600 + 15),
    ]
    for start, end in windows:
        await rollups.open_window(*SLA, start=start, reason="vendor upgrade")
        await rollups.close_window(*SLA, end=end)
    await rollups.open_window(*SLA, start=START + 11 * DAY, planned=False, reason="operator")
    await rollups.close_window(*SLA, end=START + 12 * DAY)
    # The first four days are downsampled to hours; a late minute lands in one of
    # them, and an hour is imported on top of its minutes: their hour rows stand
    # for the minutes from then on.
    await rollups.downsample(older_than=START + 4 * DAY)
    await rollups.add([_row(rng, SLA, int(START) + DAY + 5 * 3600 + 120, "outage")])
    hour = int(START) + 10 * DAY + 3 * 3600
    await rollups.add(
        [
            RollupRow(
                integration=SLA[0], provider=SLA[1], start=hour, width=3600, attempts=5, success=5
            )
        ]
    )
    # still open: it lasts until now
    await rollups.open_window(*SLA, start=START + 29 * DAY + 3600, reason="migration")


async def _windows(store: Store, start: float, end: float) -> list[tuple[float, float]]:
    """The planned windows as a report reads them, an open one lasting until ``end``."""
    found = await store.rollups.windows(
        start=start, end=end, integration=SLA[0], provider=SLA[1], planned=True
    )
    return [(w.start, end if w.end is None else w.end) for w in found]


@dataclass
class Both:
    rows: SlaReport
    summary: SlaReport
    rows_series: tuple[DailyPoint, ...]
    summary_series: tuple[DailyPoint, ...]
    row_count: int
    summary_count: int


async def _both(
    store: Store, name: str, start: float, end: float, now: float, threshold: float
) -> Both:
    """The report and daily series from every row, and from the summary."""
    sla = SLAS[name]
    measured_end = min(end, max(start, now))
    windows = await _windows(store, start, measured_end)
    rows = await store.rollups.query(
        start=start, end=measured_end, integration=SLA[0], provider=SLA[1]
    )
    want = summary_request(start, end, now=now)
    summary = await store.rollups.sla_summary(
        start=want.start,
        end=want.end,
        integration=SLA[0],
        provider=SLA[1],
        bad_minute_threshold=threshold,
        maintenance=windows,
        splits=want.splits,
    )
    return Both(
        rows=build_report(
            name,
            sla,
            rows,
            windows,
            period_start=start,
            period_end=end,
            now=now,
            bad_minute_threshold=threshold,
        ),
        summary=build_summary_report(
            name, sla, summary, period_start=start, period_end=end, now=now
        ),
        rows_series=daily_series(
            rows, start, measured_end, sla=sla, maintenance=windows, bad_minute_threshold=threshold
        ),
        summary_series=summary_daily_series(summary, start, measured_end, sla=sla),
        row_count=len(rows),
        summary_count=len(summary_rows(summary)),
    )


RUNNING = START + 17 * DAY + 5 * 3600 + 1234.5  # mid-month, mid-minute
PERIODS = {
    "complete-month": (START, END, END + 3600),
    "running-month": (START, END, RUNNING),
    "first-hours": (START, END, START + 2 * 3600 + 100),
    "rolling-week": (RUNNING - 7 * DAY, RUNNING, RUNNING),
    "future-month": (START, END, START - DAY),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_summary_report_equals_the_row_report(store: Store, seed: int) -> None:
    """Every SLA, period and threshold: the summary path builds the very report and series the rows do."""
    await _fill(store, seed)
    for period, (start, end, now) in PERIODS.items():
        for name in SLAS:
            for threshold in (0.05, 0.033333333333):
                both = await _both(store, name, start, end, now, threshold)
                where = f"{name} over {period} at {threshold}"
                assert both.summary == both.rows, where
                assert render_json([both.summary]) == render_json([both.rows]), where
                assert both.summary_series == both.rows_series, where
                if period == "complete-month":
                    assert both.summary_count < both.row_count / 3, where


async def test_the_generated_month_exercises_every_rule(store: Store) -> None:
    """The fixture month has breaches, exclusions, downsampled hours and declines, so equality means something."""
    await _fill(store, 1)
    report = (await _both(store, "by-minutes", START, END, END + 1, 0.05)).rows
    availability = report.availability
    assert availability is not None
    assert availability.bad > 0
    assert availability.excluded > 0
    assert not availability.met
    assert len(report.breaches) >= 5
    assert report.breaches[0].start == START + 1860  # a bad hour, cut by the window into it
    assert report.totals.throttled > 0
    assert report.totals.rejected > 0
    assert report.maintenance[0][0] == START
    calls = (await _both(store, "by-calls", START, END, END + 1, 0.05)).rows
    assert calls.availability is not None
    assert calls.availability.approximate  # a window cuts a downsampled hour
    assert calls.availability.excluded > 0


async def test_a_minute_at_the_threshold_is_bad_and_just_under_is_not(store: Store) -> None:
    """Exact at every threshold: 1 bad in 20 is bad at 5%, not at a hair more; 1 in 21 is bad up to 1/21."""
    rng = random.Random(0)
    minute = int(START) + 600
    await store.rollups.add([_row(rng, SLA, minute, "at"), _row(rng, SLA, minute + 60, "under")])
    counts = {}
    for threshold in (0.05, 0.0500000001, 0.047619047619, 0.04761904762):
        want = summary_request(START, END, now=END)
        summary = await store.rollups.sla_summary(
            start=want.start,
            end=want.end,
            integration=SLA[0],
            provider=SLA[1],
            bad_minute_threshold=threshold,
            splits=want.splits,
        )
        report = build_summary_report(
            "by-minutes", SLAS["by-minutes"], summary, period_start=START, period_end=END, now=END
        )
        assert report.availability is not None
        counts[threshold] = report.availability.bad
        assert len(summary.detail) <= 2
    assert counts == {0.05: 1, 0.0500000001: 0, 0.047619047619: 2, 0.04761904762: 1}


async def test_stretches_sum_the_rows_of_each_stretch(store: Store) -> None:
    """Each stretch holds exactly the counts of the query rows whose start falls in it."""
    await _fill(store, 4)
    start, end = START + 3 * DAY + 1800, START + 6 * DAY + 90  # downsampled and not, ragged ends
    splits = (START + 3 * DAY + 1801, START + 4 * DAY, START + 4 * DAY + 3599, START + 5 * DAY - 30)
    summary = await store.rollups.sla_summary(
        start=start,
        end=end,
        integration=SLA[0],
        provider=SLA[1],
        bad_minute_threshold=0.05,
        splits=splits,
    )
    rows = await store.rollups.query(start=start, end=end, integration=SLA[0], provider=SLA[1])
    assert [s.start for s in summary.stretches] == [
        math.ceil(start),
        *[math.ceil(s) for s in splits],
    ]
    for stretch in summary.stretches:
        inside = [r for r in rows if stretch.start <= r.start < stretch.start + stretch.width]
        assert stretch.attempts == sum(r.attempts for r in inside)
        assert stretch.failure == sum(r.failure for r in inside)
        assert stretch.latency == tuple(sum(r.latency[i] for r in inside) for i in range(BUCKETS))
    assert set(summary.detail) <= set(rows)


async def test_a_summary_that_does_not_fit_the_report_is_refused(store: Store) -> None:
    """Another provider, another range, missing cuts or a bad threshold: ValueError, never a wrong report."""
    sla = SLAS["by-minutes"]
    want = summary_request(START, END, now=END)
    other = await store.rollups.sla_summary(
        start=want.start,
        end=want.end,
        integration="payments",
        provider="adyen",
        bad_minute_threshold=0.05,
        splits=want.splits,
    )
    with pytest.raises(ValueError, match="adyen"):
        build_summary_report("x", sla, other, period_start=START, period_end=END, now=END)
    uncut = await store.rollups.sla_summary(
        start=want.start,
        end=want.end,
        integration=SLA[0],
        provider=SLA[1],
        bad_minute_threshold=0.05,
    )
    with pytest.raises(ValueError, match="not cut"):
        build_summary_report("x", sla, uncut, period_start=START, period_end=END, now=END)
    with pytest.raises(ValueError, match="covers"):
        build_summary_report("x", sla, uncut, period_start=START, period_end=END, now=END - DAY)
    with pytest.raises(ValueError, match="threshold"):
        await store.rollups.sla_summary(
            start=START, end=END, integration=SLA[0], provider=SLA[1], bad_minute_threshold=math.nan
        )


async def test_an_empty_store_reports_no_traffic(store: Store) -> None:
    """No rollups at all: 100% by definition, noted, from the summary as from no rows."""
    both = await _both(store, "by-minutes", START, END, END, 0.05)
    assert both.summary == both.rows
    assert both.summary.availability is not None
    assert both.summary.availability.no_traffic
    assert both.summary.availability.value == 1.0


async def test_postgresql_and_sqlite_give_identical_reports(
    sqlite_url: str, postgresql_url: str, open_store: backends.OpenStore
) -> None:
    """The same rollups in a SQLite and a PostgreSQL store give the very same reports."""
    rendered: list[str] = []
    for store_url in (sqlite_url, postgresql_url):
        opened = await open_store(store_url)
        await _fill(opened, 7)
        reports = [
            (await _both(opened, name, START, END, END + 3600, 0.05)).summary for name in SLAS
        ]
        rendered.append(render_json(reports))
    assert rendered[0] == rendered[1]
    assert '"credit"' in rendered[0]
