"""The rollup recorder: engine events become per-minute rollups and a stored timeline.

:class:`Recorder` is an :class:`~seawall._events.EventSink`. On the hot path
it only counts: one dict lookup for the (integration, provider, minute) cell
and a few integer adds; a background task writes the cells to
``store.rollups`` every ``interval`` seconds, together with the timeline
events (breaker changes, failovers, health, maintenance, probe changes,
fallbacks, config reloads) to ``store.events``.

Event ``at`` fields are monotonic seconds, which mean nothing after a restart
or on another replica; the recorder stamps each event with the wall clock
(``clock``, ``time.time`` by default) when it receives it. Only
:class:`~seawall._events.MaintenanceChanged` carries its own wall time, which
is used as it is.

Latency buckets follow Prometheus ``le`` semantics: a duration exactly on a
bound of :data:`~seawall.store.LATENCY_BOUNDS` counts in that bound's bucket
(``bisect_left``), so "answered within 200 ms" is ``lat_00`` .. ``lat_05``.

**Nothing is lost silently.** A batch the store refuses stays in memory and
is written with the next flush; past ``max_minutes`` distinct minutes of
backlog the oldest minutes are dropped, counted in :attr:`Recorder.dropped_rows`
and logged. Timeline events wait the same way (at most ``max_events``, the
oldest dropped first, counted in :attr:`Recorder.dropped_events`). A stored
timeline event may be written twice if the store fails between a maintenance
window's update and the event's append; window updates are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    CallFinished,
    Event,
    FailedOver,
    FallbackServed,
    MaintenanceChanged,
    ProbeFinished,
    ProviderHealthChanged,
    Rejected,
    RetryScheduled,
)
from seawall.store import LATENCY_BOUNDS, RollupRow, Store

__all__ = ["Recorder"]

_log = logging.getLogger("seawall.telemetry.recorder")

# Positions in a cell's counts: RollupRow's count fields, then the latency buckets.
_ATTEMPTS = 0
_OUTCOMES = {
    "success": 1,
    "final": 2,
    "throttled": 3,
    "failure": 4,
    "timeout": 5,
    "connect-error": 6,
}
_REJECTED = 7
_CALLS = 8
_RETRIES = 9
_FAILOVERS = 10
_LATENCY = 11
_SIZE = _LATENCY + len(LATENCY_BOUNDS) + 1
_MINUTE = 60
_DAY = 86_400.0

_Key = tuple[str, str, int]


class _Cell:
    """The counts of one (integration, provider, minute) while it is gathered."""

    __slots__ = ("counts", "latency_sum")

    def __init__(self) -> None:
        self.counts = [0] * _SIZE
        self.latency_sum = 0.0

    def add(self, other: _Cell) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.latency_sum += other.latency_sum

    def row(self, key: _Key) -> RollupRow:
        c = self.counts
        return RollupRow(
            integration=key[0],
            provider=key[1],
            start=key[2],
            width=_MINUTE,
            attempts=c[_ATTEMPTS],
            success=c[1],
            final=c[2],
            throttled=c[3],
            failure=c[4],
            timeout=c[5],
            connect_error=c[6],
            rejected=c[_REJECTED],
            calls=c[_CALLS],
            retries=c[_RETRIES],
            failovers=c[_FAILOVERS],
            latency_sum=self.latency_sum,
            latency=tuple(c[_LATENCY:]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    """A timeline event waiting to be stored; ``window`` is "open", "close" or None."""

    kind: str
    at: float
    integration: str | None
    provider: str | None
    data: dict[str, Any] = field(default_factory=dict)
    window: str | None = None


class Recorder:
    """An :class:`~seawall._events.EventSink` that keeps per-minute rollups and the timeline.

    ::

        recorder = Recorder()                # a sink from the start ...
        engine = Engine(config, upstream=upstream, sink=recorder)
        store = await Store.open(url)
        recorder.attach(store)               # ... a store once it is open
        recorder.start()                     # flush every `interval` seconds
        ...
        await recorder.stop()                # the last flush, before store.close()

    Rollups per (integration, provider, minute of the wall clock):
    ``AttemptFinished`` counts ``attempts``, its outcome's column (an unknown
    outcome counts as an attempt only), a latency bucket and ``latency_sum``;
    ``CallFinished`` counts ``calls`` and ``Rejected`` counts ``rejected``
    (provider ``""`` when there was none); ``RetryScheduled`` counts
    ``retries``; ``FailedOver`` counts ``failovers`` on the provider left.

    Timeline events, by kind: ``breaker-changed``, ``failed-over`` (on the
    source provider), ``health-changed``, ``maintenance-changed`` (and a
    ``maintenance_windows`` row opened at "draining" or "open", closed at
    "closed"), ``probe-changed`` (a provider's first failing probe and every
    flip between ok and failing after it, not every probe), ``fallback-served``
    and ``config-reload`` (:meth:`record_reload`).

    :meth:`maintain` downsamples minute rows older than ``downsample_after``
    seconds and removes rollups older than ``retain``; the flush task runs it
    every ``maintain_every`` seconds. ``emit`` and the flush task must run on
    one event loop (as the engine does).
    """

    KINDS: ClassVar[tuple[str, ...]] = (
        "breaker-changed",
        "config-reload",
        "failed-over",
        "fallback-served",
        "health-changed",
        "maintenance-changed",
        "probe-changed",
    )

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
        interval: float = 5.0,
        downsample_after: float = 7 * _DAY,
        retain: float = 400 * _DAY,
        maintain_every: float = 60.0,
        max_minutes: int = 1440,
        max_events: int = 10_000,
    ) -> None:
        if interval <= 0 or maintain_every <= 0:
            msg = "the flush interval and maintain_every must be positive"
            raise ValueError(msg)
        if retain < downsample_after:
            msg = f"retain ({retain} s) must be at least downsample_after ({downsample_after} s)"
            raise ValueError(msg)
        if max_minutes < 1 or max_events < 1:
            msg = "max_minutes and max_events must be at least 1"
            raise ValueError(msg)
        self._store = store
        self._clock = clock
        self._interval = interval
        self._downsample_after = downsample_after
        self._retain = retain
        self._maintain_every = maintain_every
        self._max_minutes = max_minutes
        self._max_events = max_events
        #: cells gathered since the last flush (emit writes here only)
        self._cells: dict[_Key, _Cell] = {}
        #: this minute's cells by integration, then provider (no tuple built per event)
        self._minute_cells: dict[str, dict[str, _Cell]] = {}
        #: the minute ``_minute_cells`` is for: [start, end) in clock seconds
        self._minute_start = 0
        self._minute_end = 0
        #: cells a flush could not write yet
        self._backlog: dict[_Key, _Cell] = {}
        self._timeline: deque[_Entry] = deque()
        self._probes: dict[tuple[str, str], bool] = {}
        self._flushing = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._warned = False
        self._unreported_events = 0
        #: rollup rows (one per integration, provider and minute) dropped past max_minutes
        self.dropped_rows = 0
        #: timeline events dropped past max_events
        self.dropped_events = 0
        #: rollup rows written to the store so far
        self.written_rows = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            AttemptFinished: self._attempt_finished,
            CallFinished: self._call_finished,
            Rejected: self._rejected,
            RetryScheduled: self._retry_scheduled,
            FailedOver: self._failed_over,
            BreakerChanged: self._breaker_changed,
            ProviderHealthChanged: self._health_changed,
            MaintenanceChanged: self._maintenance_changed,
            ProbeFinished: self._probe_finished,
            FallbackServed: self._fallback_served,
        }

    # -- the sink (hot path) -----------------------------------------------------

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """The event types this sink handles and the function for each (see ``TypedSink``)."""
        return self._handlers

    def emit(self, event: Event) -> None:
        """Count ``event`` in memory; never raises, ignores events it does not keep."""
        handle = self._handlers.get(type(event))
        if handle is None:
            return
        try:
            handle(event)
        except Exception:  # noqa: BLE001 - EventSink contract: recording must never break a call
            if not self._warned:
                self._warned = True
                _log.warning("recording an event failed; later failures are silent", exc_info=True)

    def _cell(self, integration: str, provider: str, now: float | None = None) -> _Cell:
        if now is None:
            now = self._clock()
        if not self._minute_start <= now < self._minute_end:  # a new minute (or a clock step)
            self._minute_start = int(now) // _MINUTE * _MINUTE
            self._minute_end = self._minute_start + _MINUTE
            self._minute_cells = {}
        by_provider = self._minute_cells.get(integration)
        if by_provider is None:
            by_provider = self._minute_cells[integration] = {}
        cell = by_provider.get(provider)
        if cell is None:
            key = (integration, provider, self._minute_start)
            cell = self._cells.get(key)
            if cell is None:
                cell = self._cells[key] = _Cell()
            by_provider[provider] = cell
        return cell

    def _attempt_finished(self, event: AttemptFinished) -> None:
        now = self._clock()
        cell = None
        if self._minute_start <= now < self._minute_end:  # _cell's lookup, inlined: every call
            by_provider = self._minute_cells.get(event.integration)
            cell = None if by_provider is None else by_provider.get(event.provider)
        if cell is None:
            cell = self._cell(event.integration, event.provider, now)
        counts = cell.counts
        counts[_ATTEMPTS] += 1
        outcome = _OUTCOMES.get(event.outcome)
        if outcome is not None:
            counts[outcome] += 1
        duration = event.duration if event.duration >= 0 else 0.0  # also NaN -> 0
        counts[_LATENCY + bisect_left(LATENCY_BOUNDS, duration)] += 1
        cell.latency_sum += duration

    def _call_finished(self, event: CallFinished) -> None:
        self._cell(event.integration, event.provider or "").counts[_CALLS] += 1

    def _rejected(self, event: Rejected) -> None:
        self._cell(event.integration, event.provider or "").counts[_REJECTED] += 1

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        self._cell(event.integration, event.provider).counts[_RETRIES] += 1

    def _failed_over(self, event: FailedOver) -> None:
        self._cell(event.integration, event.source).counts[_FAILOVERS] += 1
        self._keep(
            _Entry(
                kind="failed-over",
                at=self._clock(),
                integration=event.integration,
                provider=event.source,
                data={"source": event.source, "target": event.target, "cause": event.cause},
            )
        )

    def _breaker_changed(self, event: BreakerChanged) -> None:
        self._keep(
            _Entry(
                kind="breaker-changed",
                at=self._clock(),
                integration=event.integration,
                provider=event.provider,
                data={"old": event.old.value, "new": event.new.value, "cause": event.cause},
            )
        )

    def _health_changed(self, event: ProviderHealthChanged) -> None:
        self._keep(
            _Entry(
                kind="health-changed",
                at=self._clock(),
                integration=event.integration,
                provider=event.provider,
                data={"old": event.old, "new": event.new, "reason": event.reason},
            )
        )

    def _maintenance_changed(self, event: MaintenanceChanged) -> None:
        window = {"open": "open", "draining": "open", "closed": "close"}.get(event.phase)
        self._keep(
            _Entry(
                kind="maintenance-changed",
                at=event.wall,
                integration=event.integration,
                provider=event.provider,
                data={"phase": event.phase, "planned": event.planned, "reason": event.reason},
                window=window,
            )
        )

    def _probe_finished(self, event: ProbeFinished) -> None:
        key = (event.integration, event.provider)
        previous = self._probes.get(key)
        self._probes[key] = event.ok
        if previous == event.ok or (previous is None and event.ok):
            return  # unchanged, or healthy as assumed: not worth a timeline row
        self._keep(
            _Entry(
                kind="probe-changed",
                at=self._clock(),
                integration=event.integration,
                provider=event.provider,
                data={"ok": event.ok, "duration": event.duration, "detail": event.detail},
            )
        )

    def _fallback_served(self, event: FallbackServed) -> None:
        self._keep(
            _Entry(
                kind="fallback-served",
                at=self._clock(),
                integration=event.integration,
                provider=None,
                data={"kind": event.kind, "cause": event.cause, "reference": event.reference},
            )
        )

    def record_reload(self, ok: bool) -> None:
        """Put a configuration reload, applied (``ok``) or refused, on the timeline."""
        self._keep(
            _Entry(
                kind="config-reload",
                at=self._clock(),
                integration=None,
                provider=None,
                data={"ok": ok},
            )
        )

    def _keep(self, entry: _Entry) -> None:
        if len(self._timeline) >= self._max_events:
            self._timeline.popleft()
            self.dropped_events += 1
            self._unreported_events += 1
        self._timeline.append(entry)

    # -- writing -------------------------------------------------------------------

    def attach(self, store: Store) -> None:
        """Write to ``store`` from now on (what was gathered before is written too)."""
        self._store = store

    @property
    def pending_rows(self) -> int:
        """Rollup rows gathered or held back, not yet stored (an upper bound)."""
        return len(self._cells) + len(self._backlog)

    @property
    def pending_events(self) -> int:
        """Timeline events not yet stored."""
        return len(self._timeline)

    async def flush(self) -> bool:
        """Write the gathered rollups and timeline events; True when nothing is left over.

        Never raises for a store failure: what could not be written is kept
        for the next flush (see the module's notes on limits).
        """
        async with self._flushing:
            rows_ok = await self._flush_rollups()
            events_ok = await self._flush_timeline()
            if self._unreported_events:
                _log.warning(
                    "dropped %d timeline events: more than %d waited for the store "
                    "(%d dropped in all)",
                    self._unreported_events,
                    self._max_events,
                    self.dropped_events,
                )
                self._unreported_events = 0
            return rows_ok and events_ok

    async def _flush_rollups(self) -> bool:
        cells, self._cells = self._cells, {}
        self._minute_cells = {}  # its cells are in the flush: count into new ones
        batch = self._backlog
        for key, cell in cells.items():
            held = batch.get(key)
            if held is None:
                batch[key] = cell
            else:
                held.add(cell)
        if not batch:
            return True
        store = self._store
        if store is not None:
            try:
                await store.rollups.add([cell.row(key) for key, cell in batch.items()])
            except Exception as error:  # noqa: BLE001 - keep the batch, try again next flush
                self._note_failure(f"writing {len(batch)} rollup rows failed: {error}")
            else:
                self.written_rows += len(batch)
                self._backlog = {}
                if self._failing:
                    self._failing = False
                    _log.info("rollups are being stored again")
                return True
        self._cap(batch)
        return False

    def _cap(self, batch: dict[_Key, _Cell]) -> None:
        """Keep at most ``max_minutes`` distinct minutes of backlog, dropping the oldest."""
        minutes = sorted({key[2] for key in batch})
        if len(minutes) <= self._max_minutes:
            return
        cutoff = minutes[len(minutes) - self._max_minutes]
        doomed = [key for key in batch if key[2] < cutoff]
        for key in doomed:
            del batch[key]
        self.dropped_rows += len(doomed)
        _log.error(
            "dropped %d rollup rows (minutes %d to %d): the store has refused writes for "
            "longer than %d minutes (%d rows dropped in all)",
            len(doomed),
            minutes[0],
            cutoff - _MINUTE,
            self._max_minutes,
            self.dropped_rows,
        )

    async def _flush_timeline(self) -> bool:
        store = self._store
        if not self._timeline:
            return True
        if store is None:
            return False
        while self._timeline:
            entry = self._timeline[0]
            try:
                await self._store_entry(store, entry)
            except Exception as error:  # noqa: BLE001 - keep the event, try again next flush
                self._note_failure(f"storing a {entry.kind} event failed: {error}")
                return False
            if self._timeline and self._timeline[0] is entry:  # emit may have dropped it meanwhile
                self._timeline.popleft()
        return True

    @staticmethod
    async def _store_entry(store: Store, entry: _Entry) -> None:
        # The window first: repeating it after a failed append changes nothing.
        if entry.window is not None and entry.integration and entry.provider is not None:
            if entry.window == "open":
                await store.rollups.open_window(
                    entry.integration,
                    entry.provider,
                    start=entry.at,
                    planned=bool(entry.data.get("planned", True)),
                    reason=str(entry.data.get("reason", "")),
                )
            else:
                await store.rollups.close_window(entry.integration, entry.provider, end=entry.at)
        await store.events.append(
            entry.kind,
            at=entry.at,
            integration=entry.integration,
            provider=entry.provider,
            data=entry.data,
        )

    def _note_failure(self, message: str) -> None:
        if self._failing:
            _log.debug("%s (kept for the next flush)", message)
        else:
            self._failing = True
            _log.warning("%s; kept in memory and retried every flush", message)

    async def maintain(self, now: float | None = None) -> tuple[int, int]:
        """Downsample and apply retention as of ``now`` (default: the clock).

        Returns (minute rows downsampled, rows removed by retention). Raises
        :class:`~seawall.StoreError` if the store fails, RuntimeError without one.
        """
        store = self._store
        if store is None:
            msg = "the recorder has no store to maintain; attach() one first"
            raise RuntimeError(msg)
        at = self._clock() if now is None else now
        downsampled = await store.rollups.downsample(older_than=at - self._downsample_after)
        purged = await store.rollups.purge(older_than=at - self._retain)
        return downsampled, purged

    # -- the flush task --------------------------------------------------------------

    def start(self) -> None:
        """Flush every ``interval`` seconds (and maintain every ``maintain_every``)."""
        if self._task is not None and not self._task.done():
            return
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="seawall-recorder")

    async def stop(self) -> None:
        """Stop the task and flush what is left; what still cannot be stored is logged."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task  # never cancelled mid-write: a write in a thread could still commit
        if not await self.flush():
            _log.error(
                "stopping with %d rollup rows and %d timeline events not stored",
                self.pending_rows,
                self.pending_events,
            )

    async def _run(self) -> None:
        next_maintenance = self._clock()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            if self._stopping.is_set():
                return
            await self.flush()
            now = self._clock()
            if now < next_maintenance or self._store is None:
                continue
            next_maintenance = now + self._maintain_every
            try:
                downsampled, purged = await self.maintain(now)
            except Exception as error:  # noqa: BLE001 - try again next time
                _log.warning("rollup maintenance failed: %s", error)
            else:
                if downsampled or purged:
                    _log.debug("downsampled %d minute rows, purged %d", downsampled, purged)
