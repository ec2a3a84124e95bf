"""Tests for seawall.alerts._baseline and _history: bands learned from history."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from seawall._errors import StoreError
from seawall.alerts import Band, Baselines, HistorySpec, LiveMetrics, history_samples, learn
from seawall.config._operations import BaselineSpec
from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from tests.alerts.conftest import DAY, HOUR, MONDAY, attempt

SPEC = BaselineSpec(window=7 * DAY, seasonality="hour-of-week", deviations=3, min_samples=3)


def test_band_is_the_median_and_scaled_mad() -> None:
    """median 10, MAD 1 -> spread 1.4826; a value 3 spreads above is a breach only beyond it."""
    samples = [(MONDAY - DAY * d, v) for d, v in enumerate([9.0, 10.0, 11.0, 10.0, 30.0], start=1)]
    band = learn(samples, at=MONDAY, spec=BaselineSpec(seasonality="none", min_samples=3))
    assert band is not None
    assert band.median == 10.0
    assert band.mad == 1.0
    assert band.sigma == pytest.approx(1.4826)
    assert band.deviation(13.0) == pytest.approx(3 / 1.4826)
    assert not band.breached(14.0, 3, "above")
    assert band.breached(14.5, 3, "above")
    assert band.breached(5.5, 3, "below")
    assert not band.breached(14.5, 3, "below")
    assert band.breached(5.5, 3, "both")
    assert band.breached(14.5, 3, "both")
    assert band.edge(3, "above") == pytest.approx(10 + 3 * 1.4826)
    assert band.edge(3, "both", value=1.0) == pytest.approx(10 - 3 * 1.4826)


def test_a_flat_history_gets_a_floor_on_its_spread() -> None:
    """Seven identical samples: the spread is 5% of the median (or the absolute floor), never 0."""
    flat = [(MONDAY - HOUR * h, 0.2) for h in range(1, 8)]
    band = learn(flat, at=MONDAY, spec=BaselineSpec(seasonality="none"))
    assert band is not None
    assert band.sigma == pytest.approx(0.01)
    assert not band.breached(0.22, 3, "above")
    zero = learn(
        [(t, 0.0) for t, _ in flat], at=MONDAY, spec=BaselineSpec(seasonality="none"), floor=0.005
    )
    assert zero is not None
    assert zero.sigma == 0.005
    assert not zero.breached(0.01, 3, "above")
    assert zero.breached(0.02, 3, "above")


def test_hour_of_week_uses_the_same_weekday_and_hour() -> None:
    """Mondays 03:00 are compared with earlier Mondays 03:00, not other days' 03:00."""
    at = MONDAY + 7 * DAY + 3 * HOUR  # Monday 03:00, a week later
    samples = [(MONDAY + 3 * HOUR + m * 60, 5.0) for m in range(0, 60, 5)]  # last Monday 03:xx
    samples += [(MONDAY + d * DAY + 3 * HOUR + 600, 50.0) for d in range(1, 7)]  # other days 03:10
    band = learn(samples, at=at, spec=SPEC)
    assert band is not None
    assert (band.level, band.slot, band.samples, band.median) == (
        "hour-of-week",
        "Mon 03:00-04:00",
        12,
        5.0,
    )


def test_missing_history_falls_back_to_the_hour_of_day_then_to_everything() -> None:
    """Too few samples for the hour of the week: the hour of the day; then all samples; then None."""
    at = MONDAY + 7 * DAY + 3 * HOUR
    daily = [(MONDAY + d * DAY + 3 * HOUR + 600, 7.0) for d in range(1, 5)]  # Tue..Fri 03:10
    band = learn(daily, at=at, spec=SPEC)
    assert band is not None
    assert (band.level, band.slot, band.median) == ("hour-of-day", "03:00-04:00", 7.0)
    scattered = [(MONDAY + h * HOUR, 2.0) for h in (5, 30, 77)]
    band = learn(scattered, at=at, spec=SPEC)
    assert band is not None
    assert (band.level, band.slot) == ("none", "any hour")
    assert learn(scattered[:2], at=at, spec=SPEC) is None


def test_only_samples_inside_the_window_before_at_count() -> None:
    """Samples older than the window, or at/after ``at``, are not history."""
    spec = BaselineSpec(window=DAY, seasonality="none", min_samples=2)
    at = MONDAY + 10 * DAY
    samples = [
        (at - 2 * DAY, 1.0),
        (at - 3 * DAY, 1.0),
        (at - HOUR, 100.0),
        (at, 1.0),
        (at + HOUR, 1.0),
    ]
    assert learn(samples, at=at, spec=spec) is None
    band = learn([*samples, (at - 2 * HOUR, 100.0)], at=at, spec=spec)
    assert band is not None
    assert band.median == 100.0


def test_hours_are_read_in_the_given_time_zone() -> None:
    """At UTC+02:00, 01:00 UTC is 03:00 local: the samples of local 03:00 are used."""
    tz = timezone(timedelta(hours=2))
    at = MONDAY + 7 * DAY + 1 * HOUR  # Monday 03:00 at UTC+2
    samples = [(MONDAY + d * DAY + HOUR + 60, 4.0) for d in range(3)]  # 03:01 local, Mon..Wed
    band = learn(samples, at=at, spec=SPEC, tz=tz)
    assert band is not None
    assert band.slot == "03:00-04:00"


