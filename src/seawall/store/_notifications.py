"""The notification log: every message sent (or not) to a channel or contact.

:meth:`Notifications.record` writes the row and, in the same transaction,
its timeline event -- ``notification-sent`` when the status is ``sent``
(or ``delivered``), ``notification-failed`` otherwise -- with ``data``
holding ``target``, ``target_kind``, ``kind``, ``step``, ``status``,
``attempts``, ``error``, ``fingerprints``, ``group_key`` (and
``incident_id`` when given), so an incident's timeline shows who was told
what, and when, exactly as logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from seawall.store._database import Database
from seawall.store._schema import events, notifications

__all__ = ["NotificationRecord", "Notifications"]

#: statuses that mean the message went out; any other is a failure on the timeline
SENT = frozenset({"sent", "delivered"})


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRecord:
    """One logged notification."""

    id: int
    at: float
    group_key: str
    target: str
    target_kind: str
    kind: str
    step: int | None
    status: str
    attempts: int
    error: str | None
    fingerprints: tuple[str, ...]
    incident_id: int | None = None

    @property
    def sent(self) -> bool:
        """Whether the message went out."""
        return self.status in SENT


def _record(row: RowMapping) -> NotificationRecord:
    return NotificationRecord(
        id=int(row["id"]),
        at=float(row["at"]),
        group_key=row["group_key"],
        target=row["target"],
        target_kind=row["target_kind"],
        kind=row["kind"],
        step=None if row["step"] is None else int(row["step"]),
        status=row["status"],
        attempts=int(row["attempts"]),
        error=row["error"],
        fingerprints=tuple(str(f) for f in row["fingerprints"]),
        incident_id=None if row["incident_id"] is None else int(row["incident_id"]),
    )


class Notifications:
    """The notification log repository; get it as ``store.notifications``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(
        self,
        *,
        at: float,
        group_key: str,
        target: str,
        target_kind: str,
        kind: str,
        step: int | None,
        status: str,
        attempts: int,
        error: str | None,
        fingerprints: Iterable[str],
        incident_id: int | None = None,
    ) -> None:
        """Log one notification and its timeline event, in one transaction."""
        prints = [str(f) for f in fingerprints]
        row = {
            "at": at,
            "group_key": group_key,
            "target": target,
            "target_kind": target_kind,
            "kind": kind,
            "step": step,
            "status": status,
            "attempts": attempts,
            "error": error,
            "fingerprints": prints,
            "incident_id": incident_id,
        }
        data: dict[str, Any] = {
            "target": target,
            "target_kind": target_kind,
            "kind": kind,
            "step": step,
            "status": status,
            "attempts": attempts,
            "error": error,
            "fingerprints": prints,
            "group_key": group_key,
        }
        if incident_id is not None:
            data["incident_id"] = incident_id
        event = {
            "at": at,
            "kind": "notification-sent" if status in SENT else "notification-failed",
            "integration": None,
            "provider": None,
            "data": data,
        }

        def insert(conn: Connection) -> None:
            conn.execute(sa.insert(notifications).values(row))
            conn.execute(sa.insert(events).values(event))

        await self._db.write(f"log a notification to {target}", insert)

    async def query(
        self,
        since: float,
        until: float,
        group_key: str | None = None,
        *,
        incident_id: int | None = None,
        fingerprints: Iterable[str] | None = None,
    ) -> list[NotificationRecord]:
        """Notifications with ``since <= at < until``, oldest first.

        ``group_key`` and ``incident_id`` narrow to that group or incident;
        ``fingerprints`` to messages about any of those series.
        """
        table = notifications
        statement = (
            sa.select(table)
            .where(table.c.at >= since, table.c.at < until)
            .order_by(table.c.at, table.c.id)
        )
        if group_key is not None:
            statement = statement.where(table.c.group_key == group_key)
        if incident_id is not None:
            statement = statement.where(table.c.incident_id == incident_id)
        wanted = None if fingerprints is None else set(fingerprints)

        def fetch(conn: Connection) -> list[NotificationRecord]:
            found = [_record(row) for row in conn.execute(statement).mappings()]
            if wanted is None:
                return found
            return [r for r in found if wanted.intersection(r.fingerprints)]

        return await self._db.read("query notifications", fetch)
