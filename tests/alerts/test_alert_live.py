"""Tests for seawall.alerts.LiveMetrics: window counts from real engine events."""

from __future__ import annotations

import logging
import math
import random

import pytest

from seawall._events import AttemptFinished, BreakerChanged
from seawall._states import BreakerState
from seawall._types import ManualClock
from seawall.alerts import MAX_RETENTION, LiveMetrics, WindowCounts
from seawall.store import LATENCY_BOUNDS, RollupRow
from tests.alerts.conftest import MONDAY, attempt, call, rejected, traffic


def make_live(start: float = MONDAY, **kwargs: float) -> tuple[ManualClock, LiveMetrics]:
    clock = ManualClock(start)
    return clock, LiveMetrics(clock=clock.now, **kwargs)


def test_counts_outcomes_calls_and_rejections_per_provider_and_integration() -> None:
    """Each event counts in its provider's series and its integration's; none-provider ones only there."""
    clock, live = make_live()
    for outcome in (
        "success",
        "success",
        "final",
        "throttled",
        "failure",
        "timeout",
        "connect-error",
    ):
        live.emit(attempt(outcome=outcome))
    live.emit(attempt(provider="adyen"))
    live.emit(call())
    live.emit(call(provider=None))
    live.emit(rejected("circuit-open"))
    live.emit(rejected("rate-limited", provider=None))
    clock.advance(5)
    stripe = live.window("payments", "stripe", seconds=60, now=clock.now())
    whole = live.window("payments", None, seconds=60, now=clock.now())
    assert (stripe.attempts, whole.attempts) == (7, 8)
    assert [stripe.outcome(o) for o in ("success", "final", "throttled", "failure")] == [2, 1, 1, 1]
    assert (stripe.calls, whole.calls) == (1, 2)
    assert stripe.rejections["circuit-open"] == 1
    assert (stripe.rejected, whole.rejected) == (1, 2)
    assert whole.rejections["rate-limited"] == 1
    assert live.window("email", None, seconds=60, now=clock.now()).samples == 0


def test_error_rate_counts_faults_and_error_rejections_but_not_throttles_or_rate_limits() -> None:
    """error rate = (faults + error rejections) / (good + faults + error rejections)."""
    clock, live = make_live()
    for outcome in ["success"] * 5 + ["final"] * 2 + ["failure", "timeout"] + ["throttled"] * 7:
        live.emit(attempt(outcome=outcome))
    live.emit(rejected("circuit-open"))
    live.emit(rejected("retry-budget-exhausted"))  # the engine's slug for the retry budget
    for _ in range(9):
        live.emit(rejected("rate-limited"))
    counts = live.window("payments", "stripe", seconds=60, now=clock.now() + 1)
    assert counts.error_rate == pytest.approx(4 / 11)
    assert counts.availability == pytest.approx(7 / 11)
    assert counts.vendor_error_rate == pytest.approx(2 / 9)
    assert counts.error_rejections == 2


def test_no_data_is_none_not_zero() -> None:
    """A window with no answered attempts has no error rate, availability or latency."""
    clock, live = make_live()
    live.emit(attempt(outcome="throttled"))
    counts = live.window("payments", "stripe", seconds=60, now=clock.now())
    assert counts.error_rate is None
    assert counts.availability is None
    assert live.window("payments", "stripe", seconds=60, now=clock.now()).latency(0.5) is not None
    assert live.window("crm", None, seconds=60, now=clock.now()).latency(0.95) is None


def test_throughput_is_calls_per_second_over_the_span_covered() -> None:
    """120 calls over the last minute read as 2 per second."""
    clock, live = make_live()
    clock.advance(300)  # counting started well before the window
    for _ in range(12):
        for _ in range(10):
            live.emit(call())
        clock.advance(5)
    counts = live.window("payments", "stripe", seconds=60, now=clock.now())
    assert counts.calls == 120
    assert counts.seconds == pytest.approx(60.0)
    assert counts.throughput == pytest.approx(2.0)


def test_throughput_right_after_start_divides_by_the_time_counted() -> None:
    """Twenty seconds after starting, a 1-minute window's rate is over 20 s, not 60."""
    clock, live = make_live(start=MONDAY + 3)
    for _ in range(40):
        live.emit(call())
    clock.advance(20)
    counts = live.window("payments", "stripe", seconds=60, now=clock.now())
    assert counts.seconds == pytest.approx(20.0)
    assert counts.throughput == pytest.approx(2.0)


