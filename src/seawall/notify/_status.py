"""What the notifier reports to the admin API: groups and deliveries, never URLs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from seawall.notify._groups import Group, Timing

__all__ = ["AlertStatus", "GroupStatus", "NotifierStatus", "TargetStatus", "group_status"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertStatus:
    fingerprint: str
    alertname: str
    state: str
    severity: str
    value: float | None
    since: float
    #: the silence or inhibition keeping it quiet, or None
    muted: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStatus:
    key: str
    route: int
    labels: dict[str, str]
    #: pending, firing, silenced, acknowledged or resolved
    state: str
    alerts: tuple[AlertStatus, ...]
    created_at: float
    first_sent_at: float | None
    last_sent_at: float | None
    last_kind: str | None
    #: when the group next speaks on its own (first message or repeat), if it will
    next_message_at: float | None
    escalation: str | None
    #: the next escalation step (0-based) and when it is due, if one will fire
    next_step: int | None
    next_step_at: float | None
    escalation_stopped: str | None
    acked_by: str | None
    acked_at: float | None
    reached: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetStatus:
    """Delivery counts of one channel or contact since start."""

    target: str
    target_kind: str
    delivered: int = 0
    failed: int = 0
    queued: int = 0
    last_status: str | None = None
    last_error: str | None = None
    last_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifierStatus:
    groups: tuple[GroupStatus, ...]
    deliveries: tuple[TargetStatus, ...]
    queued: int
    running: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return dataclasses.asdict(self)


def group_status(group: Group, timing: Timing) -> GroupStatus:
    """The admin view of one group."""
    first_due = group.first_due(timing)
    state = group.state()
    if group.last_sent_at is None:
        next_message = first_due
    elif state == "firing":
        next_message = group.last_sent_at + timing.repeat_every
    else:
        next_message = None
    chain = group.chain
    next_step_at = chain.next_at(first_due) if chain else None
    more = chain is not None and chain.stopped is None and chain.next_step < len(chain.steps)
    return GroupStatus(
        key=group.key,
        route=group.route,
        labels=dict(group.labels),
        state=state,
        alerts=tuple(
            AlertStatus(
                fingerprint=a.fingerprint,
                alertname=a.labels.get("alertname", a.rule),
                state=a.state,
                severity=a.severity,
                value=a.value,
                since=a.since,
                muted=a.muted,
            )
            for a in group.alerts.values()
        ),
        created_at=group.created_at,
        first_sent_at=group.first_sent_at,
        last_sent_at=group.last_sent_at,
        last_kind=group.last_kind,
        next_message_at=next_message,
        escalation=chain.name if chain else None,
        next_step=chain.next_step if chain is not None and more else None,
        next_step_at=next_step_at,
        escalation_stopped=chain.stopped if chain else None,
        acked_by=group.ack.by if group.ack else None,
        acked_at=group.ack.at if group.ack else None,
        reached=(*group.reached_channels, *group.reached_contacts),
    )