def minute_row(
    minute: int, *, success: int = 10, failure: int = 0, duration: float = 0.1, calls: int = 10
) -> RollupRow:
    latency = [0] * (len(LATENCY_BOUNDS) + 1)
    latency[LATENCY_BOUNDS.index(duration)] = success + failure
    return RollupRow(
        integration="inventory",
        provider="shipbob",
        start=int(MONDAY + 60 * minute),
        width=60,
        attempts=success + failure,
        success=success,
        failure=failure,
        calls=calls,
        latency_sum=duration * (success + failure),
        latency=tuple(latency),
    )


def test_history_samples_are_one_per_whole_window_slice() -> None:
    """Ten minute rows give two 5-minute samples; a slice cut by the range gives none."""
    rows = [minute_row(m, failure=1 if m < 5 else 3) for m in range(10)]
    rows.append(minute_row(12))  # its slice (10..15) ends after ``end``
    samples = history_samples(rows, metric="error_rate", window=300, start=MONDAY, end=MONDAY + 720)
    assert [t for t, _ in samples] == [MONDAY + 150, MONDAY + 450]
    assert [v for _, v in samples] == pytest.approx([5 / 55, 15 / 65])
    hour = RollupRow(
        integration="inventory",
        provider="shipbob",
        start=int(MONDAY),
        width=3600,
        attempts=4,
        success=4,
        calls=4,
    )
    [(at, value)] = history_samples(
        [hour], metric="throughput", window=300, start=MONDAY, end=MONDAY + 3600
    )
    assert at == MONDAY + 1800
    assert value == pytest.approx(4 / 3600)


def test_history_and_live_values_use_the_same_maths() -> None:
    """The same traffic gives the same p95 read from rollup rows as from live events."""
    rows = [minute_row(m, success=9, failure=1, duration=0.25) for m in range(5)]
    rows += [minute_row(m, success=1, duration=2.0) for m in range(5)]
    [(_, from_rows)] = history_samples(
        rows, metric="latency_p95", window=300, start=MONDAY, end=MONDAY + 300
    )
    clock = [MONDAY]
    live = LiveMetrics(clock=lambda: clock[0])
    for _ in range(5):
        for _ in range(10):
            live.emit(attempt("inventory", "shipbob", duration=0.25))
        live.emit(attempt("inventory", "shipbob", duration=2.0))
    live_value = live.window("inventory", "shipbob", seconds=300, now=MONDAY + 1).latency(0.95)
    assert from_rows == pytest.approx(live_value)


def test_baselines_feed_and_band_are_cached_per_hour() -> None:
    """Fed samples give a band; a configured rule without history is learning (None)."""
    baselines = Baselines()
    spec = HistorySpec(
        integration="inventory", provider=None, metric="latency_p95", window=300, spec=SPEC
    )
    baselines.configure({"slow": spec, "new": spec})
    baselines.feed("slow", [(MONDAY - 7 * DAY + 60 * m, 0.1) for m in range(60)])
    band = baselines.band("slow", MONDAY + 600)
    assert isinstance(band, Band)
    assert band.level == "hour-of-week"
    assert baselines.band("slow", MONDAY + 1200) is band  # same hour: cached
    assert baselines.band("new", MONDAY) is None
    assert baselines.band("unknown", MONDAY) is None
    assert baselines.samples("slow") == 60


class FailingRollups:
    """A rollups reader whose store is down."""

    def __init__(self) -> None:
        self.calls = 0

    async def query(
        self,
        *,
        start: float,
        end: float,
        integration: str | None = None,
        provider: str | None = None,
        width: int | None = None,
    ) -> list[RollupRow]:
        self.calls += 1
        raise StoreError("the database is locked")


async def test_baselines_refresh_from_a_real_store(tmp_path: Path) -> None:
    """History from stored minute rows: one sample per 5 minutes, refreshed at most every 5 minutes."""
    store = await Store.open(f"sqlite:///{tmp_path}/seawall.db")
    try:
        await store.rollups.add([minute_row(m, failure=m % 3) for m in range(0, 24 * 60)])
        baselines = Baselines(refresh_every=300)
        spec = HistorySpec(
            integration="inventory", provider=None, metric="error_rate", window=300, spec=SPEC
        )
        baselines.configure({"errors": spec})
        now = MONDAY + DAY + 30
        assert await baselines.refresh(store.rollups, now)
        assert baselines.samples("errors") == 288
        band = baselines.band("errors", now)
        assert band is not None
        assert band.median == pytest.approx(5 / 55)
        assert not await baselines.refresh(store.rollups, now + 60)  # too soon
        assert await baselines.refresh(store.rollups, now + 301)
    finally:
        await store.close()


async def test_a_store_failure_keeps_the_history_held(caplog: pytest.LogCaptureFixture) -> None:
    """When the store fails, the samples already held stay and the failure is logged once."""
    baselines = Baselines(refresh_every=0)
    spec = HistorySpec(
        integration="inventory", provider=None, metric="error_rate", window=300, spec=SPEC
    )
    baselines.configure({"errors": spec})
    baselines.feed("errors", [(MONDAY - HOUR * h, 0.01) for h in range(1, 30)])
    failing = FailingRollups()
    assert not await baselines.refresh(failing, MONDAY)
    assert not await baselines.refresh(failing, MONDAY + 10)
    assert failing.calls == 2
    assert baselines.samples("errors") == 29
    assert len([r for r in caplog.records if "baselines" in r.getMessage()]) == 1
