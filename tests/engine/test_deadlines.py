"""seawall._deadlines: many timers behind one loop timer, on asyncio's loop and uvloop's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from seawall._deadlines import Deadlines, deadlines

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    factory = LOOPS[request.param]

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coro)

    return runner


def test_timers_fire_in_due_order_never_more_than_a_millisecond_early(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> list[tuple[str, float, float]]:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        fired: list[tuple[str, float, float]] = []
        start = loop.time()
        # armed out of order: a later one first, then earlier ones (which re-arm the loop timer)
        for name, delay in (("c", 0.15), ("a", 0.02), ("b", 0.04), ("a2", 0.02)):
            due = start + delay
            lane.arm(due, name, lambda n=name, d=due: fired.append((n, d, loop.time())))
        await asyncio.sleep(0.2)
        assert len(lane) == 0
        return fired

    fired = run(main())
    assert sorted(name for name, _, _ in fired) == ["a", "a2", "b", "c"]
    assert [name for name, _, _ in fired][2:] == ["b", "c"]
    for _name, due, at in fired:
        assert at >= due - 0.001
        assert at < due + 0.06  # not held back by a later timer armed first


def test_a_disarmed_timer_never_fires_and_leaves_nothing_armed(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        fired: list[int] = []
        slots = [lane.arm(loop.time() + 0.01, i, lambda i=i: fired.append(i)) for i in range(100)]
        for i, slot in enumerate(slots):
            if i != 42:
                slot.pop(i, None)
        assert len(lane) == 1
        await asyncio.sleep(0.05)
        return fired, len(lane)

    fired, left = run(main())
    assert fired == [42]
    assert left == 0


def test_rearming_the_same_key_in_another_slot_fires_once_at_the_new_time(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        fired: list[float] = []
        key = object()
        start = loop.time()
        first = lane.arm(start + 0.01, key, lambda: fired.append(loop.time() - start))
        first.pop(key, None)
        lane.arm(start + 0.04, key, lambda: fired.append(loop.time() - start))
        await asyncio.sleep(0.08)
        return fired

    fired = run(main())
    assert len(fired) == 1
    assert fired[0] >= 0.039


def test_a_callback_may_disarm_another_of_its_own_millisecond(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        fired: list[str] = []
        due = loop.time() + 0.01
        slots: dict[str, dict[object, Callable[[], None]]] = {}

        def first(me: str, other: str) -> None:
            fired.append(me)
            slots[other].pop(other, None)

        slots["x"] = lane.arm(due, "x", lambda: first("x", "y"))
        slots["y"] = lane.arm(due, "y", lambda: first("y", "x"))
        await asyncio.sleep(0.05)
        return fired

    fired = run(main())
    assert len(fired) == 1  # whichever ran first disarmed the other


def test_a_failing_callback_is_reported_and_the_others_still_fire(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> tuple[list[str], list[dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        reported: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        lane = Deadlines(loop)
        fired: list[str] = []

        def boom() -> None:
            raise RuntimeError("boom")

        now = loop.time()
        lane.arm(now + 0.01, "bad", boom)
        lane.arm(now + 0.01, "good", lambda: fired.append("good"))
        lane.arm(now + 0.03, "later", lambda: fired.append("later"))
        await asyncio.sleep(0.06)
        return fired, reported

    fired, reported = run(main())
    assert sorted(fired) == ["good", "later"]
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], RuntimeError)


def test_a_callback_arming_again_fires_again(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        count = 0

        def tick() -> None:
            nonlocal count
            count += 1
            if count < 3:
                lane.arm(loop.time() + 0.005, "tick", tick)

        lane.arm(loop.time() + 0.005, "tick", tick)
        await asyncio.sleep(0.1)
        return count

    assert run(main()) == 3


def test_close_drops_every_timer(run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        lane = Deadlines(loop)
        fired: list[int] = []
        lane.arm(loop.time() + 0.01, 1, lambda: fired.append(1))
        lane.close()
        await asyncio.sleep(0.03)
        return fired

    assert run(main()) == []


def test_each_loop_has_one_shared_lane_and_closed_loops_are_let_go() -> None:
    first = asyncio.new_event_loop()
    lane = deadlines(first)
    assert deadlines(first) is lane
    first.close()
    second = asyncio.new_event_loop()
    try:
        assert deadlines(second) is not lane
        from seawall import _deadlines

        assert first not in _deadlines._BY_LOOP
    finally:
        second.close()
