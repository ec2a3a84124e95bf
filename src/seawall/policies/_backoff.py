"""Exponential backoff with jitter between retries.

Jitter spreads the retries of many clients that failed together, so a vendor
coming back is not hit by a synchronised wave. The modes follow Marc Brooker,
"Exponential Backoff And Jitter" (AWS Architecture Blog, 2015): *full* jitter
(the default, fewest total calls), *equal* jitter (never waits less than half
the step) and *none* (for tests and simulators only).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["BackoffSettings", "Jitter", "backoff_delay"]

Jitter = Literal["full", "equal", "none"]
_JITTERS: frozenset[str] = frozenset({"full", "equal", "none"})


@dataclass(frozen=True, slots=True, kw_only=True)
class BackoffSettings:
    """``retry.backoff`` in the config.

    The reference config's ``{initial: 100ms, max: 2s, multiplier: 2, jitter: full}``.
    """

    initial: float = 0.1
    max: float = 2.0
    multiplier: float = 2.0
    jitter: Jitter = "full"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.initial) and self.initial >= 0):
            msg = f"backoff.initial must be a finite duration >= 0, not {self.initial}"
            raise ValueError(msg)
        if not (math.isfinite(self.max) and self.max >= self.initial):
            msg = f"backoff.max ({self.max}) must be finite and at least backoff.initial"
            raise ValueError(msg)
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            msg = f"backoff.multiplier must be >= 1, not {self.multiplier}"
            raise ValueError(msg)
        if self.jitter not in _JITTERS:
            msg = f"backoff.jitter must be one of full, equal, none; not {self.jitter!r}"
            raise ValueError(msg)


def backoff_delay(settings: BackoffSettings, retry_number: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``retry_number`` (1 for the first retry).

    The step is ``min(max, initial * multiplier ** (retry_number - 1))``; full
    jitter draws uniformly from ``[0, step]``, equal jitter from
    ``[step / 2, step]``, and no jitter returns the step. The result is always
    within ``[0, settings.max]``. ``rng`` is injected so tests are repeatable.
    """
    if retry_number < 1:
        msg = f"retry_number counts from 1, not {retry_number}"
        raise ValueError(msg)
    try:
        raw = settings.initial * settings.multiplier ** (retry_number - 1)
    except OverflowError:
        raw = math.inf
    step = min(settings.max, raw)
    if settings.jitter == "none":
        return step
    if settings.jitter == "equal":
        half = step / 2
        return min(step, half + rng.uniform(0.0, half))
    return min(step, rng.uniform(0.0, step))
