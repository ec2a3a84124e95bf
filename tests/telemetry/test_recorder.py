"""The rollup recorder: known event streams in, exact rows and timeline events out of the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from seawall import StoreError
from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    CallFinished,
    CallStarted,
    FailedOver,
    FallbackServed,
    MaintenanceChanged,
    ProbeFinished,
    ProviderHealthChanged,
    Rejected,
    RetryScheduled,
)
from seawall._states import BreakerState
from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from seawall.telemetry import Recorder

#: a minute-aligned Unix time
M0 = 1_699_999_980
BUCKETS = len(LATENCY_BOUNDS) + 1


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = M0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite:///{tmp_path}/seawall.db")
    yield store
    await store.close()


def attempt(
    provider: str, outcome: str, duration: float, integration: str = "payments"
) -> AttemptFinished:
    # ``at`` is monotonic and deliberately far from the wall clock: it must not be used.
    return AttemptFinished(
        at=12.0,
        integration=integration,
        provider=provider,
        attempt=1,
        outcome=outcome,
        status=None,
        duration=duration,
    )


def call(provider: str | None, outcome: str = "success") -> CallFinished:
    return CallFinished(
        at=12.0,
        integration="payments",
        provider=provider,
        method="POST",
        outcome=outcome,
        status=None,
        attempts=1,
        duration=0.1,
    )


def latency(**buckets: int) -> tuple[int, ...]:
    """A latency tuple from ``b05=2``-style bucket counts."""
    counts = [0] * BUCKETS
    for name, count in buckets.items():
        counts[int(name[1:])] = count
    return tuple(counts)


async def test_events_become_exact_minute_rows(store: Store) -> None:
    """Attempts, calls, rejections, retries and failovers land in the right minute, outcome and bucket."""
    clock = Clock(M0 + 10)
    recorder = Recorder(store, clock=clock)
    events: list[Any] = [
        CallStarted(at=12.0, integration="payments", method="POST", path="/"),  # ignored
        attempt("stripe", "success", 0.005),  # exactly on the first bound: lat_00 (le)
        attempt("stripe", "success", 0.2),  # exactly on 200 ms: lat_05
        attempt("stripe", "final", 0.2000001),  # just above: lat_06
        attempt("stripe", "timeout", 31.0),  # past the last bound: lat_18
        RetryScheduled(
            at=12.0,
            integration="payments",
            provider="stripe",
            attempt=1,
            delay=0.1,
            cause="timeout",
        ),
        attempt("stripe", "connect-error", 0.0),
        FailedOver(
            at=12.0, integration="payments", source="stripe", target="adyen", cause="connect-error"
        ),
        attempt("adyen", "throttled", 1.0),
        attempt("adyen", "failure", 0.75),
        attempt("adyen", "not-a-known-outcome", 0.3),  # an attempt, in no outcome column
        call("adyen"),
        Rejected(at=12.0, integration="payments", provider=None, reason="bulkhead-full"),
        call(None, outcome="bulkhead-full"),
        Rejected(at=12.0, integration="payments", provider="stripe", reason="circuit-open"),
    ]
    for event in events:
        recorder.emit(event)
    clock.now = M0 + 59.999  # still the first minute
    recorder.emit(call("stripe"))
    clock.now = M0 + 60  # the next minute
    recorder.emit(attempt("stripe", "success", 0.25))
    recorder.emit(call("stripe"))

    assert await recorder.flush() is True
    rows = await store.rollups.query(start=M0, end=M0 + 120, width=60)
    assert rows == [
        RollupRow(integration="payments", provider="", start=M0, width=60, rejected=1, calls=1),
        RollupRow(
            integration="payments",
            provider="adyen",
            start=M0,
            width=60,
            attempts=3,
            throttled=1,
            failure=1,
            calls=1,
            latency_sum=pytest.approx(2.05),  # type: ignore[arg-type]
            latency=latency(b07=1, b09=1, b11=1),
        ),
        RollupRow(
            integration="payments",
            provider="stripe",
            start=M0,
            width=60,
            attempts=5,
            success=2,
            final=1,
            timeout=1,
            connect_error=1,
            rejected=1,
            calls=1,
            retries=1,
            failovers=1,
            latency_sum=pytest.approx(31.4050001),  # type: ignore[arg-type]
            latency=latency(b00=2, b05=1, b06=1, b18=1),
        ),
        RollupRow(
            integration="payments",
            provider="stripe",
            start=M0 + 60,
            width=60,
            attempts=1,
            success=1,
            calls=1,
            latency_sum=0.25,
            latency=latency(b06=1),
        ),
    ]
    assert recorder.written_rows == 4
    assert recorder.pending_rows == 0


async def test_counting_goes_on_across_a_flush_within_the_minute(store: Store) -> None:
    """A flush mid-minute takes the cells written so far; later events start new ones."""
    clock = Clock(M0 + 10)
    recorder = Recorder(store, clock=clock)
    recorder.emit(attempt("stripe", "success", 0.1))
    assert await recorder.flush() is True
    clock.now = M0 + 20
    recorder.emit(attempt("stripe", "failure", 0.1))
    recorder.emit(call("stripe"))
    assert await recorder.flush() is True
    [row] = await store.rollups.query(start=M0, end=M0 + 60, width=60)
    assert (row.attempts, row.success, row.failure, row.calls) == (2, 1, 1, 1)


async def test_timeline_events_are_stored_with_wall_time(store: Store) -> None:
    """Breaker, failover, health, maintenance, probe changes, fallbacks and reloads reach store.events."""
    clock = Clock(M0)
    recorder = Recorder(store, clock=clock)

    def at(t: float, event: Any) -> None:
        clock.now = M0 + t
        recorder.emit(event)

    def maintenance(phase: str, wall: float) -> MaintenanceChanged:
        return MaintenanceChanged(
            at=5.0,
            wall=wall,
            integration="payments",
            provider="adyen",
            phase=phase,
            reason="upgrade",
        )

    def probe(ok: bool) -> ProbeFinished:
        return ProbeFinished(
            at=5.0, integration="payments", provider="stripe", ok=ok, duration=0.05
        )

    at(
        1,
        BreakerChanged(
            at=5.0,
            integration="payments",
            provider="stripe",
            old=BreakerState.CLOSED,
            new=BreakerState.OPEN,
            cause="failure-rate",
        ),
    )
    at(
        2,
        FailedOver(
            at=5.0, integration="payments", source="stripe", target="adyen", cause="circuit-open"
        ),
    )
    at(
        3,
        ProviderHealthChanged(
            at=5.0,
            integration="payments",
            provider="stripe",
            old="healthy",
            new="ejected",
            reason="outlier",
        ),
    )
    at(4, maintenance("draining", wall=M0 + 100))
    at(5, maintenance("open", wall=M0 + 160))
    at(6, probe(True))  # healthy, as assumed: not stored
    at(7, probe(False))  # ok -> fail
    at(8, probe(False))  # unchanged
    at(9, probe(True))  # fail -> ok
    at(10, FallbackServed(at=5.0, integration="payments", kind="static", cause="no-provider"))
    at(11, maintenance("closed", wall=M0 + 400))
    clock.now = M0 + 12
    recorder.record_reload(ok=True)
    clock.now = M0 + 13
    recorder.record_reload(ok=False)

    assert await recorder.flush() is True
    stored = await store.events.query(since=M0, until=M0 + 1000)
    assert [(e.at - M0, e.kind, e.integration, e.provider, e.data) for e in stored] == [
        (
            1,
            "breaker-changed",
            "payments",
            "stripe",
            {"old": "closed", "new": "open", "cause": "failure-rate"},
        ),
        (
            2,
            "failed-over",
            "payments",
            "stripe",
            {"source": "stripe", "target": "adyen", "cause": "circuit-open"},
        ),
        (
            3,
            "health-changed",
            "payments",
            "stripe",
            {"old": "healthy", "new": "ejected", "reason": "outlier"},
        ),
        (7, "probe-changed", "payments", "stripe", {"ok": False, "duration": 0.05, "detail": ""}),
        (9, "probe-changed", "payments", "stripe", {"ok": True, "duration": 0.05, "detail": ""}),
        (
            10,
            "fallback-served",
            "payments",
            None,
            {"kind": "static", "cause": "no-provider", "reference": ""},
        ),
        (12, "config-reload", None, None, {"ok": True}),
        (13, "config-reload", None, None, {"ok": False}),
        # MaintenanceChanged carries its own wall time
        (
            100,
            "maintenance-changed",
            "payments",
            "adyen",
            {"phase": "draining", "planned": True, "reason": "upgrade"},
        ),
        (
            160,
            "maintenance-changed",
            "payments",
            "adyen",
            {"phase": "open", "planned": True, "reason": "upgrade"},
        ),
        (
            400,
            "maintenance-changed",
            "payments",
            "adyen",
            {"phase": "closed", "planned": True, "reason": "upgrade"},
        ),
    ]
    assert {e.kind for e in stored} <= set(Recorder.KINDS)
    (window,) = await store.rollups.windows()
    assert (window.provider, window.start, window.end, window.planned, window.reason) == (
        "adyen",
        M0 + 100,
        M0 + 400,
        True,
        "upgrade",
    )


async def test_a_failing_store_keeps_the_batch_and_writes_it_later(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows and events the store refuses are kept, merged with newer counts, and written once it recovers."""
    clock = Clock(M0)
    recorder = Recorder(store, clock=clock)
    add, append = store.rollups.add, store.events.append

    async def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("store sqlite:///x: could not add rollup rows: disk I/O error")

    monkeypatch.setattr(store.rollups, "add", refuse)
    monkeypatch.setattr(store.events, "append", refuse)
    recorder.emit(call("stripe"))
    recorder.record_reload(ok=True)
    with caplog.at_level(logging.WARNING, logger="seawall.telemetry.recorder"):
        assert await recorder.flush() is False
        assert await recorder.flush() is False
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # once per outage, not per flush
    assert "kept in memory" in caplog.text
    assert (recorder.pending_rows, recorder.pending_events) == (1, 1)

    recorder.emit(call("stripe"))  # same minute: merged with the kept row
    clock.now = M0 + 60
    recorder.emit(call("stripe"))
    monkeypatch.setattr(store.rollups, "add", add)
    monkeypatch.setattr(store.events, "append", append)
    assert await recorder.flush() is True
    rows = await store.rollups.query(start=M0, end=M0 + 120)
    assert [(r.start, r.calls) for r in rows] == [(M0, 2), (M0 + 60, 1)]
    assert [e.kind for e in await store.events.query(since=M0, until=M0 + 120)] == ["config-reload"]
    assert (recorder.pending_rows, recorder.pending_events, recorder.dropped_rows) == (0, 0, 0)
    assert await recorder.flush() is True
    assert [(r.start, r.calls) for r in await store.rollups.query(start=M0, end=M0 + 120)] == [
        (M0, 2),
        (M0 + 60, 1),
    ]


