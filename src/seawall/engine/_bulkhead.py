"""The waiting half of the bulkhead: pure admission from
:class:`~seawall.policies.BulkheadState`, FIFO hand-over with asyncio futures."""

from __future__ import annotations

import asyncio
from collections import deque

from seawall.policies import BulkheadSettings, BulkheadState

__all__ = ["AsyncBulkhead"]


class AsyncBulkhead:
    """Caps concurrent calls; a bounded queue waits at most ``queue_timeout``."""

    __slots__ = ("_state", "_waiters")

    def __init__(self, settings: BulkheadSettings) -> None:
        self._state = BulkheadState(settings=settings)
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def active(self) -> int:
        return self._state.active

    @property
    def queued(self) -> int:
        return self._state.queued

    def try_enter(self) -> bool | None:
        """Take a slot now (True), refuse (False), or None: the call is queued and
        must ``wait`` for its turn. No coroutine for the common case of a free slot."""
        decision = self._state.try_enter()
        if decision == "enter":
            return True
        if decision == "reject":
            return False
        return None

    async def enter(self, max_wait: float) -> bool:
        """Take a slot; False when the queue is full or the wait ran out."""
        entered = self.try_enter()
        if entered is None:
            return await self.wait(max_wait)
        return entered

    async def wait(self, max_wait: float) -> bool:
        """Wait for the slot of a call ``try_enter`` queued; False when the wait ran out."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        wait = min(self._state.settings.queue_timeout, max(max_wait, 0.0))
        try:
            async with asyncio.timeout(wait):
                await waiter
        except (TimeoutError, asyncio.CancelledError):
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                self._state.abandon()
            else:
                # The slot was handed to us as we gave up: pass it on.
                self.leave()
            if asyncio.current_task() is not None and _cancelling():
                raise
            return False
        return True

    def leave(self) -> None:
        """Free a slot, handing it to the oldest waiter if there is one."""
        if self._state.leave():
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
