"""The alert tables on SQLite and PostgreSQL: migrated as modelled, episodes and silences round-trip."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from seawall import StoreError
from seawall.alerts import Transition
from seawall.store import AlertEpisode, Store
from seawall.store._schema import VERSION_TABLE, metadata
from tests.store.conftest import T0, OpenStore

NEW_TABLES = {"alert_episodes", "silences", "incidents", "notifications", "settings"}
LABELS = {
    "alertname": "payments-error-rate",
    "severity": "critical",
    "integration": "payments",
    "provider": "stripe",
}


def firing(
    labels: dict[str, str] | None = None,
    *,
    at: float = T0,
    active_since: float | None = T0 - 120,
    value: float | None = 0.25,
) -> Transition:
    chosen = dict(LABELS if labels is None else labels)
    return Transition(
        rule=chosen["alertname"],
        labels=chosen,
        state="firing",
        previous="pending",
        at=at,
        value=value,
        threshold=0.05,
        summary="payments error rate 25% above 5%",
        severity=chosen["severity"],
        active_since=active_since,
        fired_at=at,
        baseline={"median": 0.01, "spread": 0.002, "samples": 12.0, "slot": "mon-10"},
    )


async def _kinds(store: Store) -> list[str]:
    return [e.kind for e in await store.events.query(since=0, until=T0 * 2)]


async def test_the_migrated_schema_is_the_model(url: str, open_store: OpenStore) -> None:
    """Migrating an empty database to head yields exactly _schema.py, the new tables included."""
    store = await open_store(url)

    def inspect() -> tuple[list[object], set[str]]:
        with store._database.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            return list(compare_metadata(context, metadata)), set(
                sa.inspect(conn).get_table_names()
            )

    differences, tables = await asyncio.to_thread(inspect)
    assert differences == []
    assert tables >= NEW_TABLES
    assert await store.revision() == Store.head() == "0003"


async def test_an_episode_round_trips(store: Store) -> None:
    """Every column of a firing transition comes back from the stored episode."""
    episode_id = await store.alerts.open(firing())
    episode = await store.alerts.get(episode_id)
    assert episode is not None
    assert episode.rule == "payments-error-rate"
    assert episode.fingerprint == firing().fingerprint
    assert len(episode.fingerprint) == 16
    assert episode.labels == LABELS
    assert (episode.integration, episode.provider) == ("payments", "stripe")
    assert (episode.severity, episode.summary) == ("critical", "payments error rate 25% above 5%")
    assert (episode.active_since, episode.fired_at, episode.resolved_at) == (T0 - 120, T0, None)
    assert (episode.value, episode.threshold) == (0.25, 0.05)
    assert episode.baseline == {"median": 0.01, "spread": 0.002, "samples": 12.0, "slot": "mon-10"}
    assert (episode.incident_id, episode.acked_at, episode.acked_by) == (None, None, None)
    assert episode.firing


async def test_opening_is_idempotent_per_series(store: Store) -> None:
    """A second firing of a series with an open episode returns the same id and writes nothing."""
    first = await store.alerts.open(firing())
    again = await store.alerts.open(firing(at=T0 + 30))
    assert again == first
    assert len(await store.alerts.open_episodes()) == 1
    assert await _kinds(store) == ["alert-firing"]


async def test_replicas_opening_one_series_at_once_make_one_episode(
    url: str, open_store: OpenStore
) -> None:
    """Two stores (replicas) recording the same firing concurrently share one episode."""
    one, two = await open_store(url), await open_store(url)
    ids = await asyncio.gather(*(s.alerts.open(firing()) for s in (one, two, one, two)))
    assert len(set(ids)) == 1
    assert await _kinds(one) == ["alert-firing"]


async def test_only_firing_transitions_open_episodes(store: Store) -> None:
    """Opening an episode on a pending transition is a programming error, said plainly."""
    pending = Transition(
        rule="r",
        labels={"alertname": "r", "severity": "warning"},
        state="pending",
        previous="inactive",
        at=T0,
        value=1.0,
        threshold=0.5,
        summary="",
        severity="warning",
    )
    with pytest.raises(ValueError, match="firing"):
        await store.alerts.open(pending)


async def test_a_transition_without_times_fires_at_its_own_time(store: Store) -> None:
    """Without fired_at and active_since, both are the transition's time; no value is kept as None."""
    bare = Transition(
        rule="no-data",
        labels={"alertname": "no-data", "severity": "warning"},
        state="firing",
        previous="pending",
        at=T0,
        value=None,
        threshold=None,
        summary="",
        severity="warning",
    )
    episode = await store.alerts.get(await store.alerts.open(bare))
    assert episode is not None
    assert (episode.active_since, episode.fired_at) == (T0, T0)
    assert (episode.value, episode.threshold, episode.baseline) == (None, None, None)
    assert episode.integration is None


