"""The notification log and settings on SQLite and PostgreSQL: logged with their event, secrets made once."""

from __future__ import annotations

import asyncio
import base64

import pytest

from seawall import StoreError
from seawall.store import Store
from tests.store.conftest import T0, OpenStore


async def _record(store: Store, **overrides: object) -> None:
    values: dict[str, object] = {
        "at": T0,
        "group_key": "critical-path:{integration=payments}",
        "target": "slack-ops",
        "target_kind": "channel",
        "kind": "firing",
        "step": 0,
        "status": "sent",
        "attempts": 1,
        "error": None,
        "fingerprints": ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"],
    }
    values.update(overrides)
    await store.notifications.record(**values)  # type: ignore[arg-type]


async def test_a_notification_is_logged_with_its_timeline_event(store: Store) -> None:
    """record writes the row and a notification-sent event holding what was sent to whom."""
    await _record(store, incident_id=7)
    (logged,) = await store.notifications.query(T0, T0 + 1)
    assert (logged.at, logged.group_key, logged.target, logged.target_kind) == (
        T0,
        "critical-path:{integration=payments}",
        "slack-ops",
        "channel",
    )
    assert (logged.kind, logged.step, logged.status, logged.attempts, logged.error) == (
        "firing",
        0,
        "sent",
        1,
        None,
    )
    assert logged.fingerprints == ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")
    assert logged.incident_id == 7
    assert logged.sent
    (event,) = await store.events.query(since=0, until=T0 * 2)
    assert (event.kind, event.at, event.integration) == ("notification-sent", T0, None)
    assert event.data == {
        "target": "slack-ops",
        "target_kind": "channel",
        "kind": "firing",
        "step": 0,
        "status": "sent",
        "attempts": 1,
        "error": None,
        "fingerprints": ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"],
        "group_key": "critical-path:{integration=payments}",
        "incident_id": 7,
    }


async def test_a_failed_notification_is_a_failed_event(store: Store) -> None:
    """A status other than sent logs a notification-failed event with the error."""
    await _record(
        store, status="failed", attempts=3, error="SMTP 550 mailbox unavailable", step=None
    )
    (event,) = await store.events.query(since=0, until=T0 * 2)
    assert event.kind == "notification-failed"
    assert (event.data["error"], event.data["step"], event.data["attempts"]) == (
        "SMTP 550 mailbox unavailable",
        None,
        3,
    )
    (logged,) = await store.notifications.query(0, T0 * 2)
    assert not logged.sent


async def test_notifications_query_by_range_group_incident_and_series(store: Store) -> None:
    """query narrows by time range, group key, incident and fingerprints, oldest first."""
    await _record(store, at=T0 + 20, group_key="g1", fingerprints=["f1"])
    await _record(store, at=T0, group_key="g2", fingerprints=["f2"], incident_id=3)
    await _record(store, at=T0 + 10, group_key="g1", fingerprints=["f1", "f3"])
    every = await store.notifications.query(T0, T0 + 21)
    assert [n.at for n in every] == [T0, T0 + 10, T0 + 20]
    assert [n.at for n in await store.notifications.query(T0 + 1, T0 + 20)] == [T0 + 10]
    assert [n.at for n in await store.notifications.query(T0, T0 + 21, "g1")] == [
        T0 + 10,
        T0 + 20,
    ]
    assert [n.at for n in await store.notifications.query(T0, T0 + 21, incident_id=3)] == [T0]
    found = await store.notifications.query(T0, T0 + 21, fingerprints={"f3", "f2"})
    assert [n.at for n in found] == [T0, T0 + 10]


async def test_settings_get_and_set(store: Store) -> None:
    """set stores and replaces a value; get reads it, None when absent."""
    assert await store.settings.get("theme") is None
    await store.settings.set("theme", "dark")
    await store.settings.set("theme", "light")
    assert await store.settings.get("theme") == "light"


async def test_a_secret_is_made_once_and_kept(url: str, open_store: OpenStore) -> None:
    """secret makes random bytes the first time and returns the same ones ever after."""
    store = await open_store(url)
    key = await store.settings.secret("ack-link-key")
    assert len(key) == 32
    assert await store.settings.secret("ack-link-key") == key
    assert await store.settings.secret("other", nbytes=48) != key
    assert len(await store.settings.secret("other")) == 48  # made once: nbytes does not remake it
    await store.close()
    reopened = await open_store(url)
    assert await reopened.settings.secret("ack-link-key") == key
    assert await reopened.settings.get("ack-link-key") == base64.b64encode(key).decode()


async def test_replicas_making_a_secret_at_once_agree(url: str, open_store: OpenStore) -> None:
    """Several stores asking for a new secret concurrently all get the same bytes."""
    stores = [await open_store(url) for _ in range(4)]
    keys = await asyncio.gather(*(s.settings.secret("ack-link-key") for s in stores * 2))
    assert len(set(keys)) == 1


async def test_a_secret_that_is_not_base64_is_a_store_error(store: Store) -> None:
    """A value that is not base64 under a secret's key is refused, with how to repair it."""
    await store.settings.set("ack-link-key", "not base64!")
    with pytest.raises(StoreError, match="not a base64 secret"):
        await store.settings.secret("ack-link-key")
    with pytest.raises(ValueError, match="16"):
        await store.settings.secret("short", nbytes=8)
