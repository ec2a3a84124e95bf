"""The notifier: turns alert transitions into grouped, timed, escalated messages.

``submit`` files each firing or resolved transition into the groups of the
routes it takes; ``tick(now)`` decides what is due at ``now`` (wall seconds,
passed in, so a test drives time by hand) and hands the messages to the
delivery lanes, which send them in the background. Nothing a channel does can
make ``tick`` fail: deliveries are queued, retried and recorded elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from seawall.alerts._types import Transition
from seawall.config import Notifications, Route
from seawall.notify._deliver import AppriseDeliverer, Deliverer
from seawall.notify._escalation import Chain
from seawall.notify._groups import AlertEntry, Group, Plan, Timing
from seawall.notify._lanes import DeliveryLanes
from seawall.notify._log import (
    MemoryNotificationLog,
    Notice,
    NoticeKind,
    NotificationLog,
    TargetKind,
)
from seawall.notify._messages import Message, Recipient, compose, default_evidence
from seawall.notify._routes import group_key, group_labels, matching_routes
from seawall.notify._silences import SilenceBook
from seawall.notify._status import NotifierStatus, group_status
from seawall.notify._targets import ContactTarget, Targets, check_references
from seawall.notify._views import GroupView
from seawall.policies import BackoffSettings

__all__ = ["AckLink", "Evidence", "Inhibitor", "Notifier"]

log = logging.getLogger("seawall.notify")

#: labels and wall time -> why the alert must stay quiet (e.g. a maintenance window), or None
Inhibitor = Callable[[Mapping[str, str], float], str | None]
#: a group -> what a vendor should see: recent failing calls, breaker changes ...
Evidence = Callable[[GroupView], Awaitable[str]]
#: a group key -> a URL that acknowledges it
AckLink = Callable[[str], str]

_MAX_ACTOR = 128


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


@dataclass(slots=True)
class _Tick:
    """What one tick has learnt so far about one group."""

    group: Group
    view: GroupView
    now: float
    evidence: str | None = None


class Notifier:
    """Routes, groups, silences, escalates and delivers alert notifications.

    ``config`` is the ``notifications`` section. ``deliverer`` sends one
    message (default: :class:`AppriseDeliverer`); ``log`` records every final
    outcome (default: in memory). ``silences`` defaults to a book holding the
    configuration's silences. ``inhibited`` says why an alert must stay quiet
    (maintenance windows); ``evidence`` writes what a vendor contact is shown;
    ``ack_link`` builds an acknowledge URL for a group key. Deliveries are tried
    ``attempts`` times with ``backoff`` between tries, from per-target queues of
    ``queue_size``; :meth:`stop` waits ``drain_timeout`` seconds for them.
    """

    def __init__(
        self,
        config: Notifications,
        *,
        deliverer: Deliverer | None = None,
        log: NotificationLog | None = None,
        silences: SilenceBook | None = None,
        inhibited: Inhibitor | None = None,
        evidence: Evidence | None = None,
        ack_link: AckLink | None = None,
        attempts: int = 4,
        backoff: BackoffSettings | None = None,
        queue_size: int = 100,
        drain_timeout: float = 10.0,
        evidence_timeout: float = 5.0,
        max_groups: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        check_references(config)
        self._config = config
        self._routes: tuple[Route, ...] = config.routes
        self._timing = Timing(
            group_wait=config.group_wait,
            group_interval=config.group_interval,
            repeat_every=config.repeat_every,
        )
        self._targets = Targets(config)
        self._silences = silences if silences is not None else SilenceBook(config.silences)
        self._log: NotificationLog = log if log is not None else MemoryNotificationLog()
        self._lanes = DeliveryLanes(
            deliverer=deliverer if deliverer is not None else AppriseDeliverer(),
            log=self._log,
            url_of=self._targets.url,
            attempts=attempts,
            backoff=backoff,
            queue_size=queue_size,
            rng=rng,
        )
        self._inhibited = inhibited
        self._evidence = evidence
        self._ack_link = ack_link
        self._drain_timeout = drain_timeout
        self._evidence_timeout = evidence_timeout
        self._max_groups = max_groups
        self._groups: dict[str, Group] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"Notifier(routes={len(self._routes)}, channels={sorted(self._targets.channels)}, "
            f"groups={len(self._groups)})"
        )

    @property
    def silences(self) -> SilenceBook:
        return self._silences

    @property
    def log(self) -> NotificationLog:
        return self._log

    # -- input -------------------------------------------------------------

    def submit(self, transitions: Iterable[Transition]) -> None:
        """File firing and resolved transitions into their groups; others are ignored."""
        for t in transitions:
            resolving = t.state == "resolved" or (t.state == "inactive" and t.previous == "firing")
            if t.state != "firing" and not resolving:
                continue
            for index in matching_routes(self._routes, t.labels):
                route = self._routes[index]
                grouped = group_labels(route, t.labels)
                key = group_key(index, grouped)
                group = self._groups.get(key)
                if group is None:
                    if resolving:
                        continue
                    if len(self._groups) >= self._max_groups:
                        log.warning("%d notification groups: not opening %s", self._max_groups, key)
                        continue
                    group = Group(
                        key=key,
                        route=index,
                        labels=grouped,
                        created_at=t.at,
                        chain=self._chain(route),
                    )
                    self._groups[key] = group
                group.apply(t)

    def _chain(self, route: Route) -> Chain | None:
        if route.escalation is None:
            return None
        return Chain(name=route.escalation, steps=self._config.escalations[route.escalation])

    def ack(self, group_key_or_fingerprint: str, *, by: str, at: float) -> bool:
        """Acknowledge a group (or every group holding an alert): its chain stops and
        repeats pause until something new fires. False when nothing matched."""
        if not by or len(by) > _MAX_ACTOR:
            msg = f"say who acknowledges, in 1 to {_MAX_ACTOR} characters"
            raise ValueError(msg)
        key = group_key_or_fingerprint
        groups = [self._groups[key]] if key in self._groups else []
        groups = groups or [g for g in self._groups.values() if key in g.alerts]
        for group in groups:
            group.acknowledge(by, at)
            log.info("notification group %s acknowledged by %s", group.key, by)
        return bool(groups)

    # -- deciding ------------------------------------------------------------

    async def tick(self, now: float) -> list[Notice]:
        """Send what is due at ``now`` (wall seconds); the notices that were queued or recorded."""
        async with self._lock:
            muted: dict[str, str | None] = {}
            notices: list[Notice] = []
            for group in list(self._groups.values()):
                for alert in group.alerts.values():
                    alert.muted = (
                        self._muted(alert, now, muted) if alert.state == "firing" else None
                    )
                plan = group.due(now, self._timing)
                state = _Tick(group=group, view=group.view(), now=now)
                stepped: set[str] = set()
                for index in plan.steps:
                    notices.extend(await self._step(state, index, stepped))
                if plan.update is not None:
                    notices.extend(self._update(state, plan, stepped))
                    group.commit(plan, now)
                if plan.done and self._groups.get(group.key) is group:
                    del self._groups[group.key]
            for notice in notices:
                if notice.kind == "unreachable" and notice.target_kind == "contact":
                    continue  # recorded when decided: there is nothing to send
                refused = self._lanes.offer(notice)
                if refused is not None:
                    await self._lanes.finish(notice, "failed", 0, refused, at=now)
            return notices

    def _muted(self, alert: AlertEntry, now: float, seen: dict[str, str | None]) -> str | None:
        if alert.fingerprint in seen:
            return seen[alert.fingerprint]
        reason: str | None = None
        silence = self._silences.silenced_by(alert.labels, now)
        if silence is not None:
            reason = f"silenced by {silence.id}"
            if silence.comment:
                reason += f" ({silence.comment[:200]})"
        elif self._inhibited is not None:
            try:
                why = self._inhibited(alert.labels, now)
            except Exception as exc:  # noqa: BLE001 - an inhibition hook must not stop notifications
                log.warning("the inhibition check failed (%s); notifying", type(exc).__name__)
                why = None
            if why:
                reason = f"inhibited: {why}"
        seen[alert.fingerprint] = reason
        return reason

    def _ack_url(self, key: str) -> str | None:
        if self._ack_link is None:
            return None
        try:
            return self._ack_link(key)
        except Exception as exc:  # noqa: BLE001 - a broken link builder must not stop notifications
            log.warning("could not build the acknowledge link (%s)", type(exc).__name__)
            return None

    async def _evidence_for(self, state: _Tick) -> str:
        if state.evidence is not None:
            return state.evidence
        text = default_evidence(state.view)
        if self._evidence is not None:
            try:
                text = await asyncio.wait_for(self._evidence(state.view), self._evidence_timeout)
            except Exception as exc:  # noqa: BLE001 - fall back to the alert list, say so
                log.warning(
                    "could not gather evidence for %s: %s", state.view.key, type(exc).__name__
                )
                text += f"\n(more evidence could not be gathered: {type(exc).__name__})"
        state.evidence = text
        return text

    def _notice(
        self,
        state: _Tick,
        *,
        target: str,
        target_kind: TargetKind,
        kind: NoticeKind,
        step: int | None = None,
        message: Message,
    ) -> Notice:
        view = state.view
        shown = view.firing if kind != "resolved" else ()
        return Notice(
            at=state.now,
            group_key=view.key,
            target=target,
            target_kind=target_kind,
            kind=kind,
            step=step,
            title=message.title,
            body=message.body,
            fingerprints=tuple(a.fingerprint for a in (*shown, *view.resolved)),
        )

    def _update(self, state: _Tick, plan: Plan, stepped: set[str]) -> list[Notice]:
        group, view = state.group, state.view
        kind: NoticeKind = plan.update or "firing"
        route = self._routes[group.route]
        names = [n for n in _unique([*route.channels, *group.reached_channels]) if n not in stepped]
        if kind == "resolved" or plan.resolved_only:
            names = [n for n in names if self._targets.channels[n].send_resolved]
        ack_url = self._ack_url(group.key) if view.firing else None
        out = [
            self._notice(
                state,
                target=name,
                target_kind="channel",
                kind=kind,
                message=compose(view, kind, ack_url=ack_url),
            )
            for name in names
        ]
        if kind == "resolved" and plan.done:
            outside = compose(view, kind, to=Recipient(external=True))
            out.extend(
                self._notice(state, target=name, target_kind="contact", kind=kind, message=outside)
                for name in group.reached_contacts
            )
        return out

    async def _step(self, state: _Tick, index: int, stepped: set[str]) -> list[Notice]:
        group, view = state.group, state.view
        chain = group.chain
        if chain is None:  # pragma: no cover - a plan has steps only with a chain
            return []
        step = chain.steps[index]
        to = Recipient(role=step.role, step=index, steps=len(chain.steps), escalation=chain.name)
        names = _unique(step.notify)
        channels = [n for n in names if n in self._targets.channels]
        contacts = [self._targets.contacts[n] for n in names if n not in self._targets.channels]
        out: list[Notice] = []
        ack_url = self._ack_url(group.key)
        for name in channels:
            message = compose(view, "escalation", to=to, ack_url=ack_url)
            out.append(
                self._notice(
                    state,
                    target=name,
                    target_kind="channel",
                    kind="escalation",
                    step=index,
                    message=message,
                )
            )
            stepped.add(name)
            if name not in group.reached_channels:
                group.reached_channels.append(name)
        for contact in contacts:
            evidence = await self._evidence_for(state)
            if contact.url is not None:
                outside = Recipient(
                    external=True, role=step.role, step=index, steps=len(chain.steps)
                )
                message = compose(view, "escalation", to=outside, evidence=evidence)
                out.append(
                    self._notice(
                        state,
                        target=contact.name,
                        target_kind="contact",
                        kind="escalation",
                        step=index,
                        message=message,
                    )
                )
                if contact.name not in group.reached_contacts:
                    group.reached_contacts.append(contact.name)
            else:
                out.extend(await self._unreachable(state, contact, index, step.role, evidence))
        return out

    async def _unreachable(
        self, state: _Tick, contact: ContactTarget, index: int, role: str, evidence: str
    ) -> list[Notice]:
        group, view = state.group, state.view
        callers = list(group.reached_channels) or list(self._routes[group.route].channels)
        who = contact.display
        phone = f" at {contact.phone}" if contact.phone else " (no phone number is configured)"
        as_role = f" as the {role}" if role else ""
        call = (
            f"seawall cannot reach {who}: {contact.unreachable}. "
            f"Please call {who}{phone}{as_role} about this alert, with the evidence below."
        )
        asked = ", ".join(callers) if callers else "nobody (no channel has been notified)"
        record = Notice(
            at=state.now,
            group_key=view.key,
            target=contact.name,
            target_kind="contact",
            kind="unreachable",
            step=index,
            title="",
            body="",
            fingerprints=tuple(a.fingerprint for a in view.firing),
        )
        await self._lanes.finish(
            record, "failed", 0, f"{contact.unreachable}; asked {asked} to call", at=state.now
        )
        message = compose(
            view, "unreachable", evidence=evidence, ack_url=self._ack_url(view.key), call=call
        )
        titled = Message(title=f"[ACTION] call {who} about {view.name}", body=message.body)
        return [
            record,
            *(
                self._notice(
                    state,
                    target=name,
                    target_kind="channel",
                    kind="unreachable",
                    step=index,
                    message=titled,
                )
                for name in callers
            ),
        ]

    # -- running -------------------------------------------------------------

    def start(self) -> None:
        """Begin delivering queued notices in the background."""
        self._lanes.start()

    async def stop(self) -> None:
        """Deliver what is queued for up to ``drain_timeout`` seconds, then stop."""
        await self._lanes.stop(self._drain_timeout)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued notice has its outcome; False on timeout."""
        return await self._lanes.drain(self._drain_timeout if timeout is None else timeout)

    # -- reporting -------------------------------------------------------------

    def status(self) -> NotifierStatus:
        """Groups, escalations and delivery counts: names only, never a URL."""
        return NotifierStatus(
            groups=tuple(group_status(g, self._timing) for g in self._groups.values()),
            deliveries=self._lanes.status(),
            queued=self._lanes.queued(),
            running=self._lanes.running,
        )
