"""Alert episodes: each stretch of an alert series firing, kept for reports and incidents.

An episode opens when a series starts firing (:meth:`AlertEpisodes.open`) and
closes when it resolves (:meth:`AlertEpisodes.resolve`); a person may
acknowledge it in between. At most one episode of a series (its fingerprint)
is open at a time: opening is idempotent, so the evaluator and the incident
book may both record the same firing transition, and two replicas too.

Each change also appends its timeline event in the same transaction --
``alert-firing``, ``alert-resolved``, ``alert-acknowledged``, with the
episode's ``integration`` and ``provider`` labels on the row and
``data.episode_id``, ``rule``, ``fingerprint`` -- so an incident's timeline
sees exactly the episodes that were stored. Callers must not append these
kinds themselves.

The store sits below ``seawall.alerts``, so :meth:`AlertEpisodes.open` takes
anything shaped like its ``Transition`` (:class:`FiringTransition`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from seawall.store._database import Database
from seawall.store._schema import alert_episodes, events

__all__ = ["AlertEpisode", "AlertEpisodes", "FiringTransition"]

#: PostgreSQL advisory lock serialising open() across replicas (any constant)
_EPISODE_LOCK = 0x5EA_3A13


class FiringTransition(Protocol):
    """What :meth:`AlertEpisodes.open` reads: the fields of ``seawall.alerts.Transition``."""

    @property
    def rule(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def state(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def value(self) -> float | None: ...
    @property
    def threshold(self) -> float | None: ...
    @property
    def summary(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def active_since(self) -> float | None: ...
    @property
    def fired_at(self) -> float | None: ...
    @property
    def baseline(self) -> Mapping[str, float | str] | None: ...
    @property
    def fingerprint(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEpisode:
    """One stored episode; times are Unix seconds, ``resolved_at`` None while firing."""

    id: int
    rule: str
    fingerprint: str
    labels: dict[str, str] = field(default_factory=dict)
    severity: str
    summary: str
    active_since: float
    fired_at: float
    resolved_at: float | None = None
    value: float | None = None
    threshold: float | None = None
    baseline: dict[str, float | str] | None = None
    incident_id: int | None = None
    acked_at: float | None = None
    acked_by: str | None = None

    @property
    def integration(self) -> str | None:
        """The ``integration`` label, when the rule names one."""
        return self.labels.get("integration")

    @property
    def provider(self) -> str | None:
        """The ``provider`` label, when the rule names one."""
        return self.labels.get("provider")

    @property
    def firing(self) -> bool:
        return self.resolved_at is None


def _episode(row: RowMapping) -> AlertEpisode:
    def optional(name: str) -> float | None:
        value = row[name]
        return None if value is None else float(value)

    return AlertEpisode(
        id=int(row["id"]),
        rule=row["rule"],
        fingerprint=row["fingerprint"],
        labels={str(k): str(v) for k, v in dict(row["labels"]).items()},
        severity=row["severity"],
        summary=row["summary"],
        active_since=float(row["active_since"]),
        fired_at=float(row["fired_at"]),
        resolved_at=optional("resolved_at"),
        value=optional("value"),
        threshold=optional("threshold"),
        baseline=None if row["baseline"] is None else dict(row["baseline"]),
        incident_id=None if row["incident_id"] is None else int(row["incident_id"]),
        acked_at=optional("acked_at"),
        acked_by=row["acked_by"],
    )


def _event(conn: Connection, kind: str, at: float, episode: AlertEpisode, **extra: Any) -> None:
    """Append the timeline event of a change to ``episode``, in the caller's transaction."""
    data: dict[str, Any] = {
        "episode_id": episode.id,
        "rule": episode.rule,
        "fingerprint": episode.fingerprint,
        "severity": episode.severity,
        "summary": episode.summary,
        **extra,
    }
    if episode.incident_id is not None:
        data["incident_id"] = episode.incident_id
    conn.execute(
        sa.insert(events).values(
            at=at,
            kind=kind,
            integration=episode.integration,
            provider=episode.provider,
            data=data,
        )
    )


def _open_of(fingerprint: str) -> sa.Select[Any]:
    table = alert_episodes
    return (
        sa.select(table)
        .where(table.c.fingerprint == fingerprint, table.c.resolved_at.is_(None))
        .order_by(table.c.id)
    )


