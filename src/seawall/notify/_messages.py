"""The words of a notification: a short title and a plain-text body.

Titles follow Alertmanager's habit (``[FIRING:2] payments (critical)``,
``[RESOLVED] payments``), so a glance at a phone says how bad and what. The
body lists each alert with its summary, value, threshold, since when, and
labels; says which are muted and why; and ends with how to acknowledge and
silence. Plain text reads well in Slack, email and SMS alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from seawall.notify._log import NoticeKind
from seawall.notify._views import AlertView, GroupView

__all__ = ["Message", "Recipient", "compose", "default_evidence", "format_time"]

#: alerts listed per section; the rest are counted
_LISTED = 25


def format_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _value(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"


def _labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={labels[k]}" for k in sorted(labels))


def _listed(alerts: Sequence[AlertView]) -> list[str]:
    lines: list[str] = []
    for alert in alerts[:_LISTED]:
        lines.extend(_alert(alert))
    if len(alerts) > _LISTED:
        lines.append(f"... and {len(alerts) - _LISTED} more")
    return lines


def _alert(alert: AlertView) -> list[str]:
    head = alert.summary or alert.rule
    measured = f"value {_value(alert.value)}"
    if alert.threshold is not None:
        measured += f" (threshold {_value(alert.threshold)})"
    if alert.state == "resolved" and alert.resolved_at is not None:
        when = (
            f"resolved at {format_time(alert.resolved_at)}, firing since {format_time(alert.since)}"
        )
    else:
        when = f"since {format_time(alert.since)}"
    return [f"- {head}", f"  {measured}, {when}", f"  labels: {_labels(alert.labels)}"]


def default_evidence(group: GroupView) -> str:
    """The alerts with their values, thresholds and times: evidence without a store."""
    lines: list[str] = []
    for alert in group.alerts[:_LISTED]:
        threshold = "" if alert.threshold is None else f" against {_value(alert.threshold)}"
        state = (
            alert.state
            if alert.resolved_at is None
            else f"resolved {format_time(alert.resolved_at)}"
        )
        lines.append(
            f"- {alert.rule}: {_value(alert.value)}{threshold}; since {format_time(alert.since)};"
            f" {state}; {_labels(alert.labels)}"
        )
    if len(group.alerts) > _LISTED:
        lines.append(f"... and {len(group.alerts) - _LISTED} more")
    return "\n".join(lines) or "no alert details"


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """Who a message is for, as far as its wording goes."""

    #: a contact outside the team (a vendor desk): gets evidence, no ack or silence hints
    external: bool = False
    #: the escalation role, e.g. "engineering manager"
    role: str = ""
    step: int | None = None
    steps: int = 0
    escalation: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    title: str
    body: str


def _title(group: GroupView, kind: NoticeKind, firing: int) -> str:
    severity = f" ({group.severity})" if group.severity else ""
    if kind == "resolved" or firing == 0:
        return f"[RESOLVED] {group.name}"
    return f"[FIRING:{firing}] {group.name}{severity}"


def _silence_hint(group: GroupView) -> str:
    matchers = {k: v for k, v in group.labels.items() if v}
    rules = {a.rule for a in group.alerts}
    if len(rules) == 1:
        matchers["alertname"] = next(iter(rules))
    if not matchers:
        return ""
    return f"Silence: add a silence with matchers {_labels(matchers)} through the admin API."


def compose(
    group: GroupView,
    kind: NoticeKind,
    *,
    to: Recipient | None = None,
    evidence: str | None = None,
    ack_url: str | None = None,
    call: str | None = None,
) -> Message:
    """The message about ``group`` for one recipient.

    ``call`` is the request to phone an unreachable contact; ``evidence`` is
    shown under its own heading (contacts and call requests carry it).
    """
    to = to or Recipient()
    firing = group.firing
    muted = group.muted
    resolved = group.resolved
    lines: list[str] = []
    if to.step is not None:
        if to.role:
            lines.append(f"You are the {to.role} for this alert.")
        chain = f" {to.escalation}" if to.escalation else ""
        lines.append(f"Escalation{chain}, step {to.step + 1} of {to.steps}.")
        lines.append("")
    if call:
        lines.extend([call, ""])
    if kind == "resolved" and not firing and not muted:
        lines.append(f"All alerts of {group.name} have resolved.")
    if firing:
        lines.append(f"Firing ({len(firing)}):")
        lines.extend(_listed(firing))
    if resolved:
        lines.append(f"Resolved ({len(resolved)}):")
        lines.extend(_listed(resolved))
    if muted and not to.external:
        reasons = "; ".join(f"{a.rule}: {a.muted}" for a in muted[:_LISTED])
        lines.append(f"Muted ({len(muted)}, not notified): {reasons}")
    if evidence:
        lines.extend(["", "Evidence:", evidence])
    if not to.external:
        lines.append("")
        if group.acked_by is not None and group.acked_at is not None:
            lines.append(f"Acknowledged by {group.acked_by} at {format_time(group.acked_at)}.")
        if firing and not group.acknowledged:
            where = ack_url or f"through the admin API, group {group.key}"
            lines.append(f"Acknowledge: {where}")
        if firing:
            hint = _silence_hint(group)
            if hint:
                lines.append(hint)
        lines.append(f"Group: {group.key}")
    return Message(title=_title(group, kind, len(firing)), body=_join(lines))


def _join(lines: list[str]) -> str:
    """Lines joined, with runs of blank lines collapsed and none at either end."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n")
