"""Live counts for alert rules: an event sink that answers window sums in constant time.

:class:`LiveMetrics` keeps, per (integration, provider), and per integration
for the calls and rejections no provider took, the running totals of the
counts in :mod:`seawall.alerts._counts`. Each event counts in one series; an
integration's window (provider ``None``) adds up its series when read.
Each time a series enters a new bucket of ``resolution`` seconds it keeps a
snapshot of its totals, so the counts of any window are one subtraction::

    window(now - w, now] = totals at the end of now's bucket - totals at the start of the first

Finding the snapshot is a binary search, so the cost of a window does not grow
with its length: a thousand rules read their windows in a few milliseconds.

Old snapshots are thinned as they age -- every bucket for the last hour, one a
minute up to six hours, one per five minutes up to a day, one an hour beyond
-- so a week of history costs about a thousand snapshots per series. A window
reaching that far back starts at the first snapshot kept inside it: at most
an hour late for a multi-day window, well under 2% of it.

Events carry monotonic times, which say nothing about the calendar; like the
recorder, the sink stamps each event with its wall ``clock`` when it arrives.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from seawall._events import AttemptFinished, CallFinished, Event, Rejected
from seawall.alerts._counts import (
    ATTEMPTS,
    CALLS,
    LATENCY,
    LATENCY_SUM,
    OUTCOME_AT,
    REJECTION_AT,
    SIZE,
    WindowCounts,
    row_counts,
)
from seawall.store import LATENCY_BOUNDS, RollupRow

__all__ = ["MAX_RETENTION", "LiveMetrics"]

_log = logging.getLogger("seawall.alerts")

#: the longest history kept in memory: a week
MAX_RETENTION = 7 * 86_400.0
_SUCCESS = OUTCOME_AT["success"]
_OTHER = REJECTION_AT["other"]
#: (age up to, keep one snapshot per) -- older than the last tier: one per hour
_TIERS: tuple[tuple[float, float], ...] = ((3600.0, 0.0), (6 * 3600.0, 60.0), (86_400.0, 300.0))
_COARSEST = 3600.0
_THIN_EVERY = 60.0

_Key = tuple[str, str | None]


class _Series:
    """One series' running totals and its snapshots at bucket starts."""

    __slots__ = (
        "bucket_end",
        "last_bucket",
        "last_success",
        "next_thin",
        "snaps",
        "starts",
        "totals",
    )

    def __init__(self) -> None:
        self.totals: list[float] = [0.0] * SIZE
        #: bucket indices that have a snapshot, ascending
        self.starts: list[int] = []
        #: the totals as the bucket of the same position began
        self.snaps: list[array[float]] = []
        self.last_bucket = -1
        #: until when an event counts in ``last_bucket`` as it is (see ``LiveMetrics._at``)
        self.bucket_end = -math.inf
        self.last_success: float | None = None
        self.next_thin = 0.0

    def enter(self, bucket: int) -> None:
        """Count into ``bucket`` from now on (a clock that went back keeps the last one)."""
        if bucket > self.last_bucket:
            self.starts.append(bucket)
            self.snaps.append(array("d", self.totals))
            self.last_bucket = bucket

    def before(self, bucket: int) -> array[float] | list[float]:
        """The totals as ``bucket`` began (the first snapshot kept at or after it)."""
        i = bisect_left(self.starts, bucket)
        return self.snaps[i] if i < len(self.snaps) else self.totals

    def thin(self, now: float, resolution: float, retention: float) -> None:
        """Drop snapshots older than ``retention``; keep fewer as they age (see the module)."""
        oldest = math.floor((now - retention) / resolution)
        starts: list[int] = []
        snaps: list[array[float]] = []
        last_key: tuple[float, int] | None = None
        for bucket, snap in zip(self.starts, self.snaps, strict=True):
            if bucket < oldest:
                continue
            at = bucket * resolution
            step = _step(now - at)
            key = (step, bucket) if step <= resolution else (step, int(at // step))
            if key != last_key:
                starts.append(bucket)
                snaps.append(snap)
                last_key = key
        self.starts, self.snaps = starts, snaps

    def deltas(self) -> dict[int, list[float]]:
        """The counts added in each bucket that has a snapshot (for re-seeding)."""
        out: dict[int, list[float]] = {}
        ends = [*self.snaps[1:], self.totals]
        for bucket, start, end in zip(self.starts, self.snaps, ends, strict=True):
            out[bucket] = [b - a for a, b in zip(start, end, strict=True)]
        return out


def _step(age: float) -> float:
    for limit, step in _TIERS:
        if age <= limit:
            return step
    return _COARSEST


class LiveMetrics:
    """An :class:`~seawall._events.EventSink` keeping recent counts for alert rules.

    ::

        live = LiveMetrics()
        engine = Engine(config, upstream=upstream, sink=FanOutSink([recorder, live]))
        live.seed(await store.rollups.query(start=now - live.retention, end=now, width=60))
        counts = live.window("payments", None, seconds=60.0, now=time.time())
        counts.error_rate, counts.latency(0.95), counts.throughput

    ``AttemptFinished`` counts an attempt, its outcome, its latency bucket
    (over :data:`~seawall.store.LATENCY_BOUNDS`, ``le`` semantics) and sum,
    and a success's time; ``CallFinished`` counts a call; ``Rejected`` a
    rejection by reason. Each counts in its provider's series (when it has
    one) and in its integration's. ``emit`` never raises.
    """

    def __init__(
        self,
        *,
        resolution: float = 10.0,
        retention: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if resolution <= 0 or 60 % resolution:
            msg = (
                "the resolution must divide a minute (1, 2, 5, 10, 15, 30 or 60 s), "
                f"not {resolution}"
            )
            raise ValueError(msg)
        self._resolution = float(resolution)
        self._retention = 0.0
        self.retention = retention
        self._clock = clock
        #: per (integration, provider): provider None holds the events no provider took
        self._series: dict[_Key, _Series] = {}
        #: the same series by integration, then provider (two lookups on strings, no tuple)
        self._index: dict[str, dict[str | None, _Series]] = {}
        self._warned = False
        #: since when the counts are complete (the clock at start, or the earliest seeded row)
        self.watching_since = clock()
        self._handlers: dict[type, Callable[[Any], None]] = {
            AttemptFinished: self._attempt_finished,
            CallFinished: self._call_finished,
            Rejected: self._rejected,
        }

    # -- settings ----------------------------------------------------------------------

    @property
    def resolution(self) -> float:
        return self._resolution

    @property
    def retention(self) -> float:
        """Seconds of history kept (at least one bucket, at most :data:`MAX_RETENTION`)."""
        return self._retention

    @retention.setter
    def retention(self, seconds: float) -> None:
        if not seconds > 0:
            msg = f"retention must be positive, not {seconds}"
            raise ValueError(msg)
        self._retention = min(max(float(seconds), self._resolution), MAX_RETENTION)

    # -- the sink (hot path) -------------------------------------------------------------

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """The event types this sink handles and the function for each (see ``TypedSink``)."""
        return self._handlers

    def emit(self, event: Event) -> None:
        """Count ``event``; never raises, ignores the kinds it does not count."""
        handle = self._handlers.get(type(event))
        if handle is None:
            return
        try:
            handle(event)
        except Exception:  # noqa: BLE001 - EventSink contract: counting must never break a call
            if not self._warned:
                self._warned = True
                _log.warning(
                    "counting an event for alerts failed; later failures are silent",
                    exc_info=True,
                )

    def _at(self, integration: str, provider: str | None, now: float) -> _Series:
        """The one series an event counts in, entered into ``now``'s bucket.

        An event counts once: in its provider's series, or in the integration's
        provider-less one. An integration's counts are the sum of its series,
        added up when read (rare) rather than counted twice per event (always).
        """
        provider = provider or None  # an event with provider "" counts as provider-less
        by_provider = self._index.get(integration)
        series = None if by_provider is None else by_provider.get(provider)
        if series is None:
            series = self._series[(integration, provider)] = _Series()
            self._index.setdefault(integration, {})[provider] = series
        bucket = math.floor(now / self._resolution)
        if bucket > series.last_bucket:
            if now >= series.next_thin:
                series.thin(now, self._resolution, self._retention)
                series.next_thin = now + _THIN_EVERY
            series.enter(bucket)
        # until then, the hot handlers count in this series without calling here
        series.bucket_end = (series.last_bucket + 1) * self._resolution
        return series

    def _members(self, integration: str, provider: str | None) -> list[_Series]:
        """The series a read of (integration, provider) adds up: one, or all of its integration."""
        by_provider = self._index.get(integration)
        if not by_provider:
            return []
        if provider is not None:
            found = by_provider.get(provider)
            return [] if found is None else [found]
        return list(by_provider.values())

    def _attempt_finished(self, event: AttemptFinished) -> None:
        outcome = OUTCOME_AT.get(event.outcome)
        duration = event.duration if event.duration >= 0 else 0.0  # also NaN -> 0
        now = self._clock()
        by_provider = self._index.get(event.integration)  # _at's lookup, inlined: every call
        series = None if by_provider is None else by_provider.get(event.provider)
        if series is None or now >= series.bucket_end:
            series = self._at(event.integration, event.provider, now)
        totals = series.totals
        totals[ATTEMPTS] += 1
        if outcome is not None:
            totals[outcome] += 1
            if outcome == _SUCCESS:
                series.last_success = now
        totals[LATENCY + bisect_left(LATENCY_BOUNDS, duration)] += 1
        totals[LATENCY_SUM] += duration

    def _call_finished(self, event: CallFinished) -> None:
        now = self._clock()
        by_provider = self._index.get(event.integration)  # _at's lookup, inlined: every call
        series = None if by_provider is None else by_provider.get(event.provider)
        if series is None or now >= series.bucket_end:
            series = self._at(event.integration, event.provider, now)
        series.totals[CALLS] += 1

    def _rejected(self, event: Rejected) -> None:
        at = REJECTION_AT.get(event.reason, _OTHER)
        self._at(event.integration, event.provider, self._clock()).totals[at] += 1

    # -- reading --------------------------------------------------------------------------

    def window(
        self, integration: str, provider: str | None, *, seconds: float, now: float
    ) -> WindowCounts:
        """The counts of (at least) the last ``seconds`` up to ``now``, in whole buckets.

        The window runs from the bucket holding ``now - seconds`` to the one
        holding ``now``: it covers the span asked for, and up to one bucket
        more. ``provider=None`` is the whole integration. The counts'
        ``seconds`` is the span really covered, from the first bucket's start
        (or since counting began, when later) to ``now``; rates divide by it.
        """
        res = self._resolution
        first = math.floor((now - seconds) / res)
        last = math.floor(now / res)
        span = now - max(first * res, min(self.watching_since, now))
        members = self._members(integration, provider)
        if not members:
            return WindowCounts.empty(span)
        counts = [0.0] * SIZE
        for series in members:
            start = series.before(first)
            end = series.before(last + 1)
            counts = [c + b - a for c, a, b in zip(counts, start, end, strict=True)]
        return WindowCounts(counts, span)

    def last_success(self, integration: str, provider: str | None = None) -> float | None:
        """Wall time of the series' last successful attempt; None if none is known."""
        known = [
            s.last_success
            for s in self._members(integration, provider)
            if s.last_success is not None
        ]
        return max(known) if known else None

    def series(self) -> list[tuple[str, str | None]]:
        """The (integration, provider) pairs counted so far (provider None: the integration)."""
        pairs: set[_Key] = {key for key in self._series if key[1] is not None}
        pairs.update((integration, None) for integration in self._index)
        return sorted(pairs, key=lambda k: (k[0], k[1] or ""))

    # -- history ----------------------------------------------------------------------------

    def seed(self, rows: Iterable[RollupRow], *, since: float | None = None) -> int:
        """Add stored rollup rows (minute or hour) so windows and last success survive a restart.

        ``since`` is the start of the range the rows were read for: counting is
        then complete from there (what :attr:`watching_since` says). A row is
        counted in the last bucket it covers; a success in it is dated at the
        row's end (or now, for the current minute). Rows older than the
        retention are skipped. Returns the rows added. Rows must not repeat
        counts the sink already has (read the store before the events arrive,
        or only the minutes before the sink started).
        """
        res = self._resolution
        now = self._clock()
        oldest = now - self._retention
        added: dict[_Key, dict[int, list[float]]] = {}
        successes: dict[_Key, float] = {}
        count = 0
        for row in rows:
            end = row.start + row.width
            if end <= oldest:
                continue
            count += 1
            bucket = min(math.floor((end - 1e-6) / res), math.floor(now / res))
            values = row_counts(row)
            key: _Key = (row.integration, row.provider or None)
            into = added.setdefault(key, {})
            held = into.get(bucket)
            into[bucket] = (
                values[:] if held is None else [a + b for a, b in zip(held, values, strict=True)]
            )
            if row.success:
                successes[key] = max(successes.get(key, -math.inf), min(float(end), now))
        for key, buckets in added.items():
            self._rebuild(key, buckets, successes.get(key))
        if since is not None:
            self.watching_since = min(self.watching_since, since)
        return count

    def _rebuild(self, key: _Key, added: dict[int, list[float]], success: float | None) -> None:
        old = self._series.get(key)
        deltas = {} if old is None else old.deltas()
        for bucket, values in added.items():
            held = deltas.get(bucket)
            deltas[bucket] = (
                values if held is None else [a + b for a, b in zip(held, values, strict=True)]
            )
        series = _Series()
        for bucket in sorted(deltas):
            series.enter(bucket)
            series.totals = [a + b for a, b in zip(series.totals, deltas[bucket], strict=True)]
        if old is not None:
            series.last_bucket = max(series.last_bucket, old.last_bucket)
            series.last_success = old.last_success
        if success is not None and (series.last_success is None or success > series.last_success):
            series.last_success = success
        self._series[key] = series
        self._index.setdefault(key[0], {})[key[1]] = series
