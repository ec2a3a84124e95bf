"""Timers for deadlines that almost never fire, for the cost of a dict insert and delete.

Every upstream exchange and every engine attempt is bounded by a timer, and
nearly all of them are disarmed because the answer came in time. A loop timer
is dear for that: uvloop allocates a libuv handle per ``call_at`` and frees it
on ``cancel``, about 2.4 µs a pair on this kind of machine, a few percent of
a proxied call.

:class:`Deadlines` files each timer under its due millisecond and keeps one
loop timer, at the earliest millisecond that holds any. Arming is a dict
insert (and a heap push for the first timer of a millisecond); disarming is
``slot.pop(key, None)`` on the slot :meth:`Deadlines.arm` returned. When the
loop timer fires, the callbacks of every millisecond that has begun run (so a
timer fires at most a millisecond early, as loop timers round to milliseconds
too), empty milliseconds are skipped without waking the loop, and the loop
timer moves to the next millisecond that still holds a timer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from heapq import heappop, heappush

__all__ = ["Deadlines", "Slot", "deadlines"]

#: the timers due in one millisecond: key -> callback
Slot = dict[object, Callable[[], None]]


class Deadlines:
    """Many one-shot timers of one loop behind a single loop timer."""

    __slots__ = ("_armed", "_handle", "_loop", "_slots", "_ticks")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        #: due millisecond -> its timers (emptied ones stay until their millisecond)
        self._slots: dict[int, Slot] = {}
        #: the milliseconds in ``_slots``, as a heap
        self._ticks: list[int] = []
        self._handle: asyncio.TimerHandle | None = None
        #: the millisecond the loop timer is armed for (when ``_handle`` is set)
        self._armed = 0

    def __len__(self) -> int:
        """Timers armed and not yet fired or disarmed."""
        return sum(len(slot) for slot in self._slots.values())

    def arm(self, when: float, key: object, callback: Callable[[], None]) -> Slot:
        """Call ``callback`` at loop time ``when`` unless disarmed first.

        ``key`` names the timer in its slot (one timer per key and slot);
        disarm it with ``slot.pop(key, None)`` on the slot returned.
        """
        tick = math.ceil(when * 1000.0)
        slot = self._slots.get(tick)
        if slot is None:
            slot = self._slots[tick] = {}
            heappush(self._ticks, tick)
            if self._handle is None or tick < self._armed:
                self._arm_loop(tick)
        slot[key] = callback
        return slot

    def _arm_loop(self, tick: int) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed = tick
        self._handle = self._loop.call_at(tick / 1000.0, self._fire)

    def _fire(self) -> None:
        self._handle = None
        begun = self._loop.time() * 1000.0 + 1.0  # a millisecond that has begun is due
        ticks, slots = self._ticks, self._slots
        while ticks and ticks[0] <= begun:
            slot = slots.pop(heappop(ticks))
            while slot:  # a callback may disarm others of the same slot: pop one at a time
                _key, callback = slot.popitem()
                try:
                    callback()
                except Exception as exc:  # noqa: BLE001 - one timer must not stop the rest
                    self._loop.call_exception_handler(
                        {"message": "a deadline callback failed", "exception": exc}
                    )
        while ticks and not slots[ticks[0]]:
            del slots[heappop(ticks)]
        if ticks:
            self._arm_loop(ticks[0])

    def close(self) -> None:
        """Drop every timer unfired (the loop is closing)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._slots.clear()
        self._ticks.clear()


_BY_LOOP: dict[asyncio.AbstractEventLoop, Deadlines] = {}


def deadlines(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The shared :class:`Deadlines` of ``loop``."""
    found = _BY_LOOP.get(loop)
    if found is None:
        # list() copies in one step: another thread's loop (SyncTransport) may register meanwhile
        for old in [other for other in list(_BY_LOOP) if other.is_closed()]:
            _BY_LOOP.pop(old, None)
        found = _BY_LOOP[loop] = Deadlines(loop)
    return found
