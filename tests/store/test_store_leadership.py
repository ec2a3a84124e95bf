"""One process at a time leads a job: a PostgreSQL advisory lock held by a session."""

from __future__ import annotations

from tests.store.conftest import OpenStore


async def test_one_of_two_processes_leads_until_it_lets_go(
    postgresql_url: str, open_store: OpenStore
) -> None:
    first = (await open_store(postgresql_url)).leadership("alerts")
    second = (await open_store(postgresql_url)).leadership("alerts")
    assert await first.hold() is True
    assert await second.hold() is False
    assert await first.hold() is True, "holding again keeps the lead"
    assert await second.hold() is False
    await first.release()
    assert await second.hold() is True
    assert await first.hold() is False
    other_job = (await open_store(postgresql_url)).leadership("backups")
    assert await other_job.hold() is True, "each job has its own lead"
    await second.release()
    await other_job.release()


async def test_a_closed_store_gives_the_lead_away(
    postgresql_url: str, open_store: OpenStore
) -> None:
    leader_store = await open_store(postgresql_url)
    assert await leader_store.leadership("alerts").hold() is True
    follower = (await open_store(postgresql_url)).leadership("alerts")
    assert await follower.hold() is False
    await leader_store.close()  # the process ends: its session and lock go
    assert await follower.hold() is True
    await follower.release()


async def test_sqlite_always_leads(sqlite_url: str, open_store: OpenStore) -> None:
    store = await open_store(sqlite_url)
    assert await store.leadership("alerts").hold() is True
    assert await store.leadership("alerts").hold() is True
