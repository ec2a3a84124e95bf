"""Incidents: one record per outage, from the first alarm to its resolution and write-up.

An incident moves through :class:`IncidentState`:

==============  ==============  =========================================
from            to              by
==============  ==============  =========================================
(new)           OPEN            ``open``, ``open_or_join``
OPEN            ACKNOWLEDGED    ``update_state`` (someone is on it)
OPEN            RESOLVED        ``update_state`` (a person), ``resolve_if_quiet`` (by itself)
ACKNOWLEDGED    RESOLVED        ``update_state``, ``resolve_if_quiet``
==============  ==============  =========================================

Any other move raises :class:`InvalidIncidentMove`. Every change appends its
timeline event to ``events`` in the same transaction -- ``incident-opened``,
``incident-joined``, ``incident-acknowledged``, ``incident-resolved`` -- with
``data.incident_id``, so a timeline never shows a change that was not stored,
nor misses one that was.

Which open incident an alert or a breaker belongs to is the incident book's
decision (``seawall.incidents``); :meth:`Incidents.open_or_join` runs that
decision inside one write transaction, so two replicas (or two tasks) seeing
the same outage at once still make one incident.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from seawall._errors import IncidentError
from seawall.store._database import Database
from seawall.store._schema import alert_episodes, events, incidents

__all__ = [
    "Incident",
    "IncidentChange",
    "IncidentDraft",
    "IncidentState",
    "Incidents",
    "InvalidIncidentMove",
]

#: PostgreSQL advisory lock serialising open_or_join across replicas (any constant)
_INCIDENT_LOCK = 0x5EA_3A14


class IncidentState(enum.Enum):
    """Where an incident is; the values are stored as they are."""

    #: Opened by an alert or a breaker; nobody has said they are on it yet.
    OPEN = "open"
    #: Someone acknowledged it and is working on it.
    ACKNOWLEDGED = "acknowledged"
    #: Over, by a person's word or because every alert resolved and every breaker closed. Final.
    RESOLVED = "resolved"


_MOVES: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.OPEN: frozenset({IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED}),
    IncidentState.ACKNOWLEDGED: frozenset({IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset(),
}


class InvalidIncidentMove(IncidentError, ValueError):
    """An incident cannot move from its state to the one asked for."""

    def __init__(self, incident_id: int, state: IncidentState, to: IncidentState) -> None:
        self.incident_id = incident_id
        self.state = state
        self.to = to
        verb = {IncidentState.ACKNOWLEDGED: "acknowledged", IncidentState.RESOLVED: "resolved"}
        super().__init__(
            f"incident {incident_id} is {state.value}; it cannot be "
            f"{verb.get(to, 'moved to ' + to.value)} "
            f"(an incident goes open -> acknowledged -> resolved)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """One stored incident; times are Unix seconds."""

    id: int
    title: str
    severity: str
    state: IncidentState
    integrations: tuple[str, ...]
    #: affected providers as ``integration/provider``
    providers: tuple[str, ...]
    trigger: str
    opened_at: float
    impact_started_at: float
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    resolved_at: float | None = None
    resolved_by: str | None = None
    notes: str | None = None

    @property
    def active(self) -> bool:
        """Not resolved yet."""
        return self.state is not IncidentState.RESOLVED


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentDraft:
    """What a new incident starts with."""

    title: str
    severity: str
    trigger: str
    opened_at: float
    impact_started_at: float
    integrations: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()  #: as ``integration/provider``


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentChange:
    """What :meth:`Incidents.open_or_join` did."""

    incident: Incident
    #: ``opened`` a new one; ``joined``: an integration, provider or alert was
    #: added to it; ``unchanged``: it already held all of them
    action: Literal["opened", "joined", "unchanged"]


#: Chooses the incident to join among the unresolved ones (oldest first), or None.
Pick = Callable[[Sequence[Incident]], Incident | None]


def _incident(row: RowMapping) -> Incident:
    def optional(name: str) -> float | None:
        value = row[name]
        return None if value is None else float(value)

    return Incident(
        id=int(row["id"]),
        title=row["title"],
        severity=row["severity"],
        state=IncidentState(row["state"]),
        integrations=tuple(str(i) for i in row["integrations"]),
        providers=tuple(str(p) for p in row["providers"]),
        trigger=row["trigger"],
        opened_at=float(row["opened_at"]),
        impact_started_at=float(row["impact_started_at"]),
        acknowledged_at=optional("acknowledged_at"),
        acknowledged_by=row["acknowledged_by"],
        resolved_at=optional("resolved_at"),
        resolved_by=row["resolved_by"],
        notes=row["notes"],
    )


def _read(conn: Connection, incident_id: int) -> Incident:
    row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).mappings().first()
    if row is None:
        msg = f"no incident {incident_id}"
        raise LookupError(msg)
    return _incident(row)


def _append(
    conn: Connection,
    kind: str,
    at: float,
    incident_id: int,
    *,
    integration: str | None,
    provider: str | None,
    data: Mapping[str, Any],
) -> None:
    conn.execute(
        sa.insert(events).values(
            at=at,
            kind=kind,
            integration=integration,
            provider=provider,
            data={**data, "incident_id": incident_id},
        )
    )


def _provider_name(qualified: str | None) -> str | None:
    """``stripe`` of ``payments/stripe``."""
    return None if qualified is None else qualified.split("/", 1)[-1]


def _link(conn: Connection, episode_ids: Iterable[int], incident_id: int) -> int:
    ids = sorted(set(episode_ids))
    if not ids:
        return 0
    table = alert_episodes
    result = conn.execute(
        sa.update(table)
        .where(table.c.id.in_(ids))
        .where(sa.or_(table.c.incident_id.is_(None), table.c.incident_id != incident_id))
        .values(incident_id=incident_id)
    )
    return int(result.rowcount)


def _insert(
    conn: Connection,
    draft: IncidentDraft,
    episode_ids: Iterable[int],
    data: Mapping[str, Any],
) -> Incident:
    table = incidents
    inserted = conn.execute(
        sa.insert(table)
        .values(
            title=draft.title,
            severity=draft.severity,
            state=IncidentState.OPEN.value,
            integrations=list(dict.fromkeys(draft.integrations)),
            providers=list(dict.fromkeys(draft.providers)),
            trigger=draft.trigger,
            opened_at=draft.opened_at,
            impact_started_at=min(draft.impact_started_at, draft.opened_at),
        )
        .returning(table.c.id)
    )
    incident_id = int(inserted.scalar_one())
    _link(conn, episode_ids, incident_id)
    incident = _read(conn, incident_id)
    _append(
        conn,
        "incident-opened",
        draft.opened_at,
        incident_id,
        integration=incident.integrations[0] if incident.integrations else None,
        provider=_provider_name(incident.providers[0]) if incident.providers else None,
        data={
            "title": incident.title,
            "severity": incident.severity,
            "trigger": incident.trigger,
            "integrations": list(incident.integrations),
            "providers": list(incident.providers),
            "impact_started_at": incident.impact_started_at,
            **data,
        },
    )
    return incident


def _join(
    conn: Connection,
    incident: Incident,
    *,
    integration: str | None,
    provider: str | None,
    at: float,
    impact_started_at: float | None,
    episode_ids: Iterable[int],
    data: Mapping[str, Any],
) -> IncidentChange:
    """Add an integration, provider and episodes to ``incident``; one event if any was new."""
    integrations = list(incident.integrations)
    providers = list(incident.providers)
    if integration is not None and integration not in integrations:
        integrations.append(integration)
    qualified = None
    if integration is not None and provider is not None:
        qualified = f"{integration}/{provider}"
        if qualified not in providers:
            providers.append(qualified)
    grew = len(integrations) > len(incident.integrations) or len(providers) > len(
        incident.providers
    )
    linked = _link(conn, episode_ids, incident.id)
    values: dict[str, Any] = {}
    if grew:
        values.update(integrations=integrations, providers=providers)
    if impact_started_at is not None and impact_started_at < incident.impact_started_at:
        values["impact_started_at"] = impact_started_at
    if values:
        conn.execute(sa.update(incidents).where(incidents.c.id == incident.id).values(values))
    if not (grew or linked):
        return IncidentChange(incident=_read(conn, incident.id), action="unchanged")
    _append(
        conn,
        "incident-joined",
        at,
        incident.id,
        integration=integration,
        provider=provider,
        data={"integration": integration, "provider": provider, **data},
    )
    return IncidentChange(incident=_read(conn, incident.id), action="joined")


def _move(
    conn: Connection,
    incident: Incident,
    to: IncidentState,
    *,
    at: float,
    by: str,
    data: Mapping[str, Any],
) -> Incident:
    """Move ``incident`` to ``to`` and append its event; InvalidIncidentMove if it may not."""
    if to not in _MOVES[incident.state]:
        raise InvalidIncidentMove(incident.id, incident.state, to)
    values: dict[str, Any] = {"state": to.value}
    if to is IncidentState.ACKNOWLEDGED:
        values.update(acknowledged_at=at, acknowledged_by=by)
    else:
        values.update(resolved_at=max(at, incident.opened_at), resolved_by=by)
    conn.execute(sa.update(incidents).where(incidents.c.id == incident.id).values(values))
    _append(
        conn,
        f"incident-{to.value}",
        at,
        incident.id,
        integration=incident.integrations[0] if incident.integrations else None,
        provider=None,
        data={"by": by, **data},
    )
    return _read(conn, incident.id)


class Incidents:
    """The incidents repository; get it as ``store.incidents``. Times are Unix seconds."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def _lock(self, conn: Connection) -> None:
        if self._db.backend == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_INCIDENT_LOCK)))

    async def open(
        self,
        draft: IncidentDraft,
        *,
        episode_ids: Iterable[int] = (),
        data: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Open a new incident (and link ``episode_ids`` to it); ``data`` goes on its event."""
        extra = dict(data or {})
        ids = list(episode_ids)

        def open_(conn: Connection) -> Incident:
            return _insert(conn, draft, ids, extra)

        return await self._db.write("open an incident", open_)

    async def open_or_join(
        self,
        *,
        pick: Pick,
        draft: IncidentDraft | None,
        integration: str | None,
        provider: str | None,
        at: float,
        impact_started_at: float | None = None,
        episode_ids: Iterable[int] = (),
        data: Mapping[str, Any] | None = None,
    ) -> IncidentChange | None:
        """Join the unresolved incident ``pick`` chooses, else open ``draft``, atomically.

        ``pick`` runs inside the transaction, given the unresolved incidents
        oldest first; it must only look at them. Joining adds ``integration``
        (and ``integration/provider``) to the incident, links ``episode_ids``
        and moves ``impact_started_at`` earlier when the new one is. With
        ``draft`` None nothing is opened: returns None when there is nothing
        to join.
        """
        extra = dict(data or {})
        ids = list(episode_ids)
        table = incidents
        unresolved = (
            sa.select(table)
            .where(table.c.state != IncidentState.RESOLVED.value)
            .order_by(table.c.opened_at, table.c.id)
        )

        def run(conn: Connection) -> IncidentChange | None:
            self._lock(conn)
            candidates = [_incident(row) for row in conn.execute(unresolved).mappings()]
            chosen = pick(candidates)
            if chosen is not None:
                return _join(
                    conn,
                    chosen,
                    integration=integration,
                    provider=provider,
                    at=at,
                    impact_started_at=impact_started_at,
                    episode_ids=ids,
                    data=extra,
                )
            if draft is None:
                return None
            return IncidentChange(incident=_insert(conn, draft, ids, extra), action="opened")

        return await self._db.write("open or join an incident", run)

    async def add_integration(
        self,
        incident_id: int,
        integration: str,
        provider: str | None = None,
        *,
        at: float,
        impact_started_at: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Add an affected integration (and provider) to an incident; raises LookupError
        for an unknown one. An ``incident-joined`` event is appended when it is new."""
        extra = dict(data or {})

        def add(conn: Connection) -> Incident:
            self._lock(conn)
            change = _join(
                conn,
                _read(conn, incident_id),
                integration=integration,
                provider=provider,
                at=at,
                impact_started_at=impact_started_at,
                episode_ids=(),
                data=extra,
            )
            return change.incident

        return await self._db.write(f"add {integration} to incident {incident_id}", add)

    async def get(self, incident_id: int) -> Incident | None:
        """The incident with this id, or None."""

        def fetch(conn: Connection) -> Incident | None:
            try:
                return _read(conn, incident_id)
            except LookupError:
                return None

        return await self._db.read(f"read incident {incident_id}", fetch)

    async def list(
        self, *, state: IncidentState | str | None = None, limit: int | None = 100
    ) -> builtins.list[Incident]:
        """Incidents, newest first; only those in ``state`` when given."""
        table = incidents
        statement = sa.select(table).order_by(table.c.opened_at.desc(), table.c.id.desc())
        if state is not None:
            statement = statement.where(table.c.state == IncidentState(state).value)
        if limit is not None:
            statement = statement.limit(limit)

        def fetch(conn: Connection) -> builtins.list[Incident]:
            return [_incident(row) for row in conn.execute(statement).mappings()]

        return await self._db.read("list incidents", fetch)

    async def update_state(
        self,
        incident_id: int,
        state: IncidentState | str,
        *,
        at: float,
        by: str,
        data: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Move an incident to ``state`` (acknowledged or resolved) at ``at``, by ``by``.

        Raises LookupError for an unknown incident and
        :class:`InvalidIncidentMove` for a move the state machine has not.
        """
        to = IncidentState(state)
        extra = dict(data or {})

        def move(conn: Connection) -> Incident:
            self._lock(conn)
            return _move(conn, _read(conn, incident_id), to, at=at, by=by, data=extra)

        return await self._db.write(f"move incident {incident_id} to {to.value}", move)

    async def resolve_if_quiet(
        self,
        incident_id: int,
        *,
        at: float,
        by: str,
        data: Mapping[str, Any] | None = None,
    ) -> Incident | None:
        """Resolve an incident unless an alert episode linked to it is still firing.

        Returns the resolved incident, or None when an episode fires (nothing
        changes). Raises as :meth:`update_state` does.
        """
        extra = dict(data or {})
        episodes = alert_episodes
        firing = (
            sa.select(sa.func.count())
            .select_from(episodes)
            .where(episodes.c.incident_id == incident_id, episodes.c.resolved_at.is_(None))
        )

        def move(conn: Connection) -> Incident | None:
            self._lock(conn)
            incident = _read(conn, incident_id)
            if incident.state is not IncidentState.RESOLVED and conn.execute(firing).scalar_one():
                return None
            return _move(conn, incident, IncidentState.RESOLVED, at=at, by=by, data=extra)

        return await self._db.write(f"resolve incident {incident_id}", move)

    async def set_notes(self, incident_id: int, notes: str | None) -> Incident:
        """Replace the incident's notes (root cause, prevention); LookupError if unknown."""

        def write(conn: Connection) -> Incident:
            result = conn.execute(
                sa.update(incidents).where(incidents.c.id == incident_id).values(notes=notes)
            )
            if not result.rowcount:
                msg = f"no incident {incident_id}"
                raise LookupError(msg)
            return _read(conn, incident_id)

        return await self._db.write(f"write the notes of incident {incident_id}", write)
