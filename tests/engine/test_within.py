"""engine._within: the per-attempt timer keeps asyncio.timeout's semantics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

import pytest

from seawall._deadlines import deadlines
from seawall.engine._within import within

_T = TypeVar("_T")


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


def test_an_answer_in_time_is_returned() -> None:
    assert asyncio.run(_awaiting(within(1.0, slow(0.01)))) == "done"


def test_running_past_the_timeout_raises_timeout_error_at_the_timeout() -> None:
    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await within(0.05, slow(5))
        return time.monotonic() - started

    took = asyncio.run(main())
    assert 0.04 < took < 0.5


def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    async def main() -> None:
        task = asyncio.create_task(_awaiting(within(5.0, slow(5))))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()

    asyncio.run(main())


def test_the_timer_is_disarmed_after_an_answer() -> None:
    async def main() -> None:
        await within(0.05, slow(0))
        await asyncio.sleep(0.1)  # a timer left armed would cancel this task here

    asyncio.run(main())


def test_a_timeout_leaves_no_cancellation_pending() -> None:
    async def main() -> str:
        with pytest.raises(TimeoutError):
            await within(0.02, slow(5))
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        return await slow(0.01)

    assert asyncio.run(main()) == "done"


def test_an_answer_that_needs_no_wait_arms_no_timer() -> None:
    """The coroutine runs up to its first wait before any timer exists; only a
    coroutine that waits is bounded by one."""
    seen: list[int] = []

    async def answer() -> str:
        lane = deadlines(asyncio.get_running_loop())
        seen.append(len(lane))
        await asyncio.sleep(0)
        seen.append(len(lane))
        return "done"

    async def main() -> tuple[str, int]:
        result = await within(5.0, answer())
        return result, len(deadlines(asyncio.get_running_loop()))

    assert asyncio.run(main()) == ("done", 0)
    assert seen == [0, 1]


def test_values_and_errors_pass_through_every_wait() -> None:
    async def waits(fail: bool) -> int:
        loop = asyncio.get_running_loop()
        total = 0
        for n in range(3):
            future: asyncio.Future[int] = loop.create_future()
            loop.call_soon(future.set_result, n + 1)
            total += await future
        if fail:
            raise ValueError("after three waits")
        return total

    async def main() -> int:
        with pytest.raises(ValueError, match="after three waits"):
            await within(5.0, waits(fail=True))
        return await within(5.0, waits(fail=False))

    assert asyncio.run(main()) == 6


def test_an_error_before_the_first_wait_propagates() -> None:
    async def broken() -> None:
        raise ValueError("at once")

    async def main() -> None:
        with pytest.raises(ValueError, match="at once"):
            await within(5.0, broken())

    asyncio.run(main())


def test_a_cancellation_at_the_first_wait_reaches_the_coroutine_cleanup() -> None:
    """Cancelled at its first wait, the coroutine's own handler runs (and may wait)
    before the cancellation goes on to the caller."""
    cleaned: list[str] = []

    async def guarded() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # cleanup that itself waits
            cleaned.append("cleanup")
            raise
        return "never"

    async def main() -> None:
        task = asyncio.create_task(_awaiting(within(5.0, guarded())))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cleaned == ["cleanup"]


def test_the_timeout_counts_from_the_first_wait_and_stops_a_coroutine_past_it() -> None:
    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await within(0.05, _waits_twice(5))
        return time.monotonic() - started

    assert 0.04 < asyncio.run(main()) < 0.5


async def _waits_twice(seconds: float) -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(seconds)


async def _awaiting(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def test_any_awaitable_is_bounded_not_only_a_coroutine() -> None:
    """An upstream may hand back a Future or an object with ``__await__``."""

    class Later:
        def __await__(self) -> Generator[Any, None, str]:
            yield from asyncio.sleep(0.01).__await__()
            return "later"

    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        loop.call_later(0.01, future.set_result, "future")
        got = await within(1.0, future)
        with pytest.raises(TimeoutError):
            await within(0.02, loop.create_future())
        return got, await within(1.0, Later())

    assert asyncio.run(main()) == ("future", "later")
