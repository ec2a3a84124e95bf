"""The outbox: writes accepted now (202) and delivered later, none lost, none twice.

A message moves through :class:`OutboxState`:

=========================  ==================  ===================================
from                       to                  by
=========================  ==================  ===================================
(new)                      PENDING             ``enqueue``
PENDING                    DELIVERING          ``claim_due`` (when due and head of its key)
DELIVERING, lease expired  DELIVERING          ``claim_due`` again (a worker crashed)
DELIVERING                 DELIVERED           ``mark_delivered`` (final)
DELIVERING                 PENDING             ``mark_failed`` (attempts + 1, later)
PENDING, DELIVERING        DEAD                ``mark_dead`` (with a reason)
DEAD                       PENDING             ``retry`` (an operator)
any                        (gone)              ``drop``
=========================  ==================  ===================================

**Durable before 202.** :meth:`Outbox.enqueue` returns only after its
transaction has committed (SQLite: WAL with ``synchronous=FULL``; PostgreSQL:
``synchronous_commit`` on, its default), so the caller may be told
``202 Accepted``. A cancelled ``enqueue`` may still commit: the worker thread
is not interrupted, and the message is then delivered although the caller saw
an error -- the usual at-least-once ambiguity, which the idempotency key covers.

**In order per key.** Messages with the same ``(integration, order_key)`` --
the recipient, say -- are delivered strictly in ``seq`` order: only the oldest
message of a key that is still PENDING or DELIVERING (its *head*) can be
claimed. A later message never overtakes an earlier one that is being retried;
it waits until the head is DELIVERED or DEAD. Messages of different keys are
claimed side by side. Two messages enqueued concurrently (neither saw the
other's 202) have no defined order between them.

**At most one deliverer, at least once delivered.** :meth:`Outbox.claim_due`
marks the messages DELIVERING with a lease in one atomic transaction
(SQLite: ``BEGIN IMMEDIATE``, one writer at a time; PostgreSQL: ``SELECT ...
FOR UPDATE SKIP LOCKED``), so two workers, in one process or on two replicas,
never hold the same message. A worker that crashes mid-delivery leaves its
lease to expire; the message is then claimable again and is sent again with
the **same** ``idempotency_key``, so a vendor that honours keys (Stripe's
``Idempotency-Key``, for one) does the work only once. Each
claim carries a fresh ``lease_id``: passing it back to the ``mark_*`` methods
fences a worker whose lease ran out from overwriting the outcome of the
worker that claimed the message after it.
"""

from __future__ import annotations

import builtins
import enum
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from seawall.store._database import Database
from seawall.store._schema import outbox

__all__ = ["Outbox", "OutboxMessage", "OutboxState"]


class OutboxState(enum.Enum):
    """Where a message is in its delivery; the values are stored as they are."""

    #: Waiting to be claimed once ``next_attempt_at`` has come (and it heads its key).
    PENDING = "pending"
    #: Claimed by a worker until ``lease_until``; claimable again if the lease runs out.
    DELIVERING = "delivering"
    #: A provider accepted it; final.
    DELIVERED = "delivered"
    #: Given up (too old, too many attempts, refused for good); waits for an operator.
    DEAD = "dead"


