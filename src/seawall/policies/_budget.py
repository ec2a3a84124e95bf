"""A retry budget: retries may add at most a fixed fraction of load.

Per-call attempt limits do not stop a retry storm: when a vendor fails, every
call retries and the vendor sees up to ``attempts`` times its normal load just
when it is weakest. A budget caps retries across *all* calls, as Finagle's
``RetryBudget`` (twitter.github.io/finagle/guide/Clients.html#retries) and
linkerd's retry budgets do: ``ratio`` of the recent original requests, plus a
small floor of ``min_per_second`` so a quiet client can still retry at all.

Counting is done in ``_BUCKETS`` time buckets per window (1 s buckets for the
default 10 s window) kept in a ring, so memory is fixed. A retry is granted at
``now`` only if, for *every* run of buckets ending with the current one, the
retries already granted in it plus this one stay within
``ratio * requests in it + min_per_second * window``. Because later requests
only raise an allowance and later retries check again, this gives the
invariant, for every ``j``::

    retries granted in [j·w/B, j·w/B + w)
        <= ratio * requests recorded in [j·w/B, j·w/B + w) + min_per_second * w

where ``w`` is ``window`` and ``B`` is ``_BUCKETS``: no window aligned to the
bucket grid ever sees more retries than the budget allows. Since a window may
hold a burst of retries and nothing after it, this also bounds every shorter
stretch: the retries of one bucket are paid by that bucket's own requests plus
the reserve. Under steady load this grants what Finagle's leaky bucket grants
(``ratio * requests per window + reserve``); it is only stricter about
spending, late in a window, requests that the next window will not see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RetryBudget", "RetryBudgetSettings"]

#: Buckets per window; the invariant holds on windows aligned to w / _BUCKETS.
_BUCKETS = 10
#: Tolerance for ``ratio * requests`` computed in floating point.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryBudgetSettings:
    """``retry.budget`` in the config: ``{ratio: 0.2, min_per_second: 5}``."""

    ratio: float = 0.2
    min_per_second: float = 5.0
    window: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ratio) and self.ratio >= 0):
            msg = f"retry.budget.ratio must be a fraction >= 0, not {self.ratio}"
            raise ValueError(msg)
        if not (math.isfinite(self.min_per_second) and self.min_per_second >= 0):
            msg = f"retry.budget.min_per_second must be >= 0, not {self.min_per_second}"
            raise ValueError(msg)
        if not (math.isfinite(self.window) and self.window > 0):
            msg = f"retry.budget.window must be a positive duration, not {self.window}"
            raise ValueError(msg)

    @property
    def reserve(self) -> float:
        """Retries allowed in any window with no requests at all."""
        return self.min_per_second * self.window


class RetryBudget:
    """Time-bucketed counts of original requests and granted retries.

    Call :meth:`record_request` once per original call (not per retry), and
    :meth:`try_withdraw` once per retry the retry policy would otherwise make;
    a False answer means give up with ``BudgetExhausted``. Times are monotonic
    seconds; a time older than one already seen counts as the latest one.
    """

    __slots__ = ("_head", "_requests", "_retries", "_settings", "_slot", "_until", "_width")

    def __init__(self, *, settings: RetryBudgetSettings | None = None) -> None:
        self._settings = settings if settings is not None else RetryBudgetSettings()
        self._width = self._settings.window / _BUCKETS
        self._requests = [0] * _BUCKETS
        self._retries = [0] * _BUCKETS
        #: Absolute index of the newest bucket (floor(now / width)), or None.
        self._head: int | None = None
        #: the newest bucket's place in the ring, and when it ends
        self._slot = 0
        self._until = -math.inf

    @property
    def settings(self) -> RetryBudgetSettings:
        return self._settings

    def record_request(self, now: float) -> None:
        """Count one original request at ``now``; it raises the allowance by ``ratio``."""
        if now >= self._until:  # a new bucket (or the first call): clear what it passed
            self._advance(now)
        self._requests[self._slot] += 1  # an earlier time counts as the latest

    def can_withdraw(self, now: float) -> bool:
        """Whether :meth:`try_withdraw` at ``now`` would grant a retry; changes nothing."""
        head = self._advance(now)
        return self._allows(head)

    def try_withdraw(self, now: float) -> bool:
        """Grant one retry at ``now`` if the budget allows it, and count it."""
        head = self._advance(now)
        if not self._allows(head):
            return False
        self._retries[head % _BUCKETS] += 1
        return True

    def _allows(self, head: int) -> bool:
        ratio = self._settings.ratio
        reserve = self._settings.reserve
        requests = 0
        retries = 0
        # Every suffix of the window, newest bucket first.
        for age in range(_BUCKETS):
            slot = (head - age) % _BUCKETS
            requests += self._requests[slot]
            retries += self._retries[slot]
            if retries + 1 > ratio * requests + reserve + _EPSILON:
                return False
        return True

    def _advance(self, now: float) -> int:
        index = math.floor(now / self._width)
        if self._head is not None:
            if index <= self._head:
                return self._head
            for absolute in range(self._head + 1, min(index, self._head + _BUCKETS) + 1):
                self._requests[absolute % _BUCKETS] = 0
                self._retries[absolute % _BUCKETS] = 0
        self._head = index
        self._slot = index % _BUCKETS
        self._until = (index + 1) * self._width
        return index
