"""Silences made live (admin API, CLI): kept so every replica, and a restart, honours them.

A silence holds back notifications whose labels match its ``matchers``
between ``starts_at`` and ``ends_at``. Someone may end it early
(:meth:`Silences.expire`): ``ends_at`` then becomes that time (if it was
later) and ``expired_at`` records it; the row stays, as a record of who
silenced what. Matching and time checks are the notifier's:
the store keeps the rows. ``matchers`` is stored as the JSON it is given (a
mapping of label to value, or a list of matcher objects) and read back so.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from seawall.store._database import Database
from seawall.store._schema import silences

__all__ = ["SilenceRecord", "Silences", "StoredSilence"]


class SilenceRecord(Protocol):
    """What :meth:`Silences.add` reads; times are Unix seconds.

    A ``created_at`` attribute is read too when the record has one.
    """

    @property
    def id(self) -> str: ...
    @property
    def matchers(self) -> object: ...
    @property
    def starts_at(self) -> float: ...
    @property
    def ends_at(self) -> float: ...
    @property
    def comment(self) -> str: ...
    @property
    def created_by(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSilence:
    """One stored silence; ``expired_at`` is set when it was ended early."""

    id: str
    matchers: Any  #: the JSON given to :meth:`Silences.add`, tuples read back as lists
    starts_at: float
    ends_at: float
    comment: str
    created_by: str
    created_at: float
    expired_at: float | None = None  #: when it was ended early (``ends_at`` is then that time)

    def active(self, at: float) -> bool:
        """Whether the silence holds at ``at``: started and not ended."""
        return self.starts_at <= at < self.ends_at


def _json(value: object) -> Any:
    """``value`` as plain JSON: mappings to dicts, tuples and lists to lists."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    msg = f"silence matchers must be JSON (mappings, lists, text, numbers), not {type(value)}"
    raise TypeError(msg)


def _silence(row: RowMapping) -> StoredSilence:
    return StoredSilence(
        id=row["id"],
        matchers=row["matchers"],
        starts_at=float(row["starts_at"]),
        ends_at=float(row["ends_at"]),
        comment=row["comment"],
        created_by=row["created_by"],
        created_at=float(row["created_at"]),
        expired_at=None if row["expired_at"] is None else float(row["expired_at"]),
    )


class Silences:
    """The silences repository; get it as ``store.silences``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, record: SilenceRecord, *, created_at: float | None = None) -> None:
        """Store a new silence. Raises StoreError if its id is taken.

        ``created_at`` defaults to the record's own ``created_at`` attribute,
        else its ``starts_at``.
        """
        if created_at is None:
            own = getattr(record, "created_at", None)
            created_at = float(own) if isinstance(own, int | float) else float(record.starts_at)
        values = {
            "id": str(record.id),
            "matchers": _json(record.matchers),
            "starts_at": float(record.starts_at),
            "ends_at": float(record.ends_at),
            "comment": record.comment,
            "created_by": record.created_by,
            "created_at": created_at,
            "expired_at": None,
        }

        def insert(conn: Connection) -> None:
            conn.execute(sa.insert(silences).values(values))

        await self._db.write(f"add silence {record.id}", insert)

    async def expire(self, id: str, at: float) -> bool:
        """End a silence at ``at``: ``ends_at`` becomes ``at`` if later, ``expired_at`` is set.

        False when the silence is unknown or was expired already.
        """
        table = silences
        statement = (
            sa.update(table)
            .where(table.c.id == id, table.c.expired_at.is_(None))
            .values(
                expired_at=at,
                ends_at=sa.case((table.c.ends_at > at, at), else_=table.c.ends_at),
            )
        )

        def update(conn: Connection) -> bool:
            return bool(conn.execute(statement).rowcount)

        return await self._db.write(f"expire silence {id}", update)

    async def get(self, id: str) -> StoredSilence | None:
        """The silence with this id, expired or not, or None."""
        statement = sa.select(silences).where(silences.c.id == id)

        def fetch(conn: Connection) -> StoredSilence | None:
            row = conn.execute(statement).mappings().first()
            return None if row is None else _silence(row)

        return await self._db.read("read a silence", fetch)

    async def list(
        self, *, include_expired: bool = False, ending_after: float | None = None
    ) -> builtins.list[StoredSilence]:
        """Stored silences by start time; without ``include_expired``, those not ended early.

        Silences whose ``ends_at`` has passed are listed too (whether one holds
        is a question of time, :meth:`StoredSilence.active`), unless
        ``ending_after`` leaves out those that ended by then.
        """
        statement = sa.select(silences).order_by(silences.c.starts_at, silences.c.id)
        if not include_expired:
            statement = statement.where(silences.c.expired_at.is_(None))
        if ending_after is not None:
            statement = statement.where(silences.c.ends_at > ending_after)

        def fetch(conn: Connection) -> builtins.list[StoredSilence]:
            return [_silence(row) for row in conn.execute(statement).mappings()]

        return await self._db.read("list silences", fetch)