_ACTIVE = (OutboxState.PENDING.value, OutboxState.DELIVERING.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One stored message, as the worker needs it to deliver and the admin API to show it."""

    id: str
    seq: int
    integration: str
    order_key: str
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    idempotency_key: str
    state: OutboxState
    attempts: int
    next_attempt_at: float
    lease_until: float | None
    lease_id: str | None
    created_at: float
    updated_at: float
    delivered_at: float | None
    last_error: str | None
    provider: str | None
    response_status: int | None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


class Outbox:
    """The outbox repository; get it as ``store.outbox``.

    ``now`` arguments are Unix seconds (``time.time()``), passed in so tests
    and simulations drive time. A ``mark_*`` method returns False when the
    message is no longer in a state it may change -- delivered or dropped
    meanwhile, or, with ``lease_id``, claimed by someone else since.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    async def enqueue(
        self,
        integration: str,
        *,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        order_key: str | None = None,
        idempotency_key: str | None = None,
        now: float,
        not_before: float | None = None,
    ) -> str:
        """Store a message and commit it durably; returns its id.

        Without ``order_key`` the message is ordered after no other. Without
        ``idempotency_key`` the message id serves as one, so every resend of
        the message carries the same key. ``not_before`` delays the first
        attempt (default: due at once).
        """
        message_id = _uuid7(now)
        values: dict[str, Any] = {
            "id": message_id,
            "integration": integration,
            "order_key": order_key if order_key is not None else message_id,
            "method": method.upper(),
            "target": target,
            "headers": [[str(name), str(value)] for name, value in headers],
            "body": bytes(body),
            "idempotency_key": idempotency_key or message_id,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now if not_before is None else not_before,
            "created_at": now,
            "updated_at": now,
        }

        def insert(conn: Connection) -> None:
            row = dict(values)
            if conn.dialect.name == "sqlite":
                # Safe: BEGIN IMMEDIATE holds the only write lock until commit.
                row["seq"] = sa.select(
                    sa.func.coalesce(sa.func.max(outbox.c.seq), 0) + 1
                ).scalar_subquery()
            conn.execute(sa.insert(outbox).values(row))

        await self._db.write(f"enqueue a message for {integration}", insert)
        return message_id

    async def claim_due(
        self, now: float, *, limit: int = 10, lease: float = 60.0
    ) -> builtins.list[OutboxMessage]:
        """Claim up to ``limit`` due messages, at most one per order key, oldest first.

        A message is due when it heads its key and is PENDING with
        ``next_attempt_at <= now``, or DELIVERING with an expired lease. Each
        returned message is DELIVERING until ``now + lease`` and carries a new
        ``lease_id``; deliver it and report with a ``mark_*`` method before then.
        """
        if limit < 1:
            msg = f"limit must be at least 1, not {limit}"
            raise ValueError(msg)
        if not lease > 0:
            msg = f"lease must be positive seconds, not {lease}"
            raise ValueError(msg)

        def claim(conn: Connection) -> builtins.list[OutboxMessage]:
            heads = (
                sa.select(sa.func.min(outbox.c.seq))
                .where(outbox.c.state.in_(_ACTIVE))
                .group_by(outbox.c.integration, outbox.c.order_key)
            )
            due = sa.or_(
                sa.and_(
                    outbox.c.state == OutboxState.PENDING.value,
                    outbox.c.next_attempt_at <= now,
                ),
                sa.and_(
                    outbox.c.state == OutboxState.DELIVERING.value,
                    outbox.c.lease_until <= now,
                ),
            )
            query = (
                sa.select(outbox)
                .where(outbox.c.seq.in_(heads), due)
                .order_by(outbox.c.seq)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                # A head another worker is claiming right now is skipped, not
                # waited for; under READ COMMITTED the state and lease
                # conditions are re-checked on the row version it committed.
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).mappings().all()
            claimed = []
            for row in rows:
                lease_id = uuid.uuid4().hex
                changes = {
                    "state": OutboxState.DELIVERING.value,
                    "lease_until": now + lease,
                    "lease_id": lease_id,
                    "updated_at": now,
                }
                conn.execute(sa.update(outbox).where(outbox.c.id == row["id"]).values(changes))
                claimed.append(_message({**row, **changes}))
            return claimed

        return await self._db.write("claim due outbox messages", claim)

    async def mark_delivered(
        self,
        message_id: str,
        *,
        provider: str,
        status: int,
        now: float,
        lease_id: str | None = None,
    ) -> bool:
        """Record that ``provider`` accepted the message with ``status``; final.

        Recorded from any state but DELIVERED: the delivery happened, whoever
        held the lease (a resend after it carries the same idempotency key).
        """
        return await self._change(
            f"mark outbox message {message_id} delivered",
            message_id,
            lease_id=lease_id,
            allowed=(OutboxState.PENDING, OutboxState.DELIVERING, OutboxState.DEAD),
            values={
                "state": OutboxState.DELIVERED.value,
                "delivered_at": now,
                "provider": provider,
                "response_status": status,
                "lease_until": None,
                "lease_id": None,
                "updated_at": now,
            },
        )

    async def mark_failed(
        self,
        message_id: str,
        *,
        error: str,
        next_attempt_at: float,
        now: float,
        lease_id: str | None = None,
    ) -> bool:
        """Put a DELIVERING message back to PENDING, attempts + 1, due at ``next_attempt_at``.

        It still heads its key, so later messages of the key keep waiting.
        """
        return await self._change(
            f"mark outbox message {message_id} failed",
            message_id,
            lease_id=lease_id,
            allowed=(OutboxState.DELIVERING,),
            values={
                "state": OutboxState.PENDING.value,
                "attempts": outbox.c.attempts + 1,
                "next_attempt_at": next_attempt_at,
                "last_error": error,
                "lease_until": None,
                "lease_id": None,
                "updated_at": now,
            },
        )

    async def mark_dead(
        self, message_id: str, *, reason: str, now: float, lease_id: str | None = None
    ) -> bool:
        """Give up on a PENDING or DELIVERING message, keeping ``reason``; unblocks its key."""
        return await self._change(
            f"mark outbox message {message_id} dead",
            message_id,
            lease_id=lease_id,
            allowed=(OutboxState.PENDING, OutboxState.DELIVERING),
            values={
                "state": OutboxState.DEAD.value,
                "last_error": reason,
                "lease_until": None,
                "lease_id": None,
                "updated_at": now,
            },
        )

    async def retry(self, message_id: str, *, now: float) -> bool:
        """Send a DEAD message back to PENDING, due at once (an operator's decision).

        It keeps its place (seq): if its key has pending messages, it heads
        them again; ones already delivered after it stay delivered.
        """
        return await self._change(
            f"retry outbox message {message_id}",
            message_id,
            lease_id=None,
            allowed=(OutboxState.DEAD,),
            values={
                "state": OutboxState.PENDING.value,
                "next_attempt_at": now,
                "updated_at": now,
            },
        )

    async def drop(self, message_id: str) -> bool:
        """Delete a message in any state; True if it existed."""

        def delete(conn: Connection) -> bool:
            result = conn.execute(sa.delete(outbox).where(outbox.c.id == message_id))
            return result.rowcount == 1

        return await self._db.write(f"drop outbox message {message_id}", delete)

    async def get(self, message_id: str) -> OutboxMessage | None:
        """The message with this id, or None."""

        def fetch(conn: Connection) -> OutboxMessage | None:
            row = conn.execute(sa.select(outbox).where(outbox.c.id == message_id)).mappings()
            found = row.one_or_none()
            return None if found is None else _message(found)

        return await self._db.read(f"read outbox message {message_id}", fetch)

    async def list(
        self,
        *,
        state: OutboxState | None = None,
        integration: str | None = None,
        limit: int = 100,
    ) -> builtins.list[OutboxMessage]:
        """Messages oldest first, optionally of one state and one integration."""
        query = sa.select(outbox).order_by(outbox.c.seq).limit(limit)
        if state is not None:
            query = query.where(outbox.c.state == state.value)
        if integration is not None:
            query = query.where(outbox.c.integration == integration)

        def fetch(conn: Connection) -> builtins.list[OutboxMessage]:
            return [_message(row) for row in conn.execute(query).mappings()]

        return await self._db.read("list outbox messages", fetch)

    async def depth(self, integration: str | None = None) -> int:
        """How many messages still wait for delivery (PENDING + DELIVERING)."""
        query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.state.in_(_ACTIVE))
        if integration is not None:
            query = query.where(outbox.c.integration == integration)

        def count(conn: Connection) -> int:
            return int(conn.execute(query).scalar_one())

        return await self._db.read("count outbox messages", count)

    async def oldest_age(self, now: float, integration: str | None = None) -> float | None:
        """Seconds since the oldest undelivered message was enqueued; None if none waits."""
        query = sa.select(sa.func.min(outbox.c.created_at)).where(outbox.c.state.in_(_ACTIVE))
        if integration is not None:
            query = query.where(outbox.c.integration == integration)

        def oldest(conn: Connection) -> float | None:
            created = conn.execute(query).scalar_one_or_none()
            return None if created is None else max(0.0, now - float(created))

        return await self._db.read("read the outbox's oldest message", oldest)

    async def _change(
        self,
        action: str,
        message_id: str,
        *,
        lease_id: str | None,
        allowed: tuple[OutboxState, ...],
        values: dict[str, Any],
    ) -> bool:
        statement = (
            sa.update(outbox)
            .where(outbox.c.id == message_id)
            .where(outbox.c.state.in_([state.value for state in allowed]))
            .values(values)
        )
        if lease_id is not None:
            statement = statement.where(outbox.c.lease_id == lease_id)

        def change(conn: Connection) -> bool:
            return conn.execute(statement).rowcount == 1

        return await self._db.write(action, change)


def _message(row: RowMapping | dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        seq=int(row["seq"]),
        integration=row["integration"],
        order_key=row["order_key"],
        method=row["method"],
        target=row["target"],
        headers=tuple((str(name), str(value)) for name, value in row["headers"]),
        body=bytes(row["body"]),
        idempotency_key=row["idempotency_key"],
        state=OutboxState(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        lease_until=_float_or_none(row["lease_until"]),
        lease_id=row["lease_id"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        delivered_at=_float_or_none(row["delivered_at"]),
        last_error=row["last_error"],
        provider=row["provider"],
        response_status=row["response_status"],
    )


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _uuid7(now: float) -> str:
    """A UUIDv7 (RFC 9562 section 5.7): 48-bit Unix milliseconds, then random bits."""
    millis = int(now * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))
