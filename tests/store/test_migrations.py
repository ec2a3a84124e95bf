"""Alembic migrations on SQLite and PostgreSQL: idempotent, concurrent-safe, true to the schema."""

from __future__ import annotations

import asyncio
from importlib import resources

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from seawall import StoreError
from seawall.store import Store
from seawall.store._database import alembic_config
from seawall.store._schema import VERSION_TABLE, metadata
from tests.store.conftest import T0, OpenStore

TABLES = {
    "outbox",
    "events",
    "rollups_minute",
    "rollups_hour",
    "maintenance_windows",
    "alert_episodes",
    "silences",
    "incidents",
    "notifications",
    "settings",
    VERSION_TABLE,
}


def _tables(store: Store) -> set[str]:
    return set(sa.inspect(store._database.engine).get_table_names())


async def test_migrations_ship_inside_the_package() -> None:
    """env.py, the revision template and the revisions are package files, found without alembic.ini."""
    migrations = resources.files("seawall.store") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    assert (migrations / "versions" / "v0001_outbox_and_events.py").is_file()
    assert (migrations / "versions" / "v0002_rollups.py").is_file()
    assert (migrations / "versions" / "v0003_alerts_and_incidents.py").is_file()
    assert Store.head() == "0003"


async def test_migrating_twice_changes_nothing(url: str, open_store: OpenStore) -> None:
    """A second migrate (and a reopen, which migrates) keeps the schema and the data."""
    store = await open_store(url)
    message_id = await store.outbox.enqueue("email", method="POST", target="/", now=T0)
    await store.migrate()
    await store.migrate()
    assert await store.revision() == Store.head()
    reopened = await open_store(url)
    assert await reopened.revision() == Store.head()
    assert await reopened.outbox.get(message_id) is not None


async def test_migrations_build_exactly_the_model(url: str, open_store: OpenStore) -> None:
    """Alembic finds no difference between the migrated database and _schema.metadata."""
    store = await open_store(url)

    def differences() -> list[object]:
        with store._database.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            return list(compare_metadata(context, metadata))

    assert await asyncio.to_thread(differences) == []
    assert await asyncio.to_thread(_tables, store) == TABLES


async def test_an_unmigrated_store_says_so(url: str, open_store: OpenStore) -> None:
    """migrate=False leaves the database empty, and using it asks whether it was migrated."""
    store = await open_store(url, migrate=False)
    assert await store.revision() is None
    assert await asyncio.to_thread(_tables, store) == set()
    with pytest.raises(StoreError, match="migrated"):
        await store.outbox.depth()

    await store.migrate()
    assert await store.revision() == Store.head()
    assert await store.outbox.depth() == 0


async def test_concurrent_migrations_do_not_collide(url: str, open_store: OpenStore) -> None:
    """Two replicas migrating the same empty database at once both succeed, once."""
    one = await open_store(url, migrate=False)
    two = await open_store(url, migrate=False)
    await asyncio.gather(one.migrate(), two.migrate())
    assert await one.revision() == await two.revision() == Store.head()


async def test_the_first_revision_downgrades_and_upgrades(url: str, open_store: OpenStore) -> None:
    """Alembic's own commands, from alembic_config(url), take the schema down to nothing and back."""
    store = await open_store(url)
    await store.close()
    driver_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    config = alembic_config(driver_url)

    await asyncio.to_thread(command.downgrade, config, "base")
    empty = await open_store(url, migrate=False)
    assert await asyncio.to_thread(_tables, empty) == {VERSION_TABLE}
    assert await empty.revision() is None

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await empty.revision() == Store.head()
    assert await asyncio.to_thread(_tables, empty) == TABLES
