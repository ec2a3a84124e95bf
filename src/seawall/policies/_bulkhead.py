"""Admission accounting for a bulkhead: at most N calls at once, a bounded queue.

A slow vendor must not take every worker of the platform with it: a bulkhead
caps the calls in flight to one provider (Resilience4j's
``SemaphoreBulkhead``: ``maxConcurrentCalls``, ``maxWaitDuration``; Envoy's
``max_requests`` / ``max_pending_requests`` circuit-breaker thresholds). Calls
beyond the cap wait in a FIFO queue of at most ``max_queue`` for at most
``queue_timeout``; beyond that they are refused at once (``BulkheadFull``),
which is cheaper for everyone than piling up.

This module only counts. The engine owns the waiting: a FIFO of futures beside
the :class:`BulkheadState`, woken one per slot that :meth:`BulkheadState.leave`
hands over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["BulkheadDecision", "BulkheadSettings", "BulkheadState"]

BulkheadDecision = Literal["enter", "queue", "reject"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkheadSettings:
    """``bulkhead`` in the config.

    The reference config's ``{max_concurrent: 100, max_queue: 200, queue_timeout: 500ms}``.
    """

    max_concurrent: int = 100
    max_queue: int = 200
    queue_timeout: float = 0.5

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            msg = f"bulkhead.max_concurrent must be at least 1, not {self.max_concurrent}"
            raise ValueError(msg)
        if self.max_queue < 0:
            msg = f"bulkhead.max_queue must be 0 or more, not {self.max_queue}"
            raise ValueError(msg)
        if not (math.isfinite(self.queue_timeout) and self.queue_timeout >= 0):
            msg = f"bulkhead.queue_timeout must be a duration >= 0, not {self.queue_timeout}"
            raise ValueError(msg)


class BulkheadState:
    """How many calls are in flight and how many wait, for one provider.

    Protocol for the engine::

        decision = bulkhead.try_enter()
        "enter"  -> make the call, then bulkhead.leave()
        "queue"  -> wait up to queue_timeout for a hand-over;
                    handed over -> make the call, then bulkhead.leave()
                    timed out   -> bulkhead.abandon(); refuse with BulkheadFull
        "reject" -> refuse with BulkheadFull

    When :meth:`leave` returns True the slot was handed to the oldest waiter:
    the engine must wake exactly one waiter, which then owns the slot (and, if
    it no longer wants it, must ``leave()`` in turn). So the state keeps the
    invariant ``queued > 0  =>  active == max_concurrent``: nobody waits while
    a slot is free.
    """

    __slots__ = ("_active", "_queued", "_settings")

    def __init__(self, *, settings: BulkheadSettings | None = None) -> None:
        self._settings = settings if settings is not None else BulkheadSettings()
        self._active = 0
        self._queued = 0

    @property
    def settings(self) -> BulkheadSettings:
        return self._settings

    @property
    def active(self) -> int:
        """Calls holding a slot."""
        return self._active

    @property
    def queued(self) -> int:
        """Calls waiting for a slot."""
        return self._queued

    def try_enter(self) -> BulkheadDecision:
        """Admit a call, queue it, or refuse it.

        A call enters only when a slot is free *and* nobody waits, so a new
        call never overtakes a queued one (FIFO, as Resilience4j's fair
        semaphore).
        """
        if self._active < self._settings.max_concurrent and self._queued == 0:
            self._active += 1
            return "enter"
        if self._queued < self._settings.max_queue:
            self._queued += 1
            return "queue"
        return "reject"

    def leave(self) -> bool:
        """A call holding a slot ended; True when the slot went to the oldest waiter."""
        if self._active <= 0:
            msg = "bulkhead: leave() without a matching enter"
            raise RuntimeError(msg)
        if self._queued > 0:
            self._queued -= 1
            return True
        self._active -= 1
        return False

    def abandon(self) -> None:
        """A queued call gave up waiting (timeout, cancellation) without a slot."""
        if self._queued <= 0:
            msg = "bulkhead: abandon() without a queued call"
            raise RuntimeError(msg)
        self._queued -= 1
