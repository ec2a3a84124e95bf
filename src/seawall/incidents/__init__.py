"""Incidents: alerts and breakers open them, people acknowledge and resolve them, reports tell.

::

    book = IncidentBook(store, config)
    await book.on_transition(transition)              # from the alert evaluator
    await book.on_breaker("payments", "stripe", BreakerState.OPEN, at=time.time())
    await book.ack(incident.id, by="ada")
    await book.maybe_resolve(time.time(), breakers)   # every evaluation

    report = await build_incident_report(store, config, incident.id, now=time.time())
    print(render_markdown(report))

Incidents themselves live in the store (``store.incidents``); their state
machine is :class:`IncidentState`, re-exported here.
"""

from __future__ import annotations

from seawall.incidents._book import AUTO, IncidentBook, overlapping
from seawall.incidents._impact import LOOKBACK, failing_since
from seawall.incidents._notes import join_notes, split_notes
from seawall.incidents._render import render_html, render_markdown
from seawall.incidents._report import (
    AffectedIntegration,
    IncidentReport,
    ProviderTraffic,
    build_incident_report,
)
from seawall.incidents._sla import SlaImpact
from seawall.incidents._timeline import TimelineEntry, describe, timeline
from seawall.store import Incident, IncidentChange, IncidentState, InvalidIncidentMove

__all__ = [
    "AUTO",
    "LOOKBACK",
    "AffectedIntegration",
    "Incident",
    "IncidentBook",
    "IncidentChange",
    "IncidentReport",
    "IncidentState",
    "InvalidIncidentMove",
    "ProviderTraffic",
    "SlaImpact",
    "TimelineEntry",
    "build_incident_report",
    "describe",
    "failing_since",
    "join_notes",
    "overlapping",
    "render_html",
    "render_markdown",
    "split_notes",
    "timeline",
]
