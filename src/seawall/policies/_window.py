"""Sliding windows of call outcomes for the circuit breaker.

The two kinds are Resilience4j's (resilience4j.readme.io/docs/circuitbreaker):
a *count-based* window aggregates the last N calls in a ring; a *time-based*
window aggregates the calls of the last N seconds in N one-second buckets
("partial aggregations"), so memory is fixed whatever the call rate.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

__all__ = ["CountWindow", "OutcomeWindow", "TimeWindow", "WindowSnapshot"]


class WindowSnapshot(NamedTuple):
    """Totals in a window: calls, how many failed, and how many were slow.

    A named tuple (immutable, as the breaker's other values): the breaker takes
    one after every call it records.
    """

    calls: int = 0
    failures: int = 0
    slow: int = 0

    @property
    def failure_rate(self) -> float:
        """Failed calls as a fraction of calls; 0 when there were none."""
        return self.failures / self.calls if self.calls else 0.0

    @property
    def slow_rate(self) -> float:
        """Slow calls as a fraction of calls; 0 when there were none."""
        return self.slow / self.calls if self.calls else 0.0


class OutcomeWindow(Protocol):
    """What the breaker needs from a window."""

    def add(self, now: float, *, failure: bool, slow: bool) -> tuple[int, int, int]:
        """Count one call; the window's (calls, failures, slow) with it counted."""
        ...

    def snapshot(self, now: float) -> WindowSnapshot: ...

    def clear(self) -> None: ...


class CountWindow:
    """The last ``size`` calls, whenever they happened.

    A ring of marks, one per call: bit 0 failed, bit 1 slow (0 for an empty
    slot). A call replaces the mark of the call ``size`` before it, and the
    totals move only when the two marks differ.
    """

    __slots__ = ("_calls", "_failures", "_marks", "_next", "_size", "_slow")

    def __init__(self, size: int) -> None:
        if size < 1:
            msg = f"a count window needs at least one call, not {size}"
            raise ValueError(msg)
        self._size = size
        self._marks = [0] * size
        self._next = 0
        self._calls = 0
        self._failures = 0
        self._slow = 0

    def add(self, now: float, *, failure: bool, slow: bool) -> tuple[int, int, int]:
        slot = self._next
        old = self._marks[slot]
        mark = failure + 2 * slow
        if mark != old:  # the oldest call leaves as the new one enters
            self._marks[slot] = mark
            self._failures += failure - (old & 1)
            self._slow += slow - (old >> 1)
        if self._calls < self._size:
            self._calls += 1
        self._next = slot + 1 if slot + 1 < self._size else 0
        return self._calls, self._failures, self._slow

    def snapshot(self, now: float) -> WindowSnapshot:
        return WindowSnapshot(calls=self._calls, failures=self._failures, slow=self._slow)

    def clear(self) -> None:
        self._marks = [0] * self._size
        self._next = 0
        self._calls = 0
        self._failures = 0
        self._slow = 0


class TimeWindow:
    """The calls of the last ``size`` seconds, in about one-second buckets.

    ``size`` is split into ``ceil(size)`` equal buckets; a call belongs to the
    bucket ``floor(now / width)``, and the window at ``now`` is the current
    bucket and the ones before it, so it spans between ``size - width`` and
    ``size`` seconds. A time older than one already seen counts as the latest.
    """

    __slots__ = ("_buckets", "_calls", "_count", "_failures", "_head", "_slow", "_width")

    def __init__(self, size: float) -> None:
        if not (math.isfinite(size) and size > 0):
            msg = f"a time window needs a positive duration, not {size}"
            raise ValueError(msg)
        self._count = max(1, math.ceil(size))
        self._width = size / self._count
        self._calls = [0] * self._count
        self._failures = [0] * self._count
        self._slow = [0] * self._count
        self._head: int | None = None

    def add(self, now: float, *, failure: bool, slow: bool) -> tuple[int, int, int]:
        slot = self._advance(now) % self._count
        self._calls[slot] += 1
        self._failures[slot] += failure
        self._slow[slot] += slow
        return sum(self._calls), sum(self._failures), sum(self._slow)

    def snapshot(self, now: float) -> WindowSnapshot:
        self._advance(now)
        return WindowSnapshot(
            calls=sum(self._calls), failures=sum(self._failures), slow=sum(self._slow)
        )

    def clear(self) -> None:
        self._calls = [0] * self._count
        self._failures = [0] * self._count
        self._slow = [0] * self._count
        self._head = None

    def _advance(self, now: float) -> int:
        index = math.floor(now / self._width)
        if self._head is None:
            self._head = index
            return index
        if index <= self._head:
            return self._head
        for absolute in range(self._head + 1, min(index, self._head + self._count) + 1):
            slot = absolute % self._count
            self._calls[slot] = 0
            self._failures[slot] = 0
            self._slow[slot] = 0
        self._head = index
        return index
