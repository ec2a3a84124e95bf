"""The post-incident report: what happened, how fast it was seen and fixed, and what it cost.

Definitions (times are Unix seconds; the impact ends when the incident was
resolved, or at ``now`` while it lasts):

* **time to detect** (MTTD) = ``opened_at - impact_started_at``;
* **time to acknowledge** = ``acknowledged_at - opened_at`` (None if nobody did);
* **time to recover** (MTTR) = ``resolved_at - impact_started_at`` (None while open);
* **traffic** per integration and provider is read from the minute rollups
  of the minutes the impact touched (``[floor(start), ceil(end))``): calls,
  attempts, failed attempts (vendor faults: failure, timeout, connect error),
  calls seawall rejected itself, failovers; fallbacks served are counted from
  the ``fallback-served`` events in the impact span;
* **business impact** of an integration = its ``impact_per_minute`` x the
  minutes of impact (the incident's impact span: the book does not know when
  each integration was first hurt, so each is counted over the whole span);
* **SLA implications** come from :mod:`seawall.incidents._sla`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from seawall.config import Config
from seawall.incidents._notes import split_notes
from seawall.incidents._sla import SlaImpact, affected_slas, measure_sla
from seawall.incidents._timeline import TimelineEntry, timeline
from seawall.store import AlertEpisode, Incident, NotificationRecord, RollupRow, Store

__all__ = [
    "AffectedIntegration",
    "IncidentReport",
    "ProviderTraffic",
    "build_incident_report",
]

_MINUTE = 60
#: notifications sent this long after the incident ended still belong to it (resolved notices)
_TAIL = 5 * 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderTraffic:
    """One provider's calls during the incident; provider ``""``: calls that reached none."""

    provider: str
    calls: int
    attempts: int
    failed: int  #: vendor faults: failure + timeout + connect error
    rejected: int  #: refused by seawall itself (breaker open, rate limit, bulkhead)
    failovers: int  #: calls moved away from this provider


@dataclass(frozen=True, slots=True, kw_only=True)
class AffectedIntegration:
    """One integration the incident touched, its traffic and its business impact."""

    name: str
    criticality: str  #: as configured; ``unknown`` when no longer configured
    impact_per_minute: float
    minutes: float  #: minutes of impact counted
    impact: float  #: ``impact_per_minute * minutes``
    calls: int
    failed: int
    rejected: int
    fallbacks: int
    providers: tuple[ProviderTraffic, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentReport:
    """Everything a post-incident review needs, as values; renderers format them."""

    incident: Incident
    as_of: float
    impact_start: float
    impact_end: float  #: resolved_at, or ``as_of`` while the incident lasts
    ongoing: bool
    time_to_detect: float
    time_to_acknowledge: float | None
    time_to_recover: float | None
    impact_minutes: float
    integrations: tuple[AffectedIntegration, ...]
    total_impact: float
    slas: tuple[SlaImpact, ...]
    timeline: tuple[TimelineEntry, ...]
    alerts: tuple[AlertEpisode, ...]
    notifications: tuple[NotificationRecord, ...]
    root_cause: str | None
    prevention: str | None


def _traffic(rows: list[RollupRow]) -> tuple[ProviderTraffic, ...]:
    return tuple(
        ProviderTraffic(
            provider=row.provider,
            calls=row.calls,
            attempts=row.attempts,
            failed=row.vendor_bad,
            rejected=row.rejected,
            failovers=row.failovers,
        )
        for row in sorted(rows, key=lambda r: r.provider)
    )


async def _affected(
    store: Store, config: Config, incident: Incident, start: float, end: float
) -> tuple[AffectedIntegration, ...]:
    low = math.floor(start / _MINUTE) * _MINUTE
    high = math.ceil(end / _MINUTE) * _MINUTE
    fallbacks: dict[str, int] = {}
    for event in await store.events.query(since=start, until=end, kinds=["fallback-served"]):
        if event.integration is not None:
            fallbacks[event.integration] = fallbacks.get(event.integration, 0) + 1
    minutes = (end - start) / _MINUTE
    affected = []
    for name in incident.integrations:
        rows = await store.rollups.totals(start=low, end=high, integration=name)
        providers = _traffic(rows)
        settings = config.integrations.get(name)
        per_minute = settings.impact_per_minute if settings is not None else 0.0
        affected.append(
            AffectedIntegration(
                name=name,
                criticality=settings.criticality if settings is not None else "unknown",
                impact_per_minute=per_minute,
                minutes=minutes,
                impact=per_minute * minutes,
                calls=sum(p.calls for p in providers),
                failed=sum(p.failed for p in providers),
                rejected=sum(p.rejected for p in providers),
                fallbacks=fallbacks.get(name, 0),
                providers=providers,
            )
        )
    return tuple(affected)


async def build_incident_report(
    store: Store, config: Config, incident_id: int, *, now: float
) -> IncidentReport:
    """The report of incident ``incident_id`` as of ``now``; LookupError if there is none."""
    incident = await store.incidents.get(incident_id)
    if incident is None:
        msg = f"no incident {incident_id}"
        raise LookupError(msg)
    start = incident.impact_started_at
    ongoing = incident.resolved_at is None
    end = now if incident.resolved_at is None else incident.resolved_at
    end = max(end, start)
    episodes = await store.alerts.of_incident(incident.id)
    prints = {e.fingerprint for e in episodes}
    sent = await store.notifications.query(start - _TAIL, end + _TAIL)
    notifications = tuple(
        n for n in sent if n.incident_id == incident.id or prints.intersection(n.fingerprints)
    )
    integrations = await _affected(store, config, incident, start, end)
    failing = {
        f"{i.name}/{p.provider}": p.failed for i in integrations for p in i.providers if p.provider
    }
    hurt = [*incident.providers, *(name for name, failed in failing.items() if failed)]
    slas = [
        await measure_sla(
            store,
            name,
            sla,
            impact_start=start,
            impact_end=end,
            failed_calls=failing.get(sla.provider, 0),
            now=now,
        )
        for name, sla in affected_slas(dict(config.slas), incident.integrations, hurt)
    ]
    root_cause, prevention = split_notes(incident.notes)
    acknowledged = incident.acknowledged_at
    return IncidentReport(
        incident=incident,
        as_of=now,
        impact_start=start,
        impact_end=end,
        ongoing=ongoing,
        time_to_detect=max(0.0, incident.opened_at - start),
        time_to_acknowledge=None if acknowledged is None else acknowledged - incident.opened_at,
        time_to_recover=None if incident.resolved_at is None else incident.resolved_at - start,
        impact_minutes=(end - start) / _MINUTE,
        integrations=integrations,
        total_impact=sum(i.impact for i in integrations),
        slas=tuple(slas),
        timeline=tuple(await timeline(store, incident, now=now)),
        alerts=tuple(episodes),
        notifications=notifications,
        root_cause=root_cause,
        prevention=prevention,
    )
