"""Settings seawall keeps for itself: small values shared by every replica, kept across restarts.

The one that matters is a secret such as the key that signs acknowledge
links: :meth:`Settings.secret` creates it once, and every replica -- even
two starting together -- reads back the same bytes, because the value is
inserted only if the key is absent (``INSERT ... ON CONFLICT DO NOTHING``)
and then read in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from seawall._errors import StoreError
from seawall.store._database import Database
from seawall.store._schema import settings

__all__ = ["Settings"]


class Settings:
    """The settings repository; get it as ``store.settings``."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._insert = postgresql.insert if database.backend == "postgresql" else sqlite.insert

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""
        statement = sa.select(settings.c.value).where(settings.c.key == key)

        def fetch(conn: Connection) -> str | None:
            value = conn.execute(statement).scalar()
            return None if value is None else str(value)

        return await self._db.read(f"read setting {key}", fetch)

    async def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        insert = self._insert(settings).values(key=key, value=value)
        statement = insert.on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": insert.excluded.value}
        )

        def write(conn: Connection) -> None:
            conn.execute(statement)

        await self._db.write(f"write setting {key}", write)

    async def secret(self, key: str, nbytes: int = 32) -> bytes:
        """The random secret stored under ``key``, made (``nbytes`` long) the first time.

        Race-safe across replicas: whichever insert comes first wins and
        everyone reads that one. Stored as base64 text. Raises StoreError when
        the stored value is not base64 (someone wrote it with :meth:`set`).
        """
        if nbytes < 16:
            msg = f"a secret needs at least 16 random bytes, not {nbytes}"
            raise ValueError(msg)
        fresh = base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")
        insert = (
            self._insert(settings)
            .values(key=key, value=fresh)
            .on_conflict_do_nothing(index_elements=[settings.c.key])
        )
        read = sa.select(settings.c.value).where(settings.c.key == key)

        def create_then_read(conn: Connection) -> str:
            conn.execute(insert)
            return str(conn.execute(read).scalar_one())

        stored = await self._db.write(f"create secret {key}", create_then_read)
        try:
            return base64.b64decode(stored, validate=True)
        except (binascii.Error, ValueError):
            msg = (
                f"store {self._db.shown_url}: setting {key!r} is not a base64 secret; "
                "delete the row so that a new secret is made"
            )
            raise StoreError(msg) from None
