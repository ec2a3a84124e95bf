"""A per-attempt timer lighter than ``asyncio.timeout``, armed only once the attempt waits.

``async with asyncio.timeout()`` builds a Timeout object and runs two extra
coroutines per use; around every attempt of every call that is a quarter of the
engine's own work. :func:`within` keeps ``asyncio.timeout``'s semantics -- the
awaited coroutine is cancelled when the timer fires, that cancellation surfaces
as :class:`TimeoutError`, and a cancellation from anyone else passes through
untouched -- for less:

- It first runs the coroutine up to its first wait. An answer that needs none
  (from memory: ``httpx.MockTransport``, a cache) arms no timer at all; and
  until a coroutine waits, nothing could interrupt it anyway.
- Once it waits, one timer of the loop's shared
  :class:`~seawall._deadlines.Deadlines` bounds it (no loop timer of its own),
  ``timeout`` seconds from that first wait.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, TypeVar

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


@types.coroutine
def within(timeout: float, work: Awaitable[_T]) -> Generator[Any, Any, _T]:
    """Await ``work``; raise :class:`TimeoutError` if it waits over ``timeout`` seconds."""
    # an ``async def`` coroutine is driven as it is; any other awaitable through one
    coro: Coroutine[Any, Any, _T] = work if type(work) is types.CoroutineType else _awaiting(work)
    try:
        waiting = coro.send(None)
    except StopIteration as done:  # answered without waiting: no timer needed
        value: _T = done.value  # typed by annotation: typing.cast is a call at run time
        return value
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    if task is None:  # pragma: no cover - the engine always runs in a task
        coro.close()
        msg = "within() needs an asyncio task to cancel when the time is up"
        raise RuntimeError(msg)
    cancelling = task.cancelling()
    expiry = _Expiry(task)
    slot = deadlines(loop).arm(loop.time() + timeout, expiry, expiry)
    try:
        return (yield from _resume(coro, waiting))
    except asyncio.CancelledError:
        if expiry.fired and task.uncancel() <= cancelling:
            raise TimeoutError from None
        raise
    finally:
        slot.pop(expiry, None)


def _resume(coro: Coroutine[Any, Any, _T], waiting: object) -> Generator[Any, Any, _T]:
    """Go on with ``coro``, which is waiting on ``waiting``, as ``await`` would.

    The task resumes a coroutine with ``send(None)``, or throws a cancellation
    into it; after the first resumption ``yield from`` relays the rest at C speed.
    """
    while True:
        try:
            sent = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - whatever the task throws goes to coro
            try:
                waiting = coro.throw(exc)
            except StopIteration as done:
                value: _T = done.value
                return value
            continue
        if sent is None:
            return (yield from coro.__await__())
        try:
            waiting = coro.send(sent)
        except StopIteration as done:
            last: _T = done.value
            return last


async def _awaiting(work: Awaitable[_T]) -> _T:
    return await work
