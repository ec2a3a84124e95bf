"""The waiting half of the bulkhead: pure admission from
:class:`~seawall.policies.BulkheadState`, FIFO hand-over with asyncio futures."""

from __future__ import annotations

import asyncio
from collections import deque

from seawall.policies import BulkheadSettings, BulkheadState

__all__ = ["AsyncBulkhead"]


class AsyncBulkhead(BulkheadState):
    """Caps concurrent calls; a bounded queue waits at most ``queue_timeout``.

    The counting is :class:`BulkheadState`'s own (``try_enter``, ``leave``), so
    a call that finds a free slot costs no coroutine and no extra call. When
    ``leave`` returns True the slot went to the oldest waiter: :meth:`wake` it.
    """

    __slots__ = ("_waiters",)

    def __init__(self, settings: BulkheadSettings) -> None:
        super().__init__(settings=settings)
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self, max_wait: float) -> bool:
        """Wait for the slot of a call ``try_enter`` queued; False when the wait ran out."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        wait = min(self.settings.queue_timeout, max(max_wait, 0.0))
        try:
            async with asyncio.timeout(wait):
                await waiter
        except (TimeoutError, asyncio.CancelledError):
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                self.abandon()
            else:
                # The slot was handed to us as we gave up: pass it on.
                self.release()
            if asyncio.current_task() is not None and _cancelling():
                raise
            return False
        return True

    def release(self) -> None:
        """Free a slot, handing it to the oldest waiter if there is one."""
        if self.leave():
            self.wake()

    def wake(self) -> None:
        """Give the slot ``leave`` just handed over to the oldest waiter."""
        waiter = self._waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
