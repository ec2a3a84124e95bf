"""Leadership: one replica at a time does a job that must not run twice (paging).

On PostgreSQL it is a session-level advisory lock held on a connection of its
own: the replica that holds it leads until it closes (or dies, and the server
drops its session), and the others take over at their next try. On SQLite the
store belongs to one process, which always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seawall.store._database import Database

__all__ = ["Leadership"]


def _key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    digest = hashlib.blake2b(f"seawall:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership:
    """Who leads ``name``; get it as ``store.leadership("alerts")``.

    ``await lead.hold()`` says whether this process leads now (trying to take
    the lead when nobody holds it); ``await lead.release()`` gives it up.
    """

    def __init__(self, database: Database, name: str) -> None:
        self._db = database
        self._key = _key(name)
        self._name = name
        self._conn: Connection | None = None

    async def hold(self) -> bool:
        """True while this process leads; a lost connection means it must try again."""
        if self._db.backend != "postgresql":
            return True
        return await asyncio.to_thread(self._hold)

    def _hold(self) -> bool:
        with self._db.translate(f"hold the {self._name} leadership"):
            if self._conn is not None:
                try:
                    self._conn.execute(sa.select(sa.literal(1)))
                    return True
                except sa.exc.DBAPIError:
                    self._drop()  # the session ended: the lock went with it
            # autocommit: the session holds the lock, never an open transaction
            conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(self._key))).scalar()
            except BaseException:
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True

    def _drop(self) -> None:
        """Unlock and hand the connection back; a dead one is thrown away (its lock died)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(self._key)))
        except sa.exc.DBAPIError:
            conn.invalidate()
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.close()

    async def release(self) -> None:
        """Give the lead up (closing its connection ends the lock)."""
        if self._conn is not None:
            await asyncio.to_thread(self._drop)
