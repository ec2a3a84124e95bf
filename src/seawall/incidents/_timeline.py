"""An incident's timeline: what happened, in order, told in words.

Read from ``store.events`` over the incident's span -- from five minutes
before the impact started to five minutes after it was resolved (or now) --
and kept when an event is about the incident:

* it concerns one of the incident's integrations (breaker changes,
  failovers, health, maintenance, probes, fallbacks, alerts, operator
  actions);
* it names the incident (``data.incident_id``: incident-opened, -joined,
  -acknowledged, -resolved, notifications sent for it);
* it is about one of the incident's alert series (``data.fingerprint`` of an
  alert event, ``data.fingerprints`` of a notification);
* it concerns every integration (a configuration reload, an operator action
  without an integration).

Runs of the same fallback or failover (one event per call during an outage)
are folded into one entry with a count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from seawall.incidents._format import iso
from seawall.store import EventRecord, Incident, Store

__all__ = ["MARGIN", "TimelineEntry", "describe", "timeline"]

#: how far before the impact started, and after the incident ended, events are read
MARGIN = 5 * 60.0
#: at most this many events are read for one timeline
LIMIT = 20_000
#: kinds that concern every integration when they name none
_GLOBAL = frozenset({"config-reload", "operator-action"})
#: kinds that come once per call during an outage: runs of them are folded
_FOLDED = frozenset({"fallback-served", "failed-over"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One line of a timeline; ``count`` > 1 when a run of equal events was folded."""

    at: float
    kind: str
    integration: str | None
    provider: str | None
    text: str
    count: int = 1
    last_at: float | None = None  #: the last folded event's time


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _with(text: str, detail: str, joiner: str = ": ") -> str:
    return f"{text}{joiner}{detail}" if detail else text


_BREAKER_WORDS = {
    "open": "opened",
    "forced_open": "was forced open",
    "half_open": "is half-open (trying calls)",
    "closed": "closed",
    "disabled": "was disabled",
}


def _breaker(d: Mapping[str, Any]) -> str:
    new = _text(d, "new")
    text = f"Circuit breaker {_BREAKER_WORDS.get(new, 'is ' + new)} (was {_text(d, 'old', '?')})"
    return _with(text, _text(d, "cause"))


def _failed_over(d: Mapping[str, Any]) -> str:
    return _with(
        f"Failed over from {_text(d, 'source')} to {_text(d, 'target')}", _text(d, "cause")
    )


def _health(d: Mapping[str, Any]) -> str:
    return _with(f"Health {_text(d, 'old')} -> {_text(d, 'new')}", _text(d, "reason"))


def _maintenance(d: Mapping[str, Any]) -> str:
    planned = "planned" if d.get("planned", True) else "unplanned"
    return _with(f"Maintenance {_text(d, 'phase')} ({planned})", _text(d, "reason"))


def _probe(d: Mapping[str, Any]) -> str:
    if d.get("ok"):
        return "Health probe passing again"
    return _with("Health probe failing", _text(d, "detail"))


def _fallback(d: Mapping[str, Any]) -> str:
    return _with(f"Served the {_text(d, 'kind', '?')} fallback", _text(d, "cause"))


def _reload(d: Mapping[str, Any]) -> str:
    return "Configuration reloaded" if d.get("ok") else "Configuration reload refused"


def _operator(d: Mapping[str, Any]) -> str:
    who = _text(d, "by") or _text(d, "actor") or "an operator"
    action = _text(d, "action", "acted")
    return _with(f"{who}: {action}", _text(d, "detail") or _text(d, "reason"))


def _alert_firing(d: Mapping[str, Any]) -> str:
    text = f"Alert {_text(d, 'rule')} firing ({_text(d, 'severity')})"
    return _with(text, _text(d, "summary"))


def _alert_resolved(d: Mapping[str, Any]) -> str:
    return f"Alert {_text(d, 'rule')} resolved"


def _alert_acknowledged(d: Mapping[str, Any]) -> str:
    return f"Alert {_text(d, 'rule')} acknowledged by {_text(d, 'by', 'someone')}"


def _notified(d: Mapping[str, Any]) -> str:
    step = d.get("step")
    where = f"{_text(d, 'target')} ({_text(d, 'target_kind')})"
    text = f"Notified {where}: {_text(d, 'kind')}"
    return text + (f", escalation step {step}" if step is not None else "")


