"""The outbox worker: delivers queued writes once a provider can take them.

Each claim returns at most the oldest undelivered message per order key, so a
later message for a recipient never overtakes an earlier one. Every resend
carries the message's idempotency key: a crash mid-delivery (the lease
expires, another worker or the restarted process claims it again) makes a
vendor that honours keys see the same key twice and act once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from seawall._errors import SeawallError
from seawall.config import FallbackQueue
from seawall.delivery._outbox import StoreOutbox
from seawall.engine import Engine, Request
from seawall.store import Outbox, OutboxMessage

__all__ = ["OutboxWorker"]

log = logging.getLogger("seawall.outbox")

#: statuses after which trying again cannot help: the vendor refused the message itself
_REFUSED = range(400, 500)


class OutboxWorker:
    """Claims due messages and sends them through the engine, without fallbacks."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        outbox: Outbox,
        signal: StoreOutbox | None = None,
        *,
        poll: float = 0.5,
        batch: int = 32,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._signal = signal
        self._poll = poll
        self._batch = batch
        self._wall = wall_clock
        self._rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None
        self.depth: dict[str, int] = {}
        self.oldest: dict[str, float] = {}

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="seawall-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.tick()
            except SeawallError as exc:  # the store is down: keep the worker alive, say so
                log.warning("outbox worker: %s", exc)
                delivered = 0
            if delivered:
                continue
            if self._signal is not None:
                self._signal.enqueued.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._signal.enqueued.wait(), self._poll)
            else:
                await asyncio.sleep(self._poll)

    async def tick(self) -> int:
        """Deliver what is due now; the number of messages that were tried."""
        engine = self._engine()
        now = self._wall()
        lease = max((s.lease for s in _queue_settings(engine).values()), default=30.0)
        messages = await self._outbox.claim_due(now, limit=self._batch, lease=lease)
        if messages:
            await asyncio.gather(*(self._deliver(engine, m, lease) for m in messages))
        await self._refresh_gauges(engine)
        return len(messages)

    async def _refresh_gauges(self, engine: Engine) -> None:
        now = self._wall()
        for name in _queue_settings(engine):
            self.depth[name] = await self._outbox.depth(name)
            self.oldest[name] = await self._outbox.oldest_age(now, name) or 0.0

    async def _deliver(self, engine: Engine, message: OutboxMessage, lease: float) -> None:
        now = self._wall()
        settings = _queue_settings(engine).get(message.integration)
        if settings is None:
            await self._outbox.mark_dead(
                message.id,
                reason="the integration no longer queues writes",
                now=now,
                lease_id=message.lease_id,
            )
            return
        if now - message.created_at > settings.max_age:
            await self._outbox.mark_dead(
                message.id,
                reason=f"not delivered within max_age ({settings.max_age:g}s)",
                now=now,
                lease_id=message.lease_id,
            )
            return
        headers = list(message.headers)
        header = _idempotency_header(engine, message.integration)
        if message.idempotency_key and message.header(header) is None:
            headers.append((header, message.idempotency_key))
        request = Request(message.method, message.target, headers, message.body)
        try:
            response = await engine.call(message.integration, request, fallback=False)
        except SeawallError as exc:
            await self._failed(message, f"{exc.reason}: {exc.message}")
            return
        if response.status < 300:
            await self._outbox.mark_delivered(
                message.id,
                provider=response.provider,
                status=response.status,
                now=self._wall(),
                lease_id=message.lease_id,
            )
        elif response.status in _REFUSED and response.status not in (408, 409, 425, 429):
            await self._outbox.mark_dead(
                message.id,
                reason=f"{response.provider} refused it with {response.status}",
                now=self._wall(),
                lease_id=message.lease_id,
            )
        else:
            await self._failed(message, f"{response.provider} answered {response.status}")

    async def _failed(self, message: OutboxMessage, error: str) -> None:
        # Exponential backoff with full jitter, capped at five minutes.
        delay = self._rng.uniform(0, min(300.0, 0.5 * 2 ** min(message.attempts, 10)))
        now = self._wall()
        await self._outbox.mark_failed(
            message.id, error=error, next_attempt_at=now + delay, now=now, lease_id=message.lease_id
        )


def _queue_settings(engine: Engine) -> dict[str, FallbackQueue]:
    return {
        name: rt.spec.fallback
        for name, rt in engine.integrations.items()
        if isinstance(rt.spec.fallback, FallbackQueue)
    }


def _idempotency_header(engine: Engine, integration: str) -> str:
    runtime = engine.integrations.get(integration)
    if runtime is not None and runtime.idempotency_header:
        return runtime.idempotency_header
    return "Idempotency-Key"
