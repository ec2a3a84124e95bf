"""The outbox on SQLite and PostgreSQL: durable enqueue, per-key order, leases, dead letters."""

from __future__ import annotations

import asyncio

import pytest

from seawall import StoreError
from seawall.store import OutboxMessage, OutboxState, Store
from tests.store.conftest import T0, OpenStore


async def _enqueue(
    store: Store,
    key: str | None = "ada@example.com",
    *,
    integration: str = "email",
    now: float = T0,
    idempotency_key: str | None = None,
    not_before: float | None = None,
) -> str:
    return await store.outbox.enqueue(
        integration,
        method="POST",
        target="/v3/mail/send",
        body=b'{"to": "ada"}',
        order_key=key,
        idempotency_key=idempotency_key,
        now=now,
        not_before=not_before,
    )


def _ids(messages: list[OutboxMessage]) -> list[str]:
    return [message.id for message in messages]


async def test_enqueued_message_survives_reopening(url: str, open_store: OpenStore) -> None:
    """A message is in the database, every field intact, once enqueue has returned."""
    first = await open_store(url)
    body = bytes(range(256))  # not UTF-8: bodies are stored as bytes
    message_id = await first.outbox.enqueue(
        "email",
        method="post",
        target="/v3/mail/send?x=1",
        headers=[("Content-Type", "application/json"), ("X-Tag", "a"), ("X-Tag", "b")],
        body=body,
        order_key="ada@example.com",
        idempotency_key="idem-1",
        now=T0,
    )
    await first.close()

    second = await open_store(url)
    message = await second.outbox.get(message_id)
    assert message is not None
    assert message.state is OutboxState.PENDING
    assert (message.integration, message.method, message.target) == (
        "email",
        "POST",
        "/v3/mail/send?x=1",
    )
    assert message.headers == (
        ("Content-Type", "application/json"),
        ("X-Tag", "a"),
        ("X-Tag", "b"),
    )
    assert message.header("content-type") == "application/json"
    assert message.body == body
    assert message.idempotency_key == "idem-1"
    assert message.order_key == "ada@example.com"
    assert (message.attempts, message.created_at, message.next_attempt_at) == (0, T0, T0)


async def test_message_id_is_the_default_idempotency_key(store: Store) -> None:
    """Without an idempotency key, the message id is one, so every resend carries the same key."""
    message_id = await _enqueue(store)
    message = await store.outbox.get(message_id)
    assert message is not None
    assert message.idempotency_key == message_id


async def test_only_the_head_of_a_key_is_claimable(store: Store) -> None:
    """Three messages for one key are claimed one at a time, in the order they were enqueued."""
    first, second, third = [await _enqueue(store) for _ in range(3)]

    claimed = await store.outbox.claim_due(T0, limit=10, lease=30)
    assert _ids(claimed) == [first]
    assert claimed[0].state is OutboxState.DELIVERING
    assert claimed[0].lease_until == T0 + 30
    assert await store.outbox.claim_due(T0 + 1, limit=10) == []

    assert await store.outbox.mark_delivered(first, provider="sendgrid", status=202, now=T0 + 2)
    assert _ids(await store.outbox.claim_due(T0 + 3, limit=10)) == [second]
    assert await store.outbox.mark_delivered(second, provider="sendgrid", status=202, now=T0 + 4)
    assert _ids(await store.outbox.claim_due(T0 + 5, limit=10)) == [third]

    delivered = await store.outbox.get(first)
    assert delivered is not None
    assert delivered.state is OutboxState.DELIVERED
    assert (delivered.provider, delivered.response_status, delivered.delivered_at) == (
        "sendgrid",
        202,
        T0 + 2,
    )


async def test_a_failed_head_blocks_its_key_until_delivered(store: Store) -> None:
    """A head being retried keeps later messages of its key waiting, even when they are due."""
    first, second = await _enqueue(store), await _enqueue(store)
    [claim] = await store.outbox.claim_due(T0, limit=10)
    assert await store.outbox.mark_failed(
        first,
        error="503 from sendgrid",
        next_attempt_at=T0 + 60,
        now=T0 + 1,
        lease_id=claim.lease_id,
    )

    assert await store.outbox.claim_due(T0 + 59, limit=10) == []
    [again] = await store.outbox.claim_due(T0 + 60, limit=10)
    assert again.id == first
    assert (again.attempts, again.last_error) == (1, "503 from sendgrid")

    await store.outbox.mark_delivered(first, provider="mailgun", status=200, now=T0 + 61)
    assert _ids(await store.outbox.claim_due(T0 + 61, limit=10)) == [second]