def test_windows_match_a_brute_force_count_of_the_events() -> None:
    """Random traffic for 50 minutes: every window equals counting the events in its buckets."""
    rng = random.Random(7)
    clock, live = make_live()
    events: list[tuple[float, str]] = []
    for _ in range(3000):
        clock.advance(rng.expovariate(1.0))
        outcome = rng.choice(["success", "success", "failure", "final", "timeout"])
        live.emit(attempt(outcome=outcome))
        events.append((clock.now(), outcome))
    res = live.resolution
    for _ in range(200):
        now = clock.now() - rng.uniform(0, 600)
        seconds = rng.choice([10.0, 60.0, 300.0, 900.0, 1800.0])
        first = math.floor((now - seconds) / res)
        last = math.floor(now / res)
        inside = [o for t, o in events if first <= math.floor(t / res) <= last]
        counts = live.window("payments", "stripe", seconds=seconds, now=now)
        assert counts.attempts == len(inside)
        assert counts.outcome("failure") == inside.count("failure")
        assert counts.outcome("success") == inside.count("success")


def test_long_windows_stay_within_two_percent_after_thinning() -> None:
    """Two days of steady traffic: a 1-day window counts what happened in it, within 2%."""
    clock, live = make_live(retention=3 * 86_400)
    for _ in range(2 * 1440):  # one attempt every 10 s for two days, by minute
        for _ in range(6):
            live.emit(attempt())
            clock.advance(10)
    counts = live.window("payments", "stripe", seconds=86_400, now=clock.now())
    assert counts.attempts == pytest.approx(8640, rel=0.02)
    six_hours = live.window("payments", "stripe", seconds=6 * 3600, now=clock.now())
    assert six_hours.attempts == pytest.approx(2160, rel=0.02)


def test_history_beyond_retention_is_dropped() -> None:
    """With a 10-minute retention, a 1-hour window only sees (about) the last 10 minutes."""
    clock, live = make_live(retention=600)
    for _ in range(360):
        live.emit(attempt())
        clock.advance(10)
    counts = live.window("payments", "stripe", seconds=3600, now=clock.now())
    assert 55 <= counts.attempts <= 70


def test_retention_is_capped_at_a_week_and_must_be_positive() -> None:
    """Retention grows up to seven days; zero or negative is refused."""
    _, live = make_live()
    live.retention = 30 * 86_400
    assert live.retention == MAX_RETENTION
    with pytest.raises(ValueError, match="positive"):
        live.retention = 0
    with pytest.raises(ValueError, match="divide a minute"):
        LiveMetrics(resolution=7)


def test_latency_quantiles_interpolate_inside_buckets_like_histogram_quantile() -> None:
    """Durations uniform on (0, 1 s): p50 0.5 s, p95 0.95 s, p99 0.99 s, read off the buckets."""
    clock, live = make_live()
    for i in range(1000):
        live.emit(attempt(duration=(i + 0.5) / 1000))
    counts = live.window("payments", "stripe", seconds=60, now=clock.now())
    assert counts.latency(0.5) == pytest.approx(0.5)
    assert counts.latency(0.95) == pytest.approx(0.95)
    assert counts.latency(0.99) == pytest.approx(0.99)
    assert counts.latency_mean == pytest.approx(0.5)


def test_latency_quantile_of_a_skewed_distribution() -> None:
    """90 calls at 40 ms and 10 at 3 s: p50 in (25, 50] ms, p95 and p99 in the (2.5, 5] s bucket."""
    clock, live = make_live()
    for _ in range(90):
        live.emit(attempt(duration=0.04))
    for _ in range(10):
        live.emit(attempt(duration=3.0))
    counts = live.window("payments", "stripe", seconds=60, now=clock.now())
    assert counts.histogram[LATENCY_BOUNDS.index(0.05)] == 90
    # rank 50 of the 90 in (0.025, 0.05]: 0.025 + 0.025 * 50 / 90
    assert counts.latency(0.5) == pytest.approx(0.025 + 0.025 * 50 / 90)
    # rank 95: 5 of the 10 in (2.5, 5]: 2.5 + 2.5 * 5 / 10
    assert counts.latency(0.95) == pytest.approx(3.75)
    assert counts.latency(0.99) == pytest.approx(2.5 + 2.5 * 9 / 10)


