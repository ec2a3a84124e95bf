"""A notification group and the timing rules that say when it speaks.

The rules follow Prometheus Alertmanager's (``dispatch.go`` and the dedup
stage of ``notify.go``):

- a new group waits ``group_wait`` before its first message, so alerts that
  fire together go out together;
- later changes (an alert joins, an announced alert resolves) go out at most
  every ``group_interval``;
- an unchanged, still-firing group repeats every ``repeat_every``, unless it
  is acknowledged and nothing new has fired since;
- when every alert has resolved, one resolved notice closes the episode.

Muted alerts (silenced or inhibited) stay in the group but are not notified:
a group that is all muted says nothing, and speaks again when a silence ends.
The decisions are made on values with ``now`` passed in: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from seawall.alerts._types import Transition
from seawall.notify._escalation import Chain
from seawall.notify._views import AlertView, GroupView

__all__ = ["Ack", "AlertEntry", "Group", "Plan", "Timing"]

GroupState = Literal["pending", "firing", "silenced", "acknowledged", "resolved"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    group_wait: float
    group_interval: float
    repeat_every: float


@dataclass(slots=True, kw_only=True)
class AlertEntry:
    """One alert (series) of a group, as the last transition left it."""

    fingerprint: str
    rule: str
    labels: Mapping[str, str]
    state: Literal["firing", "resolved"]
    summary: str
    severity: str
    value: float | None
    threshold: float | None
    since: float
    fired_at: float
    resolved_at: float | None = None
    #: set each tick: why the alert is not notified now, or None
    muted: str | None = None

    @classmethod
    def from_transition(cls, t: Transition) -> AlertEntry:
        fired = t.fired_at if t.fired_at is not None else t.at
        return cls(
            fingerprint=t.fingerprint,
            rule=t.rule,
            labels=dict(t.labels),
            state="firing",
            summary=t.summary,
            severity=t.severity,
            value=t.value,
            threshold=t.threshold,
            since=t.active_since if t.active_since is not None else fired,
            fired_at=fired,
        )

    def view(self) -> AlertView:
        return AlertView(
            fingerprint=self.fingerprint,
            rule=self.rule,
            labels=self.labels,
            state=self.state,
            summary=self.summary,
            severity=self.severity,
            value=self.value,
            threshold=self.threshold,
            since=self.since,
            fired_at=self.fired_at,
            resolved_at=self.resolved_at,
            muted=self.muted,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack:
    """Who acknowledged, when, and which firing alerts the acknowledgement covers."""

    by: str
    at: float
    fingerprints: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What a group sends at one tick.

    ``update`` goes to the group's channels: ``firing`` (first message or a
    change), ``repeat`` or ``resolved``. ``resolved_only`` marks a change made
    only of resolutions, which only ``send_resolved`` channels hear about.
    ``steps`` are the escalation steps due. ``done``: the episode is over.
    """

    update: Literal["firing", "repeat", "resolved"] | None = None
    resolved_only: bool = False
    steps: tuple[int, ...] = ()
    done: bool = False
    #: the notifiable firing alerts and the announced resolved ones at decision time
    notifiable: frozenset[str] = frozenset()
    announced: frozenset[str] = frozenset()


