"""The evidence a vendor's support desk is sent when an escalation reaches them.

What a support engineer needs to act without a call back: which of their
endpoints failed, how (timeouts, connection errors, error statuses), since
when and how much, and what seawall did about it (breaker, failover) -- from
the stored rollups and timeline. Never request bodies or headers: those may
carry personal data and credentials; and when the alerts name a provider,
nothing about the integration's other providers (another vendor's traffic).
"""

from __future__ import annotations

from datetime import UTC, datetime

from seawall._errors import StoreError
from seawall.notify import GroupView, default_evidence
from seawall.store import RollupRow, Store

__all__ = ["EVIDENCE_WINDOW", "evidence_text"]

#: how far back the evidence looks
EVIDENCE_WINDOW = 30 * 60.0
_KINDS = ("breaker-changed", "failed-over", "health-changed", "probe-changed")
_MAX_EVENTS = 15


def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _traffic(rows: list[RollupRow]) -> list[str]:
    totals: dict[str, list[int]] = {}
    for row in rows:
        t = totals.setdefault(row.provider or "(none)", [0] * 6)
        for i, n in enumerate(
            (
                row.attempts,
                row.success + row.final,
                row.failure,
                row.timeout,
                row.connect_error,
                row.throttled,
            )
        ):
            t[i] += n
    lines = []
    for provider, (attempts, good, failure, timeout, connect, throttled) in sorted(totals.items()):
        if not attempts:
            continue
        bad = failure + timeout + connect
        lines.append(
            f"- {provider}: {attempts} requests, {bad} failed ({bad / attempts:.1%}): "
            f"{failure} error responses, {timeout} timeouts, {connect} connection errors; "
            f"{throttled} throttled; {good} answered"
        )
    return lines


async def evidence_text(store: Store, group: GroupView, *, now: float) -> str:
    """The group's alerts, then per integration the last half hour's traffic and events."""
    parts = ["Alerts:", default_evidence(group)]
    integrations = sorted(
        {a.labels["integration"] for a in group.alerts if "integration" in a.labels}
    )
    since = now - EVIDENCE_WINDOW
    for integration in integrations:
        try:
            rows = await store.rollups.query(start=since, end=now + 60, integration=integration)
            events = await store.events.query(
                since=since, until=now + 1, integration=integration, kinds=_KINDS
            )
        except StoreError as exc:
            parts.append(f"\n{integration}: the stored history could not be read ({exc.message})")
            continue
        named = {
            a.labels["provider"]
            for a in group.alerts
            if a.labels.get("integration") == integration and "provider" in a.labels
        }
        if named:  # a vendor sees its own traffic, never another vendor's
            rows = [r for r in rows if r.provider in named]
            events = [e for e in events if e.provider in named]
        parts.append(f"\n{integration}, requests since {_time(since)}:")
        parts.extend(_traffic(rows) or ["- no requests recorded"])
        if events:
            parts.append(f"{integration}, what seawall saw and did:")
            for event in events[-_MAX_EVENTS:]:
                detail = ", ".join(
                    f"{k}={v}"
                    for k, v in sorted(event.data.items())
                    if isinstance(v, str | int | float)
                )
                where = f"/{event.provider}" if event.provider else ""
                parts.append(
                    f"- {_time(event.at)} {event.kind} {integration}{where} {detail}".rstrip()
                )
    return "\n".join(parts)