def test_seeded_rollups_fill_windows_and_last_success() -> None:
    """After a restart, stored minute rows count in windows and date the last success."""
    clock, live = make_live(start=MONDAY + 600)
    latency = [0] * (len(LATENCY_BOUNDS) + 1)
    latency[LATENCY_BOUNDS.index(0.1)] = 10
    rows = [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(MONDAY + 60 * m),
            width=60,
            attempts=10,
            success=8,
            failure=2,
            calls=10,
            latency_sum=0.8,
            latency=tuple(latency),
        )
        for m in range(5, 10)
    ]
    rows.append(
        RollupRow(
            integration="payments", provider="", start=int(MONDAY + 540), width=60, rejected=4
        )
    )
    assert live.seed(rows, since=MONDAY) == 6
    assert live.watching_since == MONDAY
    assert live.last_success("payments", "stripe") == MONDAY + 600
    counts = live.window("payments", "stripe", seconds=300, now=clock.now())
    assert (counts.attempts, counts.calls) == (50, 50)
    assert counts.error_rate == pytest.approx(0.2)
    whole = live.window("payments", None, seconds=300, now=clock.now())
    assert whole.rejected == 4
    # seeded rejections have no reason: they are not counted as errors
    assert whole.error_rate == pytest.approx(0.2)
    # live events after the seed add to the same windows
    traffic(live, ok=10)
    clock.advance(1)
    assert live.window("payments", "stripe", seconds=300, now=clock.now()).attempts == 60


def test_seeding_after_events_merges_without_losing_them() -> None:
    """Rows seeded once events already arrived are merged in, not written over them."""
    clock, live = make_live(start=MONDAY + 900)
    traffic(live, ok=3, bad=1)
    rows = [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(MONDAY + 600),
            width=60,
            attempts=5,
            success=5,
        )
    ]
    live.seed(rows)
    clock.advance(5)
    counts = live.window("payments", "stripe", seconds=600, now=clock.now())
    assert counts.attempts == 9
    assert counts.outcome("failure") == 1


def test_seed_skips_rows_older_than_the_retention() -> None:
    """Rows from before the retention are not counted."""
    _, live = make_live(start=MONDAY + 2 * 86_400, retention=3600)
    old = RollupRow(
        integration="payments",
        provider="stripe",
        start=int(MONDAY),
        width=60,
        attempts=5,
        success=5,
    )
    assert live.seed([old]) == 0
    assert live.last_success("payments", "stripe") is None


def test_emit_never_raises_and_ignores_other_events(caplog: pytest.LogCaptureFixture) -> None:
    """A malformed event is logged once and dropped; events alerts do not count are ignored."""
    clock, live = make_live()
    broken = AttemptFinished(
        at=0.0,
        integration="payments",
        provider="stripe",
        attempt=1,
        outcome="success",
        status=200,
        duration=None,  # type: ignore[arg-type]
    )
    with caplog.at_level(logging.WARNING, logger="seawall.alerts"):
        live.emit(broken)
        live.emit(broken)
    assert len(caplog.records) == 1
    live.emit(
        BreakerChanged(
            at=0.0,
            integration="payments",
            provider="stripe",
            old=BreakerState.CLOSED,
            new=BreakerState.OPEN,
        )
    )
    live.emit(attempt())
    assert live.window("payments", "stripe", seconds=60, now=clock.now()).attempts == 1


def test_last_success_is_the_wall_time_of_the_latest_success() -> None:
    """Failures do not move the last success; a success does, per provider and integration."""
    clock, live = make_live()
    live.emit(attempt())
    first = clock.now()
    clock.advance(30)
    live.emit(attempt(outcome="failure"))
    assert live.last_success("payments", "stripe") == first
    clock.advance(30)
    live.emit(attempt(provider="adyen"))
    assert live.last_success("payments", "stripe") == first
    assert live.last_success("payments") == first + 60


def test_an_empty_window_reads_as_zero_counts() -> None:
    """A series never seen gives zero counts, not an error."""
    counts = WindowCounts.empty(60.0)
    assert (counts.samples, counts.throughput, counts.error_rate) == (0, 0.0, None)


def test_an_integration_adds_up_its_providers_and_what_no_provider_took() -> None:
    """Each event counts once; the integration's window, last success and listing add up."""
    clock, live = make_live()
    live.emit(attempt(provider="stripe"))
    clock.advance(20)  # the other provider's success is later, in a later bucket
    live.emit(attempt(provider="adyen"))
    live.emit(attempt(provider="adyen", outcome="failure"))
    live.emit(call(provider=""))  # no provider: the integration's own series
    live.emit(rejected("bulkhead-full", provider=None))
    clock.advance(1)
    whole = live.window("payments", None, seconds=60, now=clock.now())
    assert (whole.attempts, whole.calls, whole.rejected) == (3, 1, 1)
    assert live.window("payments", "adyen", seconds=60, now=clock.now()).attempts == 2
    assert live.window("payments", "stripe", seconds=10, now=clock.now()).attempts == 0
    assert live.last_success("payments") == MONDAY + 20
    assert live.last_success("payments", "stripe") == MONDAY
    assert live.series() == [("payments", None), ("payments", "adyen"), ("payments", "stripe")]