@dataclass(slots=True, kw_only=True)
class Group:
    """Alerts of one route with the same ``group_by`` values, and what was said about them."""

    key: str
    route: int
    labels: Mapping[str, str]
    created_at: float
    alerts: dict[str, AlertEntry] = field(default_factory=dict)
    chain: Chain | None = None
    #: the notifiable firing alerts the last update announced
    sent_firing: frozenset[str] = frozenset()
    first_sent_at: float | None = None
    last_sent_at: float | None = None
    last_kind: str | None = None
    ack: Ack | None = None
    #: seen with nothing to notify before the chain started (it began silenced)
    held: bool = False
    #: channels and contacts escalation steps have reached, in order
    reached_channels: list[str] = field(default_factory=list)
    reached_contacts: list[str] = field(default_factory=list)

    def apply(self, t: Transition) -> None:
        """Take a firing or resolved transition of one of the group's alerts."""
        entry = self.alerts.get(t.fingerprint)
        if t.state == "firing":
            fresh = AlertEntry.from_transition(t)
            if entry is not None:
                fresh.muted = entry.muted
            self.alerts[t.fingerprint] = fresh
        elif entry is not None and entry.state == "firing":
            entry.state = "resolved"
            entry.resolved_at = t.at
            if t.value is not None:
                entry.value = t.value

    def _firing(self) -> list[AlertEntry]:
        return [a for a in self.alerts.values() if a.state == "firing"]

    def notifiable(self) -> frozenset[str]:
        return frozenset(a.fingerprint for a in self._firing() if a.muted is None)

    def ack_covers(self) -> bool:
        """The acknowledgement still holds: nothing fires that it did not cover."""
        return self.ack is not None and self.notifiable() <= self.ack.fingerprints

    def acknowledge(self, by: str, at: float) -> None:
        self.ack = Ack(by=by, at=at, fingerprints=frozenset(a.fingerprint for a in self._firing()))
        if self.chain is not None:
            self.chain.stop(f"acknowledged by {by}")

    def first_due(self, timing: Timing) -> float:
        return self.created_at + timing.group_wait

    def due(self, now: float, timing: Timing) -> Plan:
        """Decide what the group sends at ``now``; advances its escalation chain.

        Call :meth:`commit` with the plan once its messages are on their way.
        """
        for fp in [fp for fp, a in self.alerts.items() if a.state == "resolved"]:
            if fp not in self.sent_firing:
                del self.alerts[fp]  # resolved before anyone heard of it
        firing = self._firing()
        notifiable = self.notifiable()
        announced = frozenset(fp for fp, a in self.alerts.items() if a.state == "resolved")
        first_due = self.first_due(timing)

        steps: tuple[int, ...] = ()
        chain = self.chain
        if chain is not None and chain.stopped is None:
            if chain.started_at is None:
                if notifiable:
                    chain.started_at = now if self.held else self.created_at
                elif firing:
                    self.held = True
            if notifiable:
                steps = tuple(chain.take_due(now, first_due))

        def plan(
            update: Literal["firing", "repeat", "resolved"] | None = None,
            *,
            resolved_only: bool = False,
            done: bool = False,
        ) -> Plan:
            return Plan(
                update=update,
                resolved_only=resolved_only,
                steps=steps,
                done=done,
                notifiable=notifiable,
                announced=announced,
            )

        if self.last_sent_at is None:
            if not firing:
                return plan(done=True)
            return plan("firing" if notifiable and now >= first_due else None)

        change_ok = now >= self.last_sent_at + timing.group_interval
        if not firing:
            if not change_ok:
                return plan()
            return plan("resolved" if announced else None, done=True)
        new = notifiable - self.sent_firing
        if new or announced:
            if not change_ok:
                return plan()
            if not notifiable:
                return plan("resolved")
            return plan("firing", resolved_only=not new)
        repeat_due = now >= self.last_sent_at + timing.repeat_every
        if notifiable and repeat_due and not self.ack_covers():
            return plan("repeat")
        return plan()

    def commit(self, plan: Plan, now: float) -> None:
        """Remember that ``plan``'s update went out at ``now``.

        Uses the alerts as they were when the plan was made: one that joined
        meanwhile has not been announced and counts as new at the next tick.
        """
        if plan.update is None:
            return
        self.last_sent_at = now
        self.last_kind = plan.update
        if self.first_sent_at is None:
            self.first_sent_at = now
        self.sent_firing = plan.notifiable
        for fp in plan.announced:
            entry = self.alerts.get(fp)
            if entry is not None and entry.state == "resolved":
                del self.alerts[fp]

    def state(self) -> GroupState:
        firing = self._firing()
        if not firing:
            return "resolved"
        if not self.notifiable():
            return "silenced"
        if self.last_sent_at is None:
            return "pending"
        if self.ack_covers():
            return "acknowledged"
        return "firing"

    def view(self) -> GroupView:
        return GroupView(
            key=self.key,
            route=self.route,
            labels=self.labels,
            alerts=tuple(a.view() for a in self.alerts.values()),
            created_at=self.created_at,
            escalation=self.chain.name if self.chain else None,
            acked_by=self.ack.by if self.ack else None,
            acked_at=self.ack.at if self.ack else None,
            acknowledged=self.ack_covers(),
        )
