"""Frozen snapshots of a group and its alerts: what messages and evidence read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["AlertView", "GroupView", "worst_severity"]

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def worst_severity(severities: list[str]) -> str:
    """The most urgent of ``severities`` (critical > warning > info > others)."""
    if not severities:
        return ""
    return min(severities, key=lambda s: (_SEVERITY_RANK.get(s, 3), s))


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """One alert of a group as it stands."""

    fingerprint: str
    rule: str
    labels: Mapping[str, str]
    state: Literal["firing", "resolved"]
    summary: str
    severity: str
    value: float | None
    threshold: float | None
    #: when the condition first held (or when it fired, if not known)
    since: float
    fired_at: float
    resolved_at: float | None = None
    #: why it is not notified: the silence or the inhibition, or None
    muted: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupView:
    """A group: related alerts that go out as one message."""

    key: str
    route: int
    #: the ``group_by`` labels and their values, e.g. ``{"integration": "payments"}``
    labels: Mapping[str, str]
    alerts: tuple[AlertView, ...]
    created_at: float
    escalation: str | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    #: the acknowledgement covers every alert firing now (nothing new since)
    acknowledged: bool = False

    @property
    def name(self) -> str:
        """What the group is about: its label values, else its alert names."""
        values = [v for v in self.labels.values() if v]
        if values:
            return "/".join(values)
        names = list(dict.fromkeys(a.rule for a in self.alerts))
        return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "") if names else "alerts"

    @property
    def firing(self) -> tuple[AlertView, ...]:
        return tuple(a for a in self.alerts if a.state == "firing" and a.muted is None)

    @property
    def resolved(self) -> tuple[AlertView, ...]:
        return tuple(a for a in self.alerts if a.state == "resolved")

    @property
    def muted(self) -> tuple[AlertView, ...]:
        return tuple(a for a in self.alerts if a.state == "firing" and a.muted is not None)

    @property
    def severity(self) -> str:
        pool = self.firing or self.alerts
        return worst_severity([a.severity for a in pool])
