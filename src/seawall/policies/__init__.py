"""Pure policy decisions: retry, backoff, budget, breaker, bulkhead, rate limit, deadline.

Nothing here does I/O, sleeps or reads a clock: times come in as ``now``
(monotonic seconds), randomness as an injected :class:`random.Random`, and
answers go out as values (:class:`Retry`, :class:`GiveUp`, :class:`Permit`,
:class:`Refusal` ...) for the engine to act on.
"""

from __future__ import annotations

from seawall.policies._backoff import BackoffSettings, Jitter, backoff_delay
from seawall.policies._breaker import (
    BreakerSettings,
    BreakerTransition,
    CircuitBreaker,
    Permit,
    Refusal,
    WindowType,
)
from seawall.policies._budget import RetryBudget, RetryBudgetSettings
from seawall.policies._bulkhead import BulkheadDecision, BulkheadSettings, BulkheadState
from seawall.policies._classify import (
    ClassificationSettings,
    Outcome,
    classify_status,
    counts_against_breaker,
    counts_against_vendor,
)
from seawall.policies._deadline import Deadline
from seawall.policies._rate_limit import RateLimitSettings, TokenBucket
from seawall.policies._retry import (
    IDEMPOTENT_METHODS,
    GiveUp,
    Retry,
    RetryDecision,
    RetrySettings,
    decide_retry,
)
from seawall.policies._retry_after import MAX_RETRY_AFTER, parse_retry_after
from seawall.policies._window import WindowSnapshot

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "BackoffSettings",
    "BreakerSettings",
    "BreakerTransition",
    "BulkheadDecision",
    "BulkheadSettings",
    "BulkheadState",
    "CircuitBreaker",
    "ClassificationSettings",
    "Deadline",
    "GiveUp",
    "Jitter",
    "Outcome",
    "Permit",
    "RateLimitSettings",
    "Refusal",
    "Retry",
    "RetryBudget",
    "RetryBudgetSettings",
    "RetryDecision",
    "RetrySettings",
    "TokenBucket",
    "WindowSnapshot",
    "WindowType",
    "backoff_delay",
    "classify_status",
    "counts_against_breaker",
    "counts_against_vendor",
    "decide_retry",
    "parse_retry_after",
]
