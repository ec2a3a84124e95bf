"""On call: alert rules, notifications and incidents run as one part of the service.

Every ``interval`` seconds :meth:`OnCall.tick` evaluates the rules over the
live counts, records firing and resolved alerts (``store.alerts``), opens or
joins incidents, feeds the notifier (routes, groups, silences, escalation)
and lets it send what is due. Breaker changes arrive as events (the on-call
part is an :class:`~seawall._events.EventSink`) and open incidents for
critical integrations. Acknowledgements and silences made by the CLI go to
the store; each tick picks them up, so every replica and the CLI agree.

A failing tick is logged and the next one runs: an unreachable store or a
broken rule never stops evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seawall._errors import SeawallError
from seawall._events import BreakerChanged, Event
from seawall._states import BreakerState
from seawall.alerts import AlertStatus, Baselines, Evaluator, LiveMetrics, Transition
from seawall.config import Config
from seawall.engine import Engine
from seawall.incidents import Incident, IncidentBook
from seawall.notify import (
    AckSigner,
    Deliverer,
    GroupView,
    Notifier,
    NotifierStatus,
    SilenceBook,
    SilenceRecord,
)
from seawall.oncall._evidence import evidence_text
from seawall.oncall._stores import StoreNotificationLog, StoreSilences
from seawall.store import Leadership, Store

__all__ = ["ACK_KEY", "OnCall", "admin_base_url", "as_plain"]

log = logging.getLogger("seawall.oncall")

#: the settings key of the secret that signs acknowledge links
ACK_KEY = "notify.ack-link-key"
_MAX_BREAKER_EVENTS = 10_000
#: the longest name an acknowledgement may carry
_MAX_ACTOR = 128


@dataclass(frozen=True, slots=True)
class _BreakerMove:
    integration: str
    provider: str
    state: BreakerState
    at: float


class OnCall:
    """The alert evaluator, the notifier and the incident book, under one loop.

    ::

        oncall = OnCall(config, engine=lambda: service.engine)
        sink = FanOutSink([..., oncall.live, oncall])   # counts and breaker changes
        await oncall.start(store)
        ...
        await oncall.stop()
    """

    def __init__(
        self,
        config: Config,
        *,
        engine: Callable[[], Engine],
        clock: Callable[[], float] = time.time,
        interval: float = 10.0,
        deliverer: Deliverer | None = None,
        admin_url: str | None = None,
        baseline_every: float = 300.0,
        settle_for: float = 120.0,
    ) -> None:
        if interval <= 0:
            msg = f"the evaluation interval must be positive, not {interval}"
            raise ValueError(msg)
        self._config = config
        self._engine = engine
        self._clock = clock
        self._interval = interval
        self._deliverer = deliverer
        #: where the admin API listens, for acknowledge links (admin.public_url wins)
        self.admin_url = admin_url
        # counts as fine as the evaluation (a short window must not reach far back)
        resolution = max([r for r in (1.0, 2.0, 5.0, 10.0) if r <= interval], default=1.0)
        self.live = LiveMetrics(clock=clock, resolution=resolution)
        self._baselines = Baselines(refresh_every=baseline_every)
        self.evaluator = Evaluator(config, self.live, baselines=self._baselines)
        self._breakers: deque[_BreakerMove] = deque(maxlen=_MAX_BREAKER_EVENTS)
        self._store: Store | None = None
        self._notifier: Notifier | None = None
        self._incidents: IncidentBook | None = None
        self._signer: AckSigner | None = None
        self._acked: set[int] = set()
        #: transitions whose episodes and incidents are not stored yet (a store failure)
        self._unrecorded: deque[Transition] = deque(maxlen=_MAX_BREAKER_EVENTS)
        #: when each breaker was last seen not closed (for settle_for)
        self._unsettled: dict[tuple[str, str], float] = {}
        self._settle_for = settle_for
        self._leadership: Leadership | None = None
        #: whether this process evaluates for the store and pages (one replica does)
        self.leading = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._lock = asyncio.Lock()
        #: ticks that failed (logged); the loop carries on
        self.failed_ticks = 0
        self.last_tick: float | None = None

    # -- the sink -------------------------------------------------------------------------

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """Breaker changes only (see ``TypedSink``): calls never reach this sink."""
        return {BreakerChanged: self._breaker_changed}

    def emit(self, event: Event) -> None:
        """Keep breaker changes for the next tick (incidents); other events are ignored."""
        if type(event) is BreakerChanged:
            self._breaker_changed(event)

    def _breaker_changed(self, event: BreakerChanged) -> None:
        self._breakers.append(
            _BreakerMove(event.integration, event.provider, event.new, self._clock())
        )

    # -- parts ----------------------------------------------------------------------------

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            msg = "on-call is not started: the notifier needs the store"
            raise SeawallError(msg)
        return self._notifier

    @property
    def incidents(self) -> IncidentBook:
        if self._incidents is None:
            msg = "on-call is not started: incidents need the store"
            raise SeawallError(msg)
        return self._incidents

    @property
    def store(self) -> Store:
        if self._store is None:
            msg = "on-call is not started: there is no store yet"
            raise SeawallError(msg)
        return self._store

    @property
    def config(self) -> Config:
        return self._config

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, store: Store) -> None:
        """Seed the live counts from stored rollups, restore firing alerts, start the loop.

        Alerts stored as firing come back firing (no second "firing" page from
        the evaluator) and are handed to the notifier again, so their group,
        escalation and resolved notice carry on; stored acknowledgements are
        applied. Stored alerts whose rule is gone are resolved.
        """
        self._store = store
        self._leadership = store.leadership("alerts")
        now = self._clock()
        self.live.retention = max(self.live.retention, self.evaluator.retention)
        since = now - self.live.retention
        rows = await store.rollups.query(start=since, end=now + 60, width=60)
        self.live.seed(rows, since=since)
        self._signer = AckSigner(await store.settings.secret(ACK_KEY), clock=self._clock)
        self._notifier = self._build_notifier(self._config)
        await self._notifier.silences.load(StoreSilences(store), at=now)
        self._notifier.start()
        self.leading = await self._leadership.hold()
        if self.leading:
            await self._take_over(now)
        self._incidents = IncidentBook(
            store, self._config, clock=self._clock, first_failure=self._first_failure
        )
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="seawall-oncall")

    async def _take_over(self, now: float) -> None:
        """Lead from the stored state: firing alerts, their acknowledgements and groups.

        Alerts stored as firing come back firing (no second "firing" from the
        evaluator) and go to the notifier again, so their group, escalation
        and resolved notice carry on; stored alerts whose rule is gone resolve.
        """
        store = self.store
        firing = await store.alerts.open_episodes()
        self.evaluator.restore((e.fingerprint, e.fired_at) for e in firing)
        known = {status.fingerprint for status in self.evaluator.statuses()}
        for episode in firing:
            if episode.fingerprint not in known:  # its rule was removed meanwhile
                await store.alerts.resolve(episode.fingerprint, now)
        self.notifier.submit(_refire(self.evaluator.statuses(), now))
        self._acked = set()
        await self._apply_acks(self.notifier)
        log.info("this seawall now evaluates alerts and pages for the store %s", store.url)

    def _build_notifier(self, config: Config) -> Notifier:
        assert self._store is not None
        return Notifier(
            config.notifications,
            deliverer=self._deliverer,
            log=StoreNotificationLog(self._store),
            silences=SilenceBook(config.notifications.silences),
            inhibited=self._inhibited,
            evidence=self._evidence,
            ack_link=self.ack_link,
        )

    async def stop(self) -> None:
        """Stop evaluating; queued deliveries get the notifier's drain time."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._notifier is not None:
            await self._notifier.stop()
        if self._leadership is not None:
            with contextlib.suppress(SeawallError):
                await self._leadership.release()

    async def reconfigure(self, config: Config) -> None:
        """Use a reloaded configuration; unchanged rules keep their state.

        Series whose rule went away resolve (and their groups are told). When
        ``notifications`` changed, a new notifier takes over: firing alerts are
        routed by the new rules and stored acknowledgements still hold.
        """
        async with self._lock:
            changed = config.notifications != self._config.notifications
            self._config = config
            now = self._clock()
            transitions = self.evaluator.reconfigure(config, now=now)
            self.live.retention = max(self.live.retention, self.evaluator.retention)
            if self._incidents is not None:
                self._incidents.reconfigure(config)
            if changed and self._notifier is not None and self._store is not None:
                old = self._notifier
                new = self._build_notifier(config)
                await new.silences.load(StoreSilences(self._store), at=now)
                new.start()
                self._notifier = new
                await old.stop()
                new.submit(_refire(self.evaluator.statuses(), now))
                self._acked = set()
                await self._apply_acks(new)
            if self._notifier is not None:
                self._notifier.submit(transitions)
            if transitions:
                self._unrecorded.extend(transitions)
                await self._record_pending()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad tick must not end alerting
                self.failed_ticks += 1
                log.exception("alert evaluation failed; trying again in %gs", self._interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    # -- one round ------------------------------------------------------------------------

    async def tick(self, now: float | None = None) -> list[Transition]:
        """One evaluation round at ``now`` (default: the clock); the transitions it made.

        The notifier gets the transitions first: a store that fails in this
        round delays the records (they are tried again next round), never
        the pages.
        """
        async with self._lock:
            when = self._clock() if now is None else now
            store = self.store
            try:
                await self._baselines.refresh(store.rollups, when)
            except SeawallError as exc:
                log.warning("baselines not refreshed: %s", exc)
            transitions = self.evaluator.evaluate(when)
            if not await self._lead(when):
                self.last_tick = when
                return transitions  # another replica pages and keeps the records
            self.notifier.submit(transitions)
            self._unrecorded.extend(t for t in transitions if t.state in ("firing", "resolved"))
            try:
                await self._record_pending()
                await self._breaker_moves()
                await self.incidents.maybe_resolve(when, self._settled_breakers(when))
                await self._sync_from_store()
            finally:
                await self.notifier.tick(when)
                self.last_tick = when
            return transitions

    async def _lead(self, now: float) -> bool:
        """Whether this process leads alerting now; taking the lead restores the stored state."""
        assert self._leadership is not None
        try:
            leading = await self._leadership.hold()
        except SeawallError as exc:
            log.warning("cannot tell who leads alerting (%s); keeping the last answer", exc)
            return self.leading
        if leading and not self.leading:
            self.leading = True
            await self._take_over(now)
        self.leading = leading
        return leading

    async def _record_pending(self) -> None:
        """Store episodes and incidents for the transitions not recorded yet, in order."""
        while self._unrecorded:
            await self.incidents.on_transition(self._unrecorded[0])
            self._unrecorded.popleft()

    async def _breaker_moves(self) -> None:
        while self._breakers:
            move = self._breakers[0]
            await self.incidents.on_breaker(move.integration, move.provider, move.state, move.at)
            self._breakers.popleft()

    def _settled_breakers(self, now: float) -> dict[tuple[str, str], BreakerState]:
        """Breaker states, with a breaker that closed less than ``settle_for`` ago still
        counted as half-open: an incident waits out a flapping breaker instead of
        closing and opening again on every cycle."""
        engine = self._engine()
        states: dict[tuple[str, str], BreakerState] = {}
        for name, runtime in engine.integrations.items():
            for provider in runtime.providers:
                key = (name, provider.name)
                state = engine.breaker_state(name, provider.name)
                if state is not BreakerState.CLOSED and state is not BreakerState.DISABLED:
                    self._unsettled[key] = now
                elif now - self._unsettled.get(key, -math.inf) < self._settle_for:
                    state = BreakerState.HALF_OPEN
                else:
                    self._unsettled.pop(key, None)
                states[key] = state
        return states

    async def _sync_from_store(self) -> None:
        """Silences and acknowledgements made elsewhere (the CLI, another replica)."""
        notifier = self.notifier
        await notifier.silences.load(StoreSilences(self.store), at=self._clock())
        await self._apply_acks(notifier)

    async def _apply_acks(self, notifier: Notifier) -> None:
        open_episodes = await self.store.alerts.open_episodes()
        for episode in open_episodes:
            if episode.acked_at is None or episode.id in self._acked:
                continue
            self._acked.add(episode.id)
            by = (episode.acked_by or "someone")[:_MAX_ACTOR]
            try:
                notifier.ack(episode.fingerprint, by=by, at=episode.acked_at)
            except ValueError as exc:  # a name the notifier refuses must not stop the round
                log.warning("acknowledgement of %s not applied: %s", episode.fingerprint, exc)
        self._acked &= {e.id for e in open_episodes}  # only open episodes need remembering

    # -- notifier hooks -------------------------------------------------------------------

    def _inhibited(self, labels: Mapping[str, str], at: float) -> str | None:
        """Alerts about a provider in a maintenance window stay quiet.

        An alert naming a provider is inhibited while that provider's window is
        open; one naming only an integration while any of its providers is in a
        window (the failover it causes is expected).
        """
        integration = labels.get("integration")
        engine = self._engine()
        if integration is None or integration not in engine.integrations:
            return None
        provider = labels.get("provider")
        names = (
            [provider] if provider else [p.name for p in engine.integration(integration).providers]
        )
        for name in names:
            if name not in engine.integration(integration).by_name:
                continue
            window = engine.maintenance(integration, name)
            if window is not None:
                return f"maintenance window on {integration}/{name} ({window.reason})"
        return None

    def _first_failure(self, integration: str, start: float, until: float) -> float | None:
        """The start of the first live-count bucket from ``start`` that saw a vendor fault."""
        step = self.live.resolution
        at = start
        while at < min(until, start + 60.0):
            half = step / 2  # a window of exactly the bucket holding at
            counts = self.live.window(integration, None, seconds=half, now=at + half)
            if counts.samples and (counts.error_rate or 0.0) > 0.0:
                return at
            at += step
        return None

    async def _evidence(self, group: GroupView) -> str:
        return await evidence_text(self.store, group, now=self._clock())

    def ack_link(self, group_key: str) -> str:
        """A link that acknowledges ``group_key`` (it asks to confirm before it acts)."""
        if self._signer is None:
            msg = "on-call is not started: no acknowledge key yet"
            raise SeawallError(msg)
        base = self._config.admin.public_url or self.admin_url or admin_base_url(self._config)
        return f"{base.rstrip('/')}/api/v1/ack/{self._signer.token(group_key)}"

    # -- people ---------------------------------------------------------------------------

    def statuses(self) -> list[AlertStatus]:
        return self.evaluator.statuses()

    def notifications(self) -> NotifierStatus:
        return self.notifier.status()

    async def ack_alert(self, fingerprint: str, *, by: str) -> bool:
        """Acknowledge the firing alert with ``fingerprint``: its escalation stops."""
        at = self._clock()
        stored = await self.store.alerts.ack(fingerprint, at=at, by=by)
        notified = self.notifier.ack(fingerprint, by=by, at=at)
        if stored:
            self._acked.update(
                e.id for e in await self.store.alerts.open_episodes() if e.acked_at is not None
            )
        return stored or notified

    def verify_ack_token(self, token: str) -> str | None:
        """The group key a link's token acknowledges, or None: forged, expired, or
        made for an earlier outage of the same group (a link from last week's
        page must not silence today's)."""
        if self._signer is None:
            return None
        group_key = self._signer.verify(token, self._clock())
        issued = self._signer.issued_at(token)
        if group_key is None or issued is None:
            return None
        for group in self.notifier.status().groups:
            if group.key == group_key and group.created_at > issued + 1.0:
                return None
        return group_key

    async def ack_group(self, group_key: str, *, by: str) -> bool:
        """Acknowledge a notification group and every alert in it."""
        at = self._clock()
        fingerprints = [
            a.fingerprint
            for g in self.notifier.status().groups
            if g.key == group_key
            for a in g.alerts
        ]
        done = self.notifier.ack(group_key, by=by, at=at)
        for fingerprint in fingerprints:
            await self.store.alerts.ack(fingerprint, at=at, by=by)
        return done

    async def ack_incident(self, incident_id: int, *, by: str) -> Incident:
        """Acknowledge an incident and its alerts; their escalations stop."""
        incident = await self.incidents.ack(incident_id, by=by, at=self._clock())
        for episode in await self.store.alerts.of_incident(incident_id):
            if episode.resolved_at is None:
                self.notifier.ack(episode.fingerprint, by=by, at=self._clock())
                self._acked.add(episode.id)
        return incident

    async def add_silence(
        self,
        matchers: Mapping[str, str],
        *,
        starts_at: float,
        ends_at: float,
        comment: str,
        created_by: str,
    ) -> SilenceRecord:
        return await self.notifier.silences.add(
            matchers, starts_at=starts_at, ends_at=ends_at, comment=comment, created_by=created_by
        )

    async def expire_silence(self, silence_id: str) -> SilenceRecord | None:
        return await self.notifier.silences.expire(silence_id, self._clock())


def admin_base_url(config: Config, port: int | None = None) -> str:
    """Where people reach the admin API: ``admin.public_url``, else the listen address
    (with the port the server really bound, when given)."""
    if config.admin.public_url:
        return config.admin.public_url
    host, configured = config.admin.listen
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{configured if port is None else port}"


def _refire(statuses: list[AlertStatus], now: float) -> list[Transition]:
    """Firing transitions for series already firing, to route them again after a reload."""
    return [
        Transition(
            rule=s.rule,
            labels=dict(s.labels),
            state="firing",
            previous="firing",
            at=now,
            value=s.value,
            threshold=s.threshold,
            summary=s.summary,
            severity=s.severity,
            active_since=s.active_since,
            fired_at=s.fired_at,
            baseline=s.baseline,
        )
        for s in statuses
        if s.state == "firing"
    ]


def as_plain(value: Any) -> Any:
    """Dataclass-free JSON values (mappings to dicts, tuples to lists)."""
    if isinstance(value, Mapping):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    return value