async def test_resolving_closes_the_open_episode(store: Store) -> None:
    """resolve closes the series' open episode once; a later firing opens a new one."""
    t = firing()
    first = await store.alerts.open(t)
    assert await store.alerts.resolve(t.fingerprint, T0 + 600) == first
    assert await store.alerts.resolve(t.fingerprint, T0 + 700) is None
    assert await store.alerts.open_episodes() == []
    episode = await store.alerts.get(first)
    assert episode is not None
    assert episode.resolved_at == T0 + 600
    second = await store.alerts.open(firing(at=T0 + 900))
    assert second != first
    assert [e.id for e in await store.alerts.open_episodes()] == [second]
    assert await _kinds(store) == ["alert-firing", "alert-resolved", "alert-firing"]


async def test_acknowledging_by_fingerprint_or_id(store: Store) -> None:
    """ack finds the open episode by fingerprint or id; the first acknowledgement stands."""
    t = firing()
    episode_id = await store.alerts.open(t)
    assert await store.alerts.ack("0" * 16, at=T0, by="ada") is False
    assert await store.alerts.ack(t.fingerprint, at=T0 + 60, by="ada") is True
    assert await store.alerts.ack(episode_id, at=T0 + 90, by="grace") is False
    episode = await store.alerts.get(episode_id)
    assert episode is not None
    assert (episode.acked_at, episode.acked_by) == (T0 + 60, "ada")

    other = firing({**LABELS, "provider": "adyen"})
    other_id = await store.alerts.open(other)
    assert await store.alerts.ack(other_id, at=T0 + 120, by="grace") is True
    await store.alerts.resolve(other.fingerprint, T0 + 130)
    assert await store.alerts.ack(other_id, at=T0 + 140, by="ada") is False  # resolved
    events = await store.events.query(since=0, until=T0 * 2, kinds=["alert-acknowledged"])
    assert [(e.data["episode_id"], e.data["by"]) for e in events] == [
        (episode_id, "ada"),
        (other_id, "grace"),
    ]


async def test_alert_events_carry_the_series(store: Store) -> None:
    """The alert-firing event names the integration, provider, episode, rule and labels."""
    episode_id = await store.alerts.open(firing())
    (event,) = await store.events.query(since=0, until=T0 * 2)
    assert (event.kind, event.at, event.integration, event.provider) == (
        "alert-firing",
        T0,
        "payments",
        "stripe",
    )
    assert event.data["episode_id"] == episode_id
    assert event.data["fingerprint"] == firing().fingerprint
    assert event.data["labels"] == LABELS
    assert event.data["value"] == 0.25


async def test_query_returns_the_episodes_overlapping_a_range(store: Store) -> None:
    """query keeps episodes that fired before the end and were not resolved before the start."""
    early = firing({**LABELS, "alertname": "early"}, at=T0)
    late = firing({**LABELS, "alertname": "late"}, at=T0 + 1000)
    still = firing({**LABELS, "alertname": "still"}, at=T0 + 500)
    early_id = await store.alerts.open(early)
    late_id = await store.alerts.open(late)
    still_id = await store.alerts.open(still)
    await store.alerts.resolve(early.fingerprint, T0 + 100)
    await store.alerts.resolve(late.fingerprint, T0 + 1100)

    def ids(episodes: list[AlertEpisode]) -> list[int]:
        return [e.id for e in episodes]

    assert ids(await store.alerts.query(T0 + 200, T0 + 900)) == [still_id]
    assert ids(await store.alerts.query(T0 + 50, T0 + 2000)) == [early_id, still_id, late_id]
    assert ids(await store.alerts.query(T0 + 50, T0 + 2000, rule="late")) == [late_id]
    assert ids(await store.alerts.query(T0 + 101, T0 + 499)) == []


