"""Fixtures: every store test runs on SQLite (a temporary file) and on the real PostgreSQL.

PostgreSQL tests each get a fresh schema (dropped afterwards) through
``search_path``, so runs are isolated and repeatable. An unreachable server
fails the test: the PostgreSQL path must never go silently untested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from seawall.store import Store

#: the server CI and every developer machine run; override to use another
POSTGRES_URL = os.environ.get(
    "SEAWALL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

#: a fixed Unix time, so tests read as plain arithmetic
T0 = 1_700_000_000.0

OpenStore = Callable[..., Awaitable[Store]]


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({error}). Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' "
            "or point SEAWALL_TEST_POSTGRES_URL at a server; store tests do not skip.",
            pytrace=False,
        )


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A store URL whose tables live in a fresh schema of the test database."""
    schema = f"seawall_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with _admin() as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A store URL for a SQLite file in a directory that does not exist yet."""
    return f"sqlite:///{tmp_path}/state/seawall.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """The store URL of each backend in turn."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def open_store() -> AsyncIterator[OpenStore]:
    """Opens stores (``await open_store(url)``) and closes them all after the test."""
    opened: list[Store] = []

    async def open_(url: str, *, migrate: bool = True) -> Store:
        store = await Store.open(url, migrate=migrate)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


@pytest.fixture
async def store(url: str, open_store: OpenStore) -> Store:
    """An open, migrated store on each backend."""
    return await open_store(url)
