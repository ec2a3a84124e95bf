"""The engine's :class:`~seawall.engine.Outbox` over the durable store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from seawall.engine import Request
from seawall.store import Outbox

__all__ = ["StoreOutbox"]


class StoreOutbox:
    """Commits a write to the store before the caller is told 202 Accepted."""

    def __init__(self, outbox: Outbox, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._outbox = outbox
        self._wall = wall_clock
        self.enqueued = asyncio.Event()

    async def enqueue(
        self,
        integration: str,
        request: Request,
        *,
        order_key: str,
        idempotency_key: str | None,
    ) -> str:
        message_id = await self._outbox.enqueue(
            integration,
            method=request.method,
            target=request.target,
            headers=[(k, v) for k, v in request.headers],
            body=request.body,
            order_key=order_key,
            idempotency_key=idempotency_key,
            now=self._wall(),
        )
        self.enqueued.set()  # wake the worker: a provider may already be back
        return message_id