async def test_attach_links_episodes_to_an_incident(store: Store) -> None:
    """attach sets incident_id on the given episodes and counts only real changes."""
    a = await store.alerts.open(firing())
    b = await store.alerts.open(firing({**LABELS, "provider": "adyen"}))
    assert await store.alerts.attach([a, b, a], 7) == 2
    assert await store.alerts.attach([a], 7) == 0
    assert await store.alerts.attach([], 7) == 0
    assert [e.id for e in await store.alerts.of_incident(7)] == [a, b]
    assert [e.id for e in await store.alerts.query(0, T0 * 2, incident_id=7)] == [a, b]


@dataclass(frozen=True)
class NewSilence:
    """A record shaped as the notifier's silence, to check the protocol."""

    matchers: object
    starts_at: float = T0
    ends_at: float = T0 + 3600
    comment: str = "stripe maintenance"
    created_by: str = "ada"
    created_at: float = T0 - 10
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


async def test_silences_round_trip_and_expire(store: Store) -> None:
    """A silence comes back as added; expiring it hides it unless expired ones are asked for."""
    one = NewSilence(matchers={"integration": "payments", "severity": "critical"})
    two = NewSilence(
        matchers=({"name": "provider", "op": "=~", "value": "stripe|adyen"},), starts_at=T0 + 60
    )
    await store.silences.add(one)
    await store.silences.add(two)
    listed = await store.silences.list()
    assert [s.id for s in listed] == [one.id, two.id]
    first = listed[0]
    assert first.matchers == {"integration": "payments", "severity": "critical"}
    assert (first.starts_at, first.ends_at, first.created_at) == (T0, T0 + 3600, T0 - 10)
    assert (first.comment, first.created_by, first.expired_at) == (
        "stripe maintenance",
        "ada",
        None,
    )
    assert listed[1].matchers == [{"name": "provider", "op": "=~", "value": "stripe|adyen"}]

    assert await store.silences.expire(one.id, T0 + 120) is True
    assert await store.silences.expire(one.id, T0 + 130) is False
    assert await store.silences.expire("no-such-silence", T0) is False
    assert [s.id for s in await store.silences.list()] == [two.id]
    everything = await store.silences.list(include_expired=True)
    assert [(s.id, s.ends_at, s.expired_at) for s in everything] == [
        (one.id, T0 + 120, T0 + 120),
        (two.id, T0 + 3600, None),
    ]
    expired = await store.silences.get(one.id)
    assert expired is not None
    assert expired.active(T0 + 60)
    assert not expired.active(T0 + 120)
    assert await store.silences.get("nope") is None


@dataclass(frozen=True)
class ConfigShapedSilence:
    """A record without created_at (the notifier's own shape)."""

    id: str
    matchers: dict[str, str]
    starts_at: float
    ends_at: float
    comment: str = ""
    created_by: str = ""


async def test_a_silence_without_created_at_is_created_when_it_starts(store: Store) -> None:
    """created_at comes from the argument, else the record, else its start."""
    plain = ConfigShapedSilence(
        id="a", matchers={"integration": "email"}, starts_at=T0, ends_at=T0 + 60
    )
    await store.silences.add(plain)
    await store.silences.add(
        ConfigShapedSilence(id="b", matchers={"integration": "crm"}, starts_at=T0, ends_at=T0 + 60),
        created_at=T0 - 5,
    )
    assert [s.created_at for s in await store.silences.list()] == [T0, T0 - 5]


async def test_expiring_after_the_end_keeps_the_end(store: Store) -> None:
    """A silence expired after it ended keeps its end and is marked expired."""
    record = NewSilence(matchers={"integration": "payments"})
    await store.silences.add(record)
    assert await store.silences.expire(record.id, T0 + 7200) is True
    (kept,) = await store.silences.list(include_expired=True)
    assert (kept.ends_at, kept.expired_at) == (T0 + 3600, T0 + 7200)


async def test_a_duplicate_silence_id_is_a_store_error(store: Store) -> None:
    """Adding a silence whose id is taken fails with a StoreError naming the silence."""
    record = NewSilence(matchers={"integration": "payments"})
    await store.silences.add(record)
    with pytest.raises(StoreError, match=f"add silence {record.id}"):
        await store.silences.add(record)


async def test_the_new_repositories_need_a_migrated_store(url: str, open_store: OpenStore) -> None:
    """Before migration, each new repository fails with a StoreError asking about migration."""
    store = await open_store(url, migrate=False)
    calls: list[Callable[[], Awaitable[object]]] = [
        store.alerts.open_episodes,
        store.silences.list,
        store.incidents.list,
        lambda: store.notifications.query(0, 1),
        lambda: store.settings.get("k"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="migrated"):
            await call()
