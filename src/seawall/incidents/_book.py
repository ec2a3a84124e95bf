"""The incident book: alerts and breakers open incidents, join them, and resolve them.

Rules, one vendor outage being one incident:

* a **critical** alert firing opens an incident, unless an unresolved one
  already concerns it -- same integration, or an overlapping provider (the
  same provider name under any integration: ``stripe`` failing for
  ``payments`` and for ``billing`` is one Stripe outage) -- which it then
  joins; a **warning** (or info) alert only ever joins;
* a breaker going ``open`` or ``forced_open`` opens (or joins) an incident
  when its integration's ``criticality`` is ``critical``, and only joins
  otherwise;
* an incident goes ``open -> acknowledged -> resolved`` (:meth:`IncidentBook.ack`,
  :meth:`IncidentBook.resolve`); acknowledging it acknowledges its firing
  alerts too, so their escalations stop;
* :meth:`IncidentBook.maybe_resolve` resolves an incident by itself once
  every alert linked to it has resolved and no breaker of its integrations
  is open, forced open or half-open.

The impact start of a new incident is the earliest of the alert's
``active_since``, the breaker's opening, and the first minute of the run of
failing minutes before it in the rollups (:mod:`seawall.incidents._impact`).

Times passed in are Unix seconds (wall clock), never the engine's monotonic
event times: convert a :class:`~seawall._events.BreakerChanged` first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from seawall._states import BreakerState
from seawall.alerts import Transition
from seawall.config import Config
from seawall.incidents._format import iso
from seawall.incidents._impact import failing_since, lookback_range
from seawall.incidents._notes import join_notes
from seawall.store import (
    Incident,
    IncidentChange,
    IncidentDraft,
    IncidentState,
    InvalidIncidentMove,
    Store,
)

__all__ = ["AUTO", "IncidentBook", "overlapping"]

#: who resolved an incident that resolved by itself
AUTO = "seawall"
_OPEN_BREAKER = frozenset({BreakerState.OPEN.value, BreakerState.FORCED_OPEN.value})
#: a breaker in one of these has not recovered yet: an incident waits for it
_UNRECOVERED = _OPEN_BREAKER | {BreakerState.HALF_OPEN.value}


def _state(value: BreakerState | str) -> str:
    return value.value if isinstance(value, BreakerState) else str(value)


def overlapping(
    incidents: Sequence[Incident], integration: str | None, provider: str | None
) -> Incident | None:
    """The unresolved incident an alarm about ``integration``/``provider`` belongs to.

    The oldest of those of the same integration, else the oldest with a
    provider of the same name; None when none overlaps.
    """
    active = [i for i in incidents if i.active]
    if integration is not None:
        for incident in active:
            if integration in incident.integrations:
                return incident
    if provider is not None:
        for incident in active:
            if any(p.split("/", 1)[-1] == provider for p in incident.providers):
                return incident
    return None


class IncidentBook:
    """Opens, joins and resolves incidents in ``store`` as alerts and breakers change."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        first_failure: Callable[[str, float, float], float | None] | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        #: (integration, minute start, alarm time) -> the first failure inside that
        #: minute, from finer counts than the stored per-minute rollups
        self._first_failure = first_failure

    def reconfigure(self, config: Config) -> None:
        """Use a reloaded configuration from now on (criticality, SLAs)."""
        self._config = config

    # -- alarms ----------------------------------------------------------------------

    def _where(self, labels: Mapping[str, str]) -> tuple[str | None, str | None]:
        """The integration and provider an alert is about; an SLA rule names its provider."""
        integration, provider = labels.get("integration"), labels.get("provider")
        sla = self._config.slas.get(labels.get("sla", ""))
        if integration is None and sla is not None:
            integration, provider = sla.provider.split("/", 1)
        return integration, provider

    async def _failing_since(self, integration: str | None, at: float) -> float | None:
        if integration is None:
            return None
        start, end = lookback_range(at)
        rows = await self._store.rollups.query(
            start=start, end=end, integration=integration, width=60
        )
        minute = failing_since(rows, at)
        if minute is None or self._first_failure is None:
            return minute
        finer = self._first_failure(integration, minute, at)
        return minute if finer is None else max(minute, min(finer, at))

    async def on_transition(self, t: Transition) -> IncidentChange | None:
        """React to an alert transition; returns what happened to which incident, if any.

        ``firing``: the episode is recorded (``store.alerts.open``, idempotent)
        and opens or joins an incident as the rules say. ``resolved``: the
        episode is closed; the incident waits for :meth:`maybe_resolve`.
        """
        if t.state == "resolved":
            await self._store.alerts.resolve(t.fingerprint, t.at)
            return None
        if t.state != "firing":
            return None
        episode_id = await self._store.alerts.open(t)
        episode = await self._store.alerts.get(episode_id)
        if episode is not None and episode.incident_id is not None:
            # an episode belongs to one incident: a replayed firing (a restart, a
            # second replica) changes nothing, even after a person resolved it
            linked = await self._store.incidents.get(episode.incident_id)
            if linked is not None:
                return IncidentChange(incident=linked, action="unchanged")
        integration, provider = self._where(t.labels)
        fired_at = episode.fired_at if episode is not None else t.at
        active_since = episode.active_since if episode is not None else fired_at
        starts = [active_since]
        failing = await self._failing_since(integration, fired_at)
        if failing is not None:
            starts.append(failing)
        impact = min(starts)
        draft = None
        if t.severity == "critical":
            draft = IncidentDraft(
                title=f"{integration}: {t.summary or t.rule}"
                if integration
                else t.summary or t.rule,
                severity=t.severity,
                trigger=f"alert {t.rule} ({t.severity}) fired at {iso(fired_at)}"
                + (f": {t.summary}" if t.summary else ""),
                opened_at=max(t.at, fired_at),
                impact_started_at=impact,
                integrations=(integration,) if integration else (),
                providers=(f"{integration}/{provider}",) if integration and provider else (),
            )
        data: dict[str, Any] = {
            "source": "alert",
            "rule": t.rule,
            "fingerprint": t.fingerprint,
            "episode_id": episode_id,
            "severity": t.severity,
        }
        return await self._store.incidents.open_or_join(
            pick=lambda incidents: overlapping(incidents, integration, provider),
            draft=draft,
            integration=integration,
            provider=provider,
            at=t.at,
            impact_started_at=impact,
            episode_ids=[episode_id],
            data=data,
        )

    async def on_breaker(
        self, integration: str, provider: str, new_state: BreakerState | str, at: float
    ) -> IncidentChange | None:
        """React to a provider's breaker moving to ``new_state`` at ``at`` (Unix seconds).

        Opening (``open``, ``forced_open``) opens an incident for a critical
        integration and joins an overlapping one otherwise; other states do
        nothing here (see :meth:`maybe_resolve`).
        """
        state = _state(new_state)
        if state not in _OPEN_BREAKER:
            return None
        settings = self._config.integrations.get(integration)
        critical = settings is not None and settings.criticality == "critical"
        failing = await self._failing_since(integration, at)
        impact = at if failing is None else min(at, failing)
        draft = None
        if critical:
            draft = IncidentDraft(
                title=f"{integration}: {provider} circuit breaker open",
                severity="critical",
                trigger=f"breaker of {integration}/{provider} {state} at {iso(at)}",
                opened_at=at,
                impact_started_at=impact,
                integrations=(integration,),
                providers=(f"{integration}/{provider}",),
            )
        return await self._store.incidents.open_or_join(
            pick=lambda incidents: overlapping(incidents, integration, provider),
            draft=draft,
            integration=integration,
            provider=provider,
            at=at,
            impact_started_at=impact,
            data={"source": "breaker", "state": state},
        )

    # -- people ----------------------------------------------------------------------

    async def ack(self, incident_id: int, by: str, at: float | None = None) -> Incident:
        """Acknowledge an open incident, and its firing alerts.

        Raises LookupError for an unknown incident and
        :class:`~seawall.store.InvalidIncidentMove` unless it is open.
        """
        when = self._clock() if at is None else at
        incident = await self._store.incidents.update_state(
            incident_id, IncidentState.ACKNOWLEDGED, at=when, by=by
        )
        for episode in await self._store.alerts.of_incident(incident_id):
            if episode.firing and episode.acked_at is None:
                await self._store.alerts.ack(episode.id, at=when, by=by)
        return incident

    async def resolve(self, incident_id: int, by: str, at: float | None = None) -> Incident:
        """Resolve an incident by hand (alerts may still fire; it stays resolved).

        Raises LookupError for an unknown incident and
        :class:`~seawall.store.InvalidIncidentMove` when it is resolved already.
        """
        when = self._clock() if at is None else at
        return await self._store.incidents.update_state(
            incident_id, IncidentState.RESOLVED, at=when, by=by
        )

    async def write_notes(
        self, incident_id: int, *, root_cause: str | None, prevention: str | None
    ) -> Incident:
        """Record the root cause and prevention for the post-incident report."""
        notes = join_notes(root_cause=root_cause, prevention=prevention)
        return await self._store.incidents.set_notes(incident_id, notes)

    # -- recovery --------------------------------------------------------------------

    async def maybe_resolve(
        self, now: float, breakers: Mapping[tuple[str, str], BreakerState | str]
    ) -> list[Incident]:
        """Resolve each unresolved incident whose alerts have all resolved and whose
        integrations have no breaker open, forced open or half-open; returns them.

        ``breakers`` maps ``(integration, provider)`` to each breaker's state.
        """
        unrecovered = {
            integration
            for (integration, _), state in breakers.items()
            if _state(state) in _UNRECOVERED
        }
        active = [
            incident
            for state in (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)
            for incident in await self._store.incidents.list(state=state, limit=None)
        ]
        resolved: list[Incident] = []
        for incident in sorted(active, key=lambda i: i.id):
            if unrecovered.intersection(incident.integrations):
                continue
            try:
                done = await self._store.incidents.resolve_if_quiet(
                    incident.id, at=now, by=AUTO, data={"auto": True}
                )
            except InvalidIncidentMove:  # resolved meanwhile, by a person or another replica
                continue
            if done is not None:
                resolved.append(done)
        return resolved