async def test_a_dead_head_unblocks_its_key(store: Store) -> None:
    """A head given up on keeps its reason and lets the next message of its key go."""
    first, second = await _enqueue(store), await _enqueue(store)
    await store.outbox.claim_due(T0, limit=10)
    assert await store.outbox.mark_dead(first, reason="older than max_age 24h", now=T0 + 1)

    assert _ids(await store.outbox.claim_due(T0 + 2, limit=10)) == [second]
    dead = await store.outbox.get(first)
    assert dead is not None
    assert (dead.state, dead.last_error) == (OutboxState.DEAD, "older than max_age 24h")
    assert _ids(await store.outbox.list(state=OutboxState.DEAD)) == [first]


async def test_different_keys_are_claimed_together(store: Store) -> None:
    """The heads of different keys are claimed in one call, oldest first, up to the limit."""
    heads = [await _enqueue(store, key=key) for key in ("ada", "bob", "cy")]
    for key in ("ada", "bob", "cy"):
        await _enqueue(store, key=key)

    assert _ids(await store.outbox.claim_due(T0, limit=2)) == heads[:2]
    assert _ids(await store.outbox.claim_due(T0, limit=10)) == heads[2:]


async def test_keys_are_scoped_to_their_integration(store: Store) -> None:
    """The same order key in two integrations does not make one wait for the other."""
    email = await _enqueue(store, key="ada", integration="email")
    crm = await _enqueue(store, key="ada", integration="crm")
    assert _ids(await store.outbox.claim_due(T0, limit=10)) == [email, crm]


async def test_messages_without_a_key_are_independent(store: Store) -> None:
    """A message enqueued without an order key waits for no other."""
    ids = [await _enqueue(store, key=None) for _ in range(3)]
    assert _ids(await store.outbox.claim_due(T0, limit=10)) == ids


async def test_a_message_is_not_claimed_before_it_is_due(store: Store) -> None:
    """``not_before`` delays the first attempt."""
    message_id = await _enqueue(store, not_before=T0 + 30)
    assert await store.outbox.claim_due(T0 + 29, limit=10) == []
    assert _ids(await store.outbox.claim_due(T0 + 30, limit=10)) == [message_id]


async def test_an_expired_lease_is_claimed_again_with_the_same_key(store: Store) -> None:
    """After a worker's crash its lease runs out; the resend keeps the idempotency key and the stale worker is fenced."""
    message_id = await _enqueue(store, idempotency_key="idem-42")
    [crashed] = await store.outbox.claim_due(T0, limit=10, lease=30)

    assert await store.outbox.claim_due(T0 + 29, limit=10) == []
    [resend] = await store.outbox.claim_due(T0 + 30, limit=10, lease=30)
    assert resend.id == message_id
    assert resend.idempotency_key == crashed.idempotency_key == "idem-42"
    assert resend.lease_id != crashed.lease_id
    assert resend.lease_until == T0 + 60

    stale = await store.outbox.mark_failed(
        message_id, error="timeout", next_attempt_at=T0 + 31, now=T0 + 31, lease_id=crashed.lease_id
    )
    assert not stale
    assert await store.outbox.mark_delivered(
        message_id, provider="sendgrid", status=202, now=T0 + 32, lease_id=resend.lease_id
    )


async def test_concurrent_claims_never_share_a_message(url: str, open_store: OpenStore) -> None:
    """Two stores claiming at once, as two replicas would, each get different messages."""
    one, two = await open_store(url), await open_store(url)
    enqueued = {await _enqueue(one, key=f"user-{n}") for n in range(40)}

    claimed: list[str] = []
    for _ in range(20):
        rounds = await asyncio.gather(
            *(store.outbox.claim_due(T0, limit=3, lease=60) for store in (one, two, one, two))
        )
        batch = [message.id for messages in rounds for message in messages]
        claimed.extend(batch)
        if not batch:
            break
    assert len(claimed) == len(set(claimed))
    assert set(claimed) == enqueued


async def test_concurrent_claims_keep_a_key_in_order(url: str, open_store: OpenStore) -> None:
    """Racing claims still hand out only the head of a key, and only once."""
    one, two = await open_store(url), await open_store(url)
    first = await _enqueue(one, key="ada")
    for _ in range(4):
        await _enqueue(one, key="ada")

    rounds = await asyncio.gather(
        *(store.outbox.claim_due(T0, limit=5) for store in (one, two, one, two, one, two))
    )
    assert [message.id for messages in rounds for message in messages] == [first]


async def test_dead_letters_can_be_retried_or_dropped(store: Store) -> None:
    """An operator sends a dead message back to the queue, or drops it for good."""
    retried, dropped = await _enqueue(store, key="a"), await _enqueue(store, key="b")
    for message_id in (retried, dropped):
        assert await store.outbox.mark_dead(message_id, reason="400 invalid recipient", now=T0)
    assert await store.outbox.claim_due(T0 + 1, limit=10) == []

    assert await store.outbox.retry(retried, now=T0 + 100)
    assert not await store.outbox.retry(retried, now=T0 + 100)  # no longer dead
    [claim] = await store.outbox.claim_due(T0 + 100, limit=10)
    assert claim.id == retried

    assert await store.outbox.drop(dropped)
    assert await store.outbox.get(dropped) is None
    assert not await store.outbox.drop(dropped)


