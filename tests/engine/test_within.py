"""engine._within: the per-attempt timer keeps asyncio.timeout's semantics."""

from __future__ import annotations

import asyncio
import time

import pytest

from seawall.engine._within import within


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


def test_an_answer_in_time_is_returned() -> None:
    assert asyncio.run(within(1.0, slow(0.01))) == "done"


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
        task = asyncio.create_task(within(5.0, slow(5)))
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
