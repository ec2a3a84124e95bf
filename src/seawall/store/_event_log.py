"""The event log: what happened, when, to which integration -- for timelines.

Incidents, SLA reports and the dashboard read it back by time range. Writes go
one row per call for now; a batching writer can sit in front later without
changing the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seawall.store._database import Database
from seawall.store._schema import events

__all__ = ["EventLog", "EventRecord"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One stored event; ``data`` is a JSON object."""

    id: int
    at: float
    kind: str
    integration: str | None = None
    provider: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """The event log repository; get it as ``store.events``. Times are Unix seconds."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def append(
        self,
        kind: str,
        *,
        at: float,
        integration: str | None = None,
        provider: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Store one event, committed when this returns; returns its id."""
        values = {
            "at": at,
            "kind": kind,
            "integration": integration,
            "provider": provider,
            "data": dict(data or {}),
        }

        def insert(conn: Connection) -> int:
            result = conn.execute(sa.insert(events).values(values).returning(events.c.id))
            return int(result.scalar_one())

        return await self._db.write(f"append a {kind} event", insert)

    async def query(
        self,
        *,
        since: float,
        until: float,
        integration: str | None = None,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[EventRecord]:
        """Events with ``since <= at < until``, oldest first (ties in append order)."""
        query = (
            sa.select(events)
            .where(events.c.at >= since, events.c.at < until)
            .order_by(events.c.at, events.c.id)
        )
        if integration is not None:
            query = query.where(events.c.integration == integration)
        if kinds is not None:
            query = query.where(events.c.kind.in_(list(kinds)))
        if limit is not None:
            query = query.limit(limit)

        def fetch(conn: Connection) -> list[EventRecord]:
            return [
                EventRecord(
                    id=int(row["id"]),
                    at=float(row["at"]),
                    kind=row["kind"],
                    integration=row["integration"],
                    provider=row["provider"],
                    data=dict(row["data"]),
                )
                for row in conn.execute(query).mappings()
            ]

        return await self._db.read("query events", fetch)
