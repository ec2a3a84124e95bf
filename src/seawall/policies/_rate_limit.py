"""A token bucket with reservations, after Go's ``golang.org/x/time/rate``.

Tokens refill at ``rate`` per second up to ``burst``. Like
``rate.Limiter.Reserve``, a caller does not poll: :meth:`TokenBucket.reserve`
takes a token now, possibly going into debt, and says how long to wait before
the call may go. Callers that reserve later wait longer, so concurrent callers
are served in order and nobody spins. A reservation whose wait would exceed
``max_wait`` takes nothing and is refused (the engine raises ``RateLimited``).

Invariant: over any interval ``[t1, t2]``, the calls *released* (reserve time
plus wait) number at most ``burst + rate * (t2 - t1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RateLimitSettings", "TokenBucket"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitSettings:
    """``rate_limit`` in the config, e.g. ``{rate: 100/s, burst: 20}``.

    There is no default: ``defaults.policy`` in the reference config sets no
    rate limit, so a bucket exists only where one is configured, with the rate
    already converted to calls per second.
    """

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0):
            msg = f"rate_limit.rate must be a positive number per second, not {self.rate}"
            raise ValueError(msg)
        if self.burst < 1:
            msg = f"rate_limit.burst must be at least 1, not {self.burst}"
            raise ValueError(msg)


class TokenBucket:
    """One rate limit; starts full. Times are monotonic seconds.

    A time older than one already seen counts as the latest one, so callers
    that read the clock slightly out of order cannot mint tokens.
    """

    __slots__ = ("_last", "_settings", "_tokens")

    def __init__(self, *, settings: RateLimitSettings) -> None:
        self._settings = settings
        self._tokens = float(settings.burst)
        self._last: float | None = None

    @property
    def settings(self) -> RateLimitSettings:
        return self._settings

    def tokens(self, now: float) -> float:
        """Tokens available at ``now``; negative while reservations are queued."""
        return self._advance(now)

    def reserve(self, now: float, *, max_wait: float) -> float | None:
        """Take a token at ``now``; return the seconds to wait before the call may go.

        0.0 means go now. None means the wait would exceed ``max_wait`` (for
        instance the time left on the call's deadline) and nothing was taken.
        """
        tokens = self._advance(now) - 1.0
        wait = 0.0 if tokens >= 0 else -tokens / self._settings.rate
        if wait > max_wait:
            return None
        self._tokens = tokens
        return wait

    def _advance(self, now: float) -> float:
        if self._last is None or now > self._last:
            if self._last is not None:
                elapsed = now - self._last
                self._tokens = min(
                    float(self._settings.burst), self._tokens + elapsed * self._settings.rate
                )
            self._last = now
        return self._tokens