def _notify_failed(d: Mapping[str, Any]) -> str:
    where = f"{_text(d, 'target')} ({_text(d, 'target_kind')})"
    text = f"Notification to {where} {_text(d, 'status', 'failed')}: {_text(d, 'kind')}"
    return _with(text, _text(d, "error"), "; ")


def _opened(d: Mapping[str, Any]) -> str:
    return _with(f"Incident #{_text(d, 'incident_id')} opened", _text(d, "trigger"))


def _joined(d: Mapping[str, Any]) -> str:
    what = [
        part
        for part in (
            f"alert {_text(d, 'rule')}" if d.get("rule") else "",
            f"breaker of {_text(d, 'provider')}" if d.get("source") == "breaker" else "",
            "/".join(p for p in (_text(d, "integration"), _text(d, "provider")) if p),
        )
        if part
    ]
    return f"{', '.join(what) or 'Something'} joined incident #{_text(d, 'incident_id')}"


def _acknowledged(d: Mapping[str, Any]) -> str:
    return f"Incident acknowledged by {_text(d, 'by', 'someone')}"


def _resolved(d: Mapping[str, Any]) -> str:
    if d.get("auto"):
        return "Incident resolved automatically: alerts resolved and breakers closed"
    return f"Incident resolved by {_text(d, 'by', 'someone')}"


_DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "breaker-changed": _breaker,
    "failed-over": _failed_over,
    "health-changed": _health,
    "maintenance-changed": _maintenance,
    "probe-changed": _probe,
    "fallback-served": _fallback,
    "config-reload": _reload,
    "operator-action": _operator,
    "alert-firing": _alert_firing,
    "alert-resolved": _alert_resolved,
    "alert-acknowledged": _alert_acknowledged,
    "notification-sent": _notified,
    "notification-failed": _notify_failed,
    "incident-opened": _opened,
    "incident-joined": _joined,
    "incident-acknowledged": _acknowledged,
    "incident-resolved": _resolved,
}


def describe(kind: str, data: Mapping[str, Any]) -> str:
    """One sentence for an event of ``kind``; unknown kinds list their data."""
    known = _DESCRIBE.get(kind)
    if known is not None:
        return known(data)
    detail = ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
    return _with(kind, detail)


def _concerns(event: EventRecord, incident: Incident, fingerprints: frozenset[str]) -> bool:
    data = event.data
    if data.get("incident_id") == incident.id:
        return True
    if event.integration is not None and event.integration in incident.integrations:
        return True
    if event.integration is None and event.kind in _GLOBAL:
        return True
    if data.get("fingerprint") in fingerprints:
        return True
    prints = data.get("fingerprints")
    return isinstance(prints, list) and not fingerprints.isdisjoint(str(p) for p in prints)


def _fold(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    folded: list[TimelineEntry] = []
    for entry in entries:
        last = folded[-1] if folded else None
        if (
            last is not None
            and entry.kind in _FOLDED
            and (last.kind, last.integration, last.provider, last.text)
            == (entry.kind, entry.integration, entry.provider, entry.text)
        ):
            folded[-1] = replace(last, count=last.count + 1, last_at=entry.at)
        else:
            folded.append(entry)
    return folded


async def timeline(
    store: Store, incident: Incident, *, now: float | None = None
) -> list[TimelineEntry]:
    """The incident's timeline, oldest first (ties in the order stored).

    ``now`` (default: the wall clock) ends the span of an unresolved incident.
    """
    if incident.resolved_at is not None:
        end = incident.resolved_at
    else:
        end = time.time() if now is None else now
    episodes = await store.alerts.of_incident(incident.id)
    fingerprints = frozenset(e.fingerprint for e in episodes)
    found = await store.events.query(
        since=incident.impact_started_at - MARGIN, until=end + MARGIN, limit=LIMIT
    )
    entries = [
        TimelineEntry(
            at=event.at,
            kind=event.kind,
            integration=event.integration,
            provider=event.provider,
            text=describe(event.kind, event.data),
        )
        for event in found
        if _concerns(event, incident, fingerprints)
    ]
    folded = _fold(entries)
    if len(found) >= LIMIT:
        folded.append(
            TimelineEntry(
                at=found[-1].at,
                kind="timeline-truncated",
                integration=None,
                provider=None,
                text=f"Only the first {LIMIT} events of the span were read ({iso(found[-1].at)})",
            )
        )
    return folded