async def test_a_long_outage_drops_the_oldest_minutes_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past max_minutes of backlog the oldest minutes go, counted and logged; the newest are written."""
    clock = Clock(M0)
    recorder = Recorder(store, clock=clock, max_minutes=2, max_events=2)
    add, append = store.rollups.add, store.events.append

    async def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("down")

    monkeypatch.setattr(store.rollups, "add", refuse)
    monkeypatch.setattr(store.events, "append", refuse)
    for minute in range(4):
        clock.now = M0 + 60 * minute
        recorder.emit(call("stripe"))
        recorder.emit(call("adyen"))
        recorder.emit(
            FallbackServed(at=1.0, integration="payments", kind="static", cause=str(minute))
        )
        await recorder.flush()
    assert recorder.dropped_rows == 4  # minutes 0 and 1, two providers each
    assert "dropped 2 rollup rows" in caplog.text
    assert recorder.dropped_events == 2
    assert "dropped 1 timeline events" in caplog.text

    monkeypatch.setattr(store.rollups, "add", add)
    monkeypatch.setattr(store.events, "append", append)
    assert await recorder.flush() is True
    rows = await store.rollups.query(start=M0, end=M0 + 600)
    assert sorted({r.start for r in rows}) == [M0 + 120, M0 + 180]
    stored = await store.events.query(since=M0, until=M0 + 600)
    assert [e.data["cause"] for e in stored] == ["2", "3"]


async def test_the_task_flushes_on_its_interval_and_stop_flushes_the_rest(store: Store) -> None:
    """start() writes every interval; stop() writes what came after the last flush, before returning."""
    recorder = Recorder(store, interval=0.02)
    recorder.start()
    recorder.start()  # a second start is a no-op
    recorder.emit(call("stripe"))
    for _ in range(200):
        if recorder.written_rows:
            break
        await asyncio.sleep(0.01)
    assert recorder.written_rows == 1
    await recorder.stop()

    slow = Recorder(store, interval=3600)
    slow.start()
    slow.emit(call("adyen"))
    slow.record_reload(ok=True)
    await slow.stop()
    totals = await store.rollups.totals(start=0, end=2e9)
    assert [(t.provider, t.calls) for t in totals] == [("adyen", 1), ("stripe", 1)]
    assert [e.kind for e in await store.events.query(since=0, until=2e9)] == ["config-reload"]


async def test_stop_without_a_store_logs_what_is_lost(caplog: pytest.LogCaptureFixture) -> None:
    """A recorder that never got a store keeps counting, and says what it could not store when stopped."""
    recorder = Recorder()
    recorder.emit(call("stripe"))
    recorder.record_reload(ok=True)
    assert await recorder.flush() is False
    with caplog.at_level(logging.ERROR, logger="seawall.telemetry.recorder"):
        await recorder.stop()
    assert "1 rollup rows and 1 timeline events not stored" in caplog.text
    with pytest.raises(RuntimeError, match="no store"):
        await recorder.maintain()


async def test_emit_never_raises(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """A broken event or clock is logged once and never reaches the caller."""

    def broken() -> float:
        raise OSError("clock")

    recorder = Recorder(store, clock=broken)
    with caplog.at_level(logging.WARNING, logger="seawall.telemetry.recorder"):
        recorder.emit(call("stripe"))
        recorder.emit(call("stripe"))
        recorder.emit(attempt("stripe", "success", "slow"))  # type: ignore[arg-type]
    assert caplog.text.count("recording an event failed") == 1


async def test_maintain_downsamples_and_purges_by_age(store: Store) -> None:
    """maintain(now) folds minute rows older than downsample_after and removes rows older than retain."""
    clock = Clock(M0)
    recorder = Recorder(store, clock=clock, downsample_after=3600, retain=3 * 3600)
    hour = M0 - M0 % 3600
    for h in range(4):
        clock.now = hour + h * 3600
        recorder.emit(call("stripe"))
    await recorder.flush()

    # At hour + 4h: hours 0-2 are over 1 h old (minutes folded), hour 0 is over 3 h old (purged).
    downsampled, purged = await recorder.maintain(hour + 4 * 3600)
    assert (downsampled, purged) == (3, 1)
    rows = await store.rollups.query(start=0, end=2e9)
    assert [(r.start - hour, r.width, r.calls) for r in rows] == [
        (3600, 3600, 1),
        (7200, 3600, 1),
        (10800, 60, 1),
    ]
    assert await recorder.maintain(hour + 4 * 3600) == (0, 0)
    with pytest.raises(ValueError, match="retain"):
        Recorder(store, downsample_after=7200, retain=3600)
