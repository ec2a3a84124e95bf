"""State machines shared across layers, as enums with one comment per state."""

from __future__ import annotations

import enum

__all__ = ["BreakerState"]


class BreakerState(enum.Enum):
    """Circuit breaker states, after Resilience4j."""

    #: Calls flow; outcomes are recorded in the sliding window.
    CLOSED = "closed"
    #: Calls are refused until ``open_for`` has passed.
    OPEN = "open"
    #: A few trial calls (``half_open_calls``) decide between CLOSED and OPEN.
    HALF_OPEN = "half_open"
    #: An operator holds the breaker open; only an operator closes it again.
    FORCED_OPEN = "forced_open"
    #: An operator switched the breaker off: calls always flow, nothing recorded.
    DISABLED = "disabled"

    @property
    def gauge(self) -> int:
        """Value for ``seawall_circuit_state`` (0 closed, 1 half-open, 2 open)."""
        if self in (BreakerState.OPEN, BreakerState.FORCED_OPEN):
            return 2
        if self is BreakerState.HALF_OPEN:
            return 1
        return 0