class AlertEpisodes:
    """The alert episodes repository; get it as ``store.alerts``. Times are Unix seconds."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def open(self, t: FiringTransition) -> int:
        """Record that ``t``'s series started firing; returns the episode's id.

        Idempotent: while the series has an open episode, its id is returned
        and nothing is written. ``fired_at`` is ``t.fired_at`` (else ``t.at``),
        ``active_since`` is ``t.active_since`` (else ``fired_at``). Raises
        ValueError for a transition that is not to ``firing``.
        """
        if t.state != "firing":
            msg = f"an alert episode opens on a transition to firing, not to {t.state!r}"
            raise ValueError(msg)
        fired_at = t.fired_at if t.fired_at is not None else t.at
        active_since = t.active_since if t.active_since is not None else fired_at
        values = {
            "rule": t.rule,
            "fingerprint": t.fingerprint,
            "labels": dict(t.labels),
            "severity": t.severity,
            "summary": t.summary,
            "active_since": min(active_since, fired_at),
            "fired_at": fired_at,
            "resolved_at": None,
            "value": t.value,
            "threshold": t.threshold,
            "baseline": None if t.baseline is None else dict(t.baseline),
        }
        postgres = self._db.backend == "postgresql"

        def open_(conn: Connection) -> int:
            if postgres:  # two replicas recording one firing must not open two episodes
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_EPISODE_LOCK)))
            existing = conn.execute(_open_of(t.fingerprint).limit(1)).mappings().first()
            if existing is not None:
                return int(existing["id"])
            table = alert_episodes
            inserted = conn.execute(sa.insert(table).values(values).returning(table.c.id))
            episode_id = int(inserted.scalar_one())
            episode = _episode(
                conn.execute(sa.select(table).where(table.c.id == episode_id)).mappings().one()
            )
            _event(
                conn,
                "alert-firing",
                fired_at,
                episode,
                labels=episode.labels,
                value=t.value,
                threshold=t.threshold,
                active_since=episode.active_since,
            )
            return episode_id

        return await self._db.write(f"open an episode of alert {t.rule}", open_)

    async def resolve(self, fingerprint: str, at: float) -> int | None:
        """Close the series' open episode at ``at``; returns its id, None if none was open."""
        table = alert_episodes

        def resolve_(conn: Connection) -> int | None:
            rows = [_episode(row) for row in conn.execute(_open_of(fingerprint)).mappings()]
            if not rows:
                return None
            ids = [episode.id for episode in rows]
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids))
                .values(resolved_at=sa.case((table.c.fired_at > at, table.c.fired_at), else_=at))
            )
            for episode in rows:
                _event(
                    conn,
                    "alert-resolved",
                    max(at, episode.fired_at),
                    episode,
                    fired_at=episode.fired_at,
                )
            return ids[0]

        return await self._db.write("resolve an alert episode", resolve_)

    async def ack(self, fingerprint_or_id: str | int, *, at: float, by: str) -> bool:
        """Acknowledge an open episode, by series fingerprint (str) or episode id (int).

        Returns True when an open, not yet acknowledged episode was
        acknowledged now; False when none matched (unknown, resolved, or
        acknowledged already: the first acknowledgement stands).
        """
        table = alert_episodes
        if isinstance(fingerprint_or_id, int):
            match = sa.select(table).where(
                table.c.id == fingerprint_or_id, table.c.resolved_at.is_(None)
            )
        else:
            match = _open_of(fingerprint_or_id)
        match = match.where(table.c.acked_at.is_(None))

        def ack_(conn: Connection) -> bool:
            rows = [_episode(row) for row in conn.execute(match).mappings()]
            if not rows:
                return False
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_([e.id for e in rows]), table.c.acked_at.is_(None))
                .values(acked_at=at, acked_by=by)
            )
            for episode in rows:
                _event(conn, "alert-acknowledged", at, episode, by=by)
            return True

        return await self._db.write("acknowledge an alert episode", ack_)

    async def get(self, episode_id: int) -> AlertEpisode | None:
        """The episode with this id, or None."""
        statement = sa.select(alert_episodes).where(alert_episodes.c.id == episode_id)

        def fetch(conn: Connection) -> AlertEpisode | None:
            row = conn.execute(statement).mappings().first()
            return None if row is None else _episode(row)

        return await self._db.read("read an alert episode", fetch)

    async def open_episodes(self) -> builtins.list[AlertEpisode]:
        """Every episode still firing, oldest first."""
        table = alert_episodes
        statement = (
            sa.select(table)
            .where(table.c.resolved_at.is_(None))
            .order_by(table.c.fired_at, table.c.id)
        )
        return await self._fetch("read the firing alert episodes", statement)

    async def query(
        self,
        since: float,
        until: float,
        rule: str | None = None,
        *,
        incident_id: int | None = None,
    ) -> builtins.list[AlertEpisode]:
        """Episodes that overlap ``[since, until)``: fired before ``until`` and not
        resolved before ``since`` (open ones included); oldest first."""
        table = alert_episodes
        statement = (
            sa.select(table)
            .where(
                table.c.fired_at < until,
                sa.or_(table.c.resolved_at.is_(None), table.c.resolved_at >= since),
            )
            .order_by(table.c.fired_at, table.c.id)
        )
        if rule is not None:
            statement = statement.where(table.c.rule == rule)
        if incident_id is not None:
            statement = statement.where(table.c.incident_id == incident_id)
        return await self._fetch("query alert episodes", statement)

    async def of_incident(self, incident_id: int) -> builtins.list[AlertEpisode]:
        """The episodes linked to an incident, oldest first."""
        table = alert_episodes
        statement = (
            sa.select(table)
            .where(table.c.incident_id == incident_id)
            .order_by(table.c.fired_at, table.c.id)
        )
        return await self._fetch("read an incident's alert episodes", statement)

    async def attach(self, ids: Iterable[int], incident_id: int) -> int:
        """Link episodes to an incident; returns how many rows changed."""
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        table = alert_episodes
        statement = (
            sa.update(table)
            .where(table.c.id.in_(wanted))
            .where(sa.or_(table.c.incident_id.is_(None), table.c.incident_id != incident_id))
            .values(incident_id=incident_id)
        )

        def attach_(conn: Connection) -> int:
            return int(conn.execute(statement).rowcount)

        return await self._db.write("link alert episodes to an incident", attach_)

    async def _fetch(self, action: str, statement: sa.Select[Any]) -> builtins.list[AlertEpisode]:
        def fetch(conn: Connection) -> builtins.list[AlertEpisode]:
            return [_episode(row) for row in conn.execute(statement).mappings()]

        return await self._db.read(action, fetch)