async def test_depth_and_oldest_age_count_undelivered_messages(store: Store) -> None:
    """Depth and age cover pending and delivering messages only, per integration or in all."""
    assert await store.outbox.depth() == 0
    assert await store.outbox.oldest_age(T0) is None

    old = await _enqueue(store, key="a", now=T0)
    await _enqueue(store, key="b", now=T0 + 10)
    crm = await _enqueue(store, key="c", now=T0 + 20, integration="crm")
    dead = await _enqueue(store, key="d", now=T0 - 500)
    await store.outbox.mark_dead(dead, reason="too old", now=T0)
    await store.outbox.claim_due(T0 + 20, limit=1)  # `old` is delivering: still counted

    assert await store.outbox.depth() == 3
    assert await store.outbox.depth("email") == 2
    assert await store.outbox.depth("crm") == 1
    assert await store.outbox.oldest_age(T0 + 100) == 100
    assert await store.outbox.oldest_age(T0 + 100, "crm") == 80

    await store.outbox.mark_delivered(old, provider="sendgrid", status=202, now=T0 + 30)
    await store.outbox.drop(crm)
    assert await store.outbox.depth() == 1
    assert await store.outbox.oldest_age(T0 + 100) == 90
    assert await store.outbox.oldest_age(T0 + 100, "crm") is None


async def test_outcomes_apply_only_from_states_that_allow_them(store: Store) -> None:
    """A mark that does not fit the message's state (or an unknown id) changes nothing."""
    message_id = await _enqueue(store)
    assert not await store.outbox.mark_failed(
        message_id, error="x", next_attempt_at=T0, now=T0
    )  # pending, not delivering
    assert not await store.outbox.retry(message_id, now=T0)  # not dead
    assert await store.outbox.mark_delivered(message_id, provider="p", status=200, now=T0)
    assert not await store.outbox.mark_delivered(message_id, provider="p", status=200, now=T0)
    assert not await store.outbox.mark_dead(message_id, reason="late", now=T0)
    assert not await store.outbox.mark_failed("no-such-id", error="x", next_attempt_at=T0, now=T0)
    assert await store.outbox.get("no-such-id") is None


async def test_list_filters_by_state_and_integration(store: Store) -> None:
    """Listing is oldest first and narrows by state, integration and limit."""
    a = await _enqueue(store, key="a")
    b = await _enqueue(store, key="b", integration="crm")
    c = await _enqueue(store, key="c")
    await store.outbox.claim_due(T0, limit=1)

    assert _ids(await store.outbox.list()) == [a, b, c]
    assert _ids(await store.outbox.list(limit=2)) == [a, b]
    assert _ids(await store.outbox.list(integration="email")) == [a, c]
    assert _ids(await store.outbox.list(state=OutboxState.PENDING)) == [b, c]
    assert _ids(await store.outbox.list(state=OutboxState.DELIVERING, integration="crm")) == []


async def test_claim_rejects_a_nonsense_limit_or_lease(store: Store) -> None:
    """A limit below one or a lease that is not positive is a programming error."""
    with pytest.raises(ValueError, match="limit"):
        await store.outbox.claim_due(T0, limit=0)
    with pytest.raises(ValueError, match="lease"):
        await store.outbox.claim_due(T0, lease=0)


async def test_a_closed_store_refuses_work(url: str) -> None:
    """Calls after close raise StoreError instead of reopening connections."""
    store = await Store.open(url)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.outbox.depth()


async def test_event_log_queries_by_time_integration_and_kind(store: Store) -> None:
    """Events come back oldest first, within [since, until), narrowed by integration and kind."""
    first = await store.events.append(
        "breaker", at=T0, integration="email", provider="sendgrid", data={"to": "open"}
    )
    await store.events.append("failover", at=T0 + 1, integration="email", data={"to": "mailgun"})
    await store.events.append("breaker", at=T0 + 2, integration="crm")
    await store.events.append("breaker", at=T0 + 3, integration="email")

    window = await store.events.query(since=T0, until=T0 + 3)
    assert [(event.kind, event.at) for event in window] == [
        ("breaker", T0),
        ("failover", T0 + 1),
        ("breaker", T0 + 2),
    ]
    assert window[0].id == first
    assert (window[0].provider, window[0].data) == ("sendgrid", {"to": "open"})
    assert window[2].data == {}

    email = await store.events.query(
        since=T0, until=T0 + 10, integration="email", kinds=["breaker"]
    )
    assert [event.at for event in email] == [T0, T0 + 3]
    assert await store.events.query(since=T0, until=T0 + 10, kinds=[]) == []
    assert len(await store.events.query(since=T0, until=T0 + 10, limit=2)) == 2
