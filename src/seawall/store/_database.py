"""One database behind the store: URL handling, the engine, transactions, errors.

The engine is SQLAlchemy's *synchronous* one, and every unit of work runs in a
worker thread (:func:`asyncio.to_thread`). Alembic is synchronous anyway, the
sync drivers (the stdlib ``sqlite3``, psycopg 3) are the most used and best
understood paths through SQLAlchemy, and SQLite's transaction control is
explicit here (``BEGIN IMMEDIATE``), which aiosqlite's extra thread would only
hide. A store call is a few milliseconds of I/O; a thread hop costs far less.

SQLite runs in WAL mode with ``synchronous=FULL``: "In WAL mode when
synchronous is FULL [...] the WAL file is synchronized after each transaction
commit", which "guarantees that transactions are durable across a power loss"
-- ``NORMAL`` does not (https://www.sqlite.org/pragma.html#pragma_synchronous,
https://www.sqlite.org/wal.html). That is what lets the gateway answer 202
once :meth:`Outbox.enqueue` returns. ``busy_timeout`` makes a writer wait for
the lock instead of failing at once (https://www.sqlite.org/pragma.html#pragma_busy_timeout).

Every SQLAlchemy, driver and Alembic error is translated into
:class:`~seawall.StoreError` here, with the URL's password replaced by ``***``
and the statement's parameters (message bodies) never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, exc, pool
from sqlalchemy.engine import URL, Connection, Engine

from seawall._errors import StoreError
from seawall.store._schema import VERSION_TABLE

__all__ = ["Database", "redact_url"]

T = TypeVar("T")

#: The execution option that makes a SQLite transaction take the write lock at BEGIN.
_WRITE = "seawall_write"
#: Any constant: PostgreSQL advisory lock that serialises migrations across replicas.
_MIGRATION_LOCK = 0x5EA_3A11
_PASSWORD_IN_URL = re.compile(r"(://[^/:@\s]*:)[^@/\s]*@")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, even when it does not parse."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


class Database:
    """A SQLAlchemy engine, run from asyncio, with errors translated to StoreError."""

    def __init__(self, engine: Engine, *, shown_url: str, secret: str | None) -> None:
        self.engine = engine
        #: the URL as it may be shown: password replaced by ``***``
        self.shown_url = shown_url
        self.backend = engine.dialect.name
        self._secret = secret
        # An in-memory SQLite database lives in one connection (StaticPool),
        # which threads must then take turns on.
        memory = isinstance(engine.pool, pool.StaticPool)
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if memory else contextlib.nullcontext()
        )
        self._closed = False

    @classmethod
    def connect(cls, url: str, *, busy_timeout: float = 5.0) -> Database:
        """Build the engine for ``url``; no connection is made yet."""
        shown = redact_url(url)
        try:
            parsed = sa.make_url(url)
        except (exc.ArgumentError, ValueError):
            msg = (
                f"store URL {shown!r} does not parse; "
                "use sqlite:///path/to/state.db or postgresql://user@host/db"
            )
            raise StoreError(msg) from None
        shown = parsed.render_as_string(hide_password=True)
        secret = parsed.password if isinstance(parsed.password, str) else None
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            engine = _sqlite_engine(parsed, busy_timeout=busy_timeout, shown=shown)
        elif backend in ("postgresql", "postgres"):
            engine = _postgresql_engine(parsed)
        else:
            msg = (
                f"store URL {shown!r} names an unsupported database {backend!r}; "
                "use sqlite:///path/to/state.db or postgresql://user@host/db"
            )
            raise StoreError(msg)
        return cls(engine, shown_url=shown, secret=secret)

    async def read(self, action: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one read transaction, in a worker thread."""
        return await self._run(action, work, write=False)

    async def write(self, action: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction; it is committed when this returns."""
        return await self._run(action, work, write=True)

    async def _run(self, action: str, work: Callable[[Connection], T], *, write: bool) -> T:
        if self._closed:
            msg = f"store {self.shown_url} is closed; cannot {action}"
            raise StoreError(msg)
        return await asyncio.to_thread(self._run_sync, action, work, write)

    def _run_sync(self, action: str, work: Callable[[Connection], T], write: bool) -> T:
        with self.translate(action), self._lock, self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: write})
            with conn.begin():
                return work(conn)

    @contextlib.contextmanager
    def translate(self, action: str) -> Iterator[None]:
        """Turn SQLAlchemy, driver, Alembic and file errors into a StoreError."""
        try:
            yield
        except StoreError:
            raise
        except (exc.SQLAlchemyError, CommandError, OSError) as error:
            reason = _describe(error)
            if self._secret:
                reason = reason.replace(self._secret, "***")
            msg = f"store {self.shown_url}: could not {action}: {reason}"
            leaks = self._secret is not None and self._secret in _chain_text(error)
            raise StoreError(msg) from (None if leaks else error)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``)."""
        await self._run_alembic("migrate the schema", lambda cfg: command.upgrade(cfg, "head"))

    async def revision(self) -> str | None:
        """The schema revision the database is at; None before the first migration."""

        def current(conn: Connection) -> str | None:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

        return await self.read("read the schema revision", current)

    async def _run_alembic(self, action: str, step: Callable[[Config], None]) -> None:
        def run(conn: Connection) -> None:
            if self.backend == "postgresql":
                # Two replicas starting together would both create the tables;
                # the second now waits and then finds the schema at head.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            step(cfg)

        await self.write(action, run)

    async def close(self) -> None:
        """Close every pooled connection; later calls raise StoreError."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self.engine.dispose)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` built in code: the migrations ship inside the package.

    A developer writing a new revision can use it directly::

        command.revision(alembic_config("sqlite:///dev.db"), "add x", autogenerate=True)
    """
    cfg = Config()
    location = resources.files("seawall.store") / "migrations"
    cfg.set_main_option("script_location", str(location))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    """The newest revision that ships with this version of seawall."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_engine(url: URL, *, busy_timeout: float, shown: str) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if memory:
        # One connection for every thread, or each would see its own empty database.
        engine = sa.create_engine(
            url,
            poolclass=pool.StaticPool,
            connect_args={"check_same_thread": False},
            hide_parameters=True,
        )
    else:
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            msg = f"store {shown}: cannot create the directory for the database: {error}"
            raise StoreError(msg) from error
        engine = sa.create_engine(url, hide_parameters=True)

    timeout_ms = max(0, round(busy_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # The driver's own transaction handling would BEGIN lazily and DEFERRED;
        # take it over, as SQLAlchemy documents for pysqlite, and BEGIN below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            if not memory:
                _use_wal(cursor, busy_timeout)
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the lock at BEGIN, so a read-then-write transaction
        # never fails half-way with SQLITE_BUSY, and claims are serialised.
        write = bool(conn.get_execution_options().get(_WRITE))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _use_wal(cursor: sqlite3.Cursor, busy_timeout: float) -> None:
    """Switch the database file to WAL; it stays so, for every later connection.

    The switch needs an exclusive lock, and SQLite answers "database is locked"
    at once, without the busy handler, when another connection is switching
    it too (two replicas opening a new file together): so wait and retry.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
        else:
            return


def _postgresql_engine(url: URL) -> Engine:
    url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    return sa.create_engine(
        url,
        pool_pre_ping=True,  # a server restart leaves dead connections in the pool
        connect_args=connect_args,
        hide_parameters=True,
    )


def _describe(error: BaseException) -> str:
    """One line saying what went wrong, without SQL parameters or a traceback."""
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        text = str(error.orig)
    elif isinstance(error, exc.StatementError) and error.orig is not None:
        text = f"{type(error.orig).__name__}: {error.orig}"
    else:
        text = str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    if "database is locked" in first:
        first += " (another writer held the lock past busy_timeout)"
    elif "no such table" in first or ("relation" in first and "does not exist" in first):
        first += " (has the schema been migrated? Store.open migrates unless migrate=False)"
    return first[:500]


def _chain_text(error: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(repr(current))
        parts.append(str(current))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)
