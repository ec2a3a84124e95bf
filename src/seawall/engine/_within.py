"""A per-attempt timer lighter than ``asyncio.timeout``.

``async with asyncio.timeout()`` builds a Timeout object and runs two extra
coroutines per use; around every attempt of every call that is a quarter of the
engine's own work. :func:`within` arms one timer of the loop's shared
:class:`~seawall._deadlines.Deadlines` (no loop timer of its own) and keeps
``asyncio.timeout``'s semantics: the awaited call is cancelled when the timer
fires, that cancellation surfaces as :class:`TimeoutError`, and a cancellation
from anyone else passes through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from seawall._deadlines import deadlines

__all__ = ["within"]

_T = TypeVar("_T")


class _Expiry:
    """The timer's callback: cancels the task once and remembers that it did."""

    __slots__ = ("fired", "task")

    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task = task
        self.fired = False

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel()


async def within(timeout: float, awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable``; raise :class:`TimeoutError` if it takes over ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    if task is None:  # pragma: no cover - the engine always runs in a task
        async with asyncio.timeout(timeout):
            return await awaitable
    cancelling = task.cancelling()
    expiry = _Expiry(task)
    slot = deadlines(loop).arm(loop.time() + timeout, expiry, expiry)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if expiry.fired and task.uncancel() <= cancelling:
            raise TimeoutError from None
        raise
    finally:
        slot.pop(expiry, None)
