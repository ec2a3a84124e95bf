"""Opening a store: URLs, SQLite's durability settings, redacted errors, a crash after enqueue."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seawall import StoreError
from seawall.store import OutboxState, Store, redact_url
from tests.store.conftest import T0, OpenStore

SECRET = "s3cr3t-pw"

#: enqueue one message, say so, then hang until killed
CRASH_AFTER_ENQUEUE = textwrap.dedent(
    """
    import asyncio, sys
    from seawall.store import Store

    async def main() -> None:
        store = await Store.open(sys.argv[1])
        message_id = await store.outbox.enqueue(
            "email", method="POST", target="/v3/mail/send", body=b"crash-test",
            order_key="ada", now=1700000000.0,
        )
        print("enqueued", message_id, flush=True)
        await asyncio.sleep(120)

    asyncio.run(main())
    """
)


async def test_sqlite_is_set_up_for_durable_commits(sqlite_url: str, open_store: OpenStore) -> None:
    """Every SQLite connection runs WAL with synchronous=FULL and waits on a busy lock."""
    store = await open_store(sqlite_url)
    engine = store._database.engine

    def pragmas() -> tuple[object, ...]:
        with engine.connect() as conn:
            return tuple(
                conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout")
            )

    assert await asyncio.to_thread(pragmas) == ("wal", 2, 5000)
    assert Path(sqlite_url.removeprefix("sqlite:///")).is_file()  # its directory was created
    assert store.backend == "sqlite"


async def test_in_memory_store_is_one_database_across_threads(open_store: OpenStore) -> None:
    """sqlite:///:memory: keeps one database however many calls run at once."""
    store = await open_store("sqlite:///:memory:")
    ids = await asyncio.gather(
        *(
            store.outbox.enqueue("email", method="POST", target="/", order_key=f"k{n}", now=T0)
            for n in range(20)
        )
    )
    assert await store.outbox.depth() == 20
    assert {message.id for message in await store.outbox.claim_due(T0, limit=50)} == set(ids)


async def test_postgresql_url_uses_psycopg(postgresql_url: str, open_store: OpenStore) -> None:
    """A plain postgresql:// URL is served by psycopg 3, and shown without its password."""
    with_password = postgresql_url.replace("postgres@", f"postgres:{SECRET}@", 1)
    assert SECRET in with_password  # the server trusts loopback, so any password will do
    store = await open_store(with_password)
    assert store.backend == "postgresql"
    assert store._database.engine.dialect.driver == "psycopg"
    assert store.url.startswith("postgresql://postgres:***@127.0.0.1")


async def test_an_unreachable_database_error_hides_the_password() -> None:
    """Failing to connect names the redacted URL and never the password, not even in the cause."""
    url = f"postgresql://seawall:{SECRET}@127.0.0.1:1/seawall"
    with pytest.raises(StoreError) as caught:
        await Store.open(url)
    error = caught.value
    assert "seawall:***@127.0.0.1:1" in str(error)
    assert "could not migrate the schema" in str(error)
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    assert all(SECRET not in f"{link!r} {link}" for link in chain)


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://root:{SECRET}@db.internal/seawall",
        f"postgresql://root:{SECRET}@db.internal:notaport/seawall",
        f"redis://:{SECRET}@cache.internal:6379/0",
    ],
)
async def test_a_bad_url_error_hides_the_password(url: str) -> None:
    """An unsupported or unparsable URL is refused with a hint, the password replaced by ***."""
    with pytest.raises(StoreError, match=r"sqlite:///path") as caught:
        await Store.open(url)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


def test_redact_url_replaces_only_the_password() -> None:
    """redact_url keeps user, host and database, and leaves URLs without a password alone."""
    assert redact_url(f"postgresql://u:{SECRET}@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact_url("sqlite:///state.db") == "sqlite:///state.db"


async def test_an_uncreatable_sqlite_directory_is_a_store_error(tmp_path: Path) -> None:
    """A database path under a file (not a directory) fails with a StoreError naming the path."""
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="directory"):
        await Store.open(f"sqlite:///{tmp_path}/file/state.db")


def test_an_enqueued_message_survives_kill_9(sqlite_url: str) -> None:
    """A process killed with SIGKILL right after enqueue returned has its message on disk."""
    with subprocess.Popen(
        [sys.executable, "-c", CRASH_AFTER_ENQUEUE, sqlite_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        line = child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        stderr = child.stderr.read()
    assert line.startswith("enqueued "), stderr
    assert child.returncode == -signal.SIGKILL
    message_id = line.split()[1]

    async def reopen() -> None:
        async with await Store.open(sqlite_url) as store:
            message = await store.outbox.get(message_id)
            assert message is not None
            assert (message.state, message.body) == (OutboxState.PENDING, b"crash-test")

    asyncio.run(reopen())
