"""Small shared types: the clock protocol that keeps policies pure."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "MonotonicClock"]


class Clock(Protocol):
    """A source of monotonic seconds.

    Policies never read the time themselves: the engine passes a clock in, so a
    test can drive any policy with plain numbers.
    """

    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...


class MonotonicClock:
    """The process's monotonic clock."""

    __slots__ = ()

    #: the builtin itself: the engine reads the clock several times per call
    now = staticmethod(time.monotonic)


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            msg = f"a clock cannot go back ({seconds} s)"
            raise ValueError(msg)
        self._now += seconds
