"""The overall deadline of one logical call, across attempts and failovers.

Like gRPC deadlines (grpc.io/docs/guides/deadlines), the budget is set once
when the call enters and every attempt gets at most what is left, so retries
and failovers can never make a caller wait longer than it was promised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Deadline"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    """A deadline of ``total`` seconds starting at monotonic time ``start``."""

    start: float
    total: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.total) and self.total >= 0):
            msg = f"a deadline needs a finite total >= 0 seconds, not {self.total}"
            raise ValueError(msg)

    @property
    def expires_at(self) -> float:
        """Monotonic time at which the deadline runs out."""
        return self.start + self.total

    def remaining(self, now: float) -> float:
        """Seconds left at ``now``, never negative."""
        return max(0.0, self.expires_at - now)

    def expired(self, now: float) -> bool:
        """Whether no time is left at ``now``."""
        return self.remaining(now) <= 0.0

    def attempt_timeout(self, now: float, per_attempt: float) -> float:
        """Timeout for an attempt starting at ``now``: ``min(per_attempt, remaining)``."""
        return min(per_attempt, self.remaining(now))
