"""The store: seawall's durable state in one SQL database.

SQLite (a file, the default) for one process; PostgreSQL when several gateway
replicas share state. ``await Store.open(url)`` connects and migrates; the
repositories hang off it (``store.outbox``, ``store.events``,
``store.rollups``, ``store.alerts``, ``store.silences``, ``store.incidents``,
``store.notifications``, ``store.settings``).
"""

from __future__ import annotations

from types import TracebackType

from seawall.store._alerts import AlertEpisodes
from seawall.store._database import Database, head_revision
from seawall.store._event_log import EventLog
from seawall.store._incidents import Incidents
from seawall.store._leader import Leadership
from seawall.store._notifications import Notifications
from seawall.store._outbox import Outbox
from seawall.store._rollups import Rollups
from seawall.store._settings import Settings
from seawall.store._silences import Silences

__all__ = ["Store"]


class Store:
    """An open store; build it with :meth:`Store.open` and ``await store.close()``.

    URLs: ``sqlite:///relative/state.db``, ``sqlite:////abs/state.db`` (its
    directory is created), ``sqlite:///:memory:`` (tests; gone on close),
    ``postgresql://user:password@host:5432/db`` (query parameters such as
    ``sslmode`` or ``options=-csearch_path%3Dseawall`` go to psycopg).
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._leads: list[Leadership] = []
        self.outbox = Outbox(database)
        self.events = EventLog(database)
        self.rollups = Rollups(database)
        self.alerts = AlertEpisodes(database)
        self.silences = Silences(database)
        self.incidents = Incidents(database)
        self.notifications = Notifications(database)
        self.settings = Settings(database)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, busy_timeout: float = 5.0) -> Store:
        """Connect to ``url`` and, unless ``migrate=False``, bring the schema to head.

        ``busy_timeout`` is how long a SQLite writer waits for another's lock.
        Raises :class:`~seawall.StoreError` (password redacted) if the database
        cannot be reached or migrated.
        """
        store = cls(Database.connect(url, busy_timeout=busy_timeout))
        if migrate:
            try:
                await store.migrate()
            except BaseException:
                await store.close()
                raise
        return store

    def leadership(self, name: str) -> Leadership:
        """The lead of job ``name`` among the processes sharing this store (given up on close)."""
        lead = Leadership(self._database, name)
        self._leads.append(lead)
        return lead

    @property
    def url(self) -> str:
        """The store's URL with the password replaced by ``***``."""
        return self._database.shown_url

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._database.backend

    async def migrate(self) -> None:
        """Run ``alembic upgrade head`` on this database; a no-op when it is current.

        Safe to run from several processes at once: SQLite serialises on its
        write lock, PostgreSQL on an advisory lock.
        """
        await self._database.migrate()

    async def revision(self) -> str | None:
        """The schema revision the database is at; None before any migration."""
        return await self._database.revision()

    @staticmethod
    def head() -> str | None:
        """The newest schema revision this version of seawall ships."""
        return head_revision()

    async def close(self) -> None:
        """Close every connection; later calls raise StoreError. Idempotent."""
        for lead in self._leads:
            await lead.release()
        await self._database.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
