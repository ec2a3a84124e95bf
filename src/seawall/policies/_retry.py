"""Whether, and after how long, to try a failed attempt again.

A retry is safe only when repeating the request cannot do harm twice: the
method is idempotent (RFC 9110 §9.2.2), or the request carries an idempotency
key the vendor honours (Stripe's ``Idempotency-Key``; IETF
draft-ietf-httpapi-idempotency-key-header). It is useful only when the failure
is transient (``retry.on``, like Envoy's ``retry_on: connect-failure,
reset, 5xx, retriable-status-codes``) and when the wait still leaves time
before the deadline (gRPC's retry design, A6: retries never extend the
deadline). The vendor's own ``Retry-After`` (RFC 9110 §10.2.3) is a floor for
the wait.

:func:`decide_retry` is pure and checks, in this order, returning the first
reason to stop: ``not-retryable``, ``non-idempotent``, ``attempts-exhausted``,
``retry-after-too-long`` / ``deadline``, ``budget``. The budget is checked
last, on purpose: a retry that would be refused for any other reason must not
spend budget. The engine therefore either passes
``budget_ok=budget.can_withdraw(now)`` and, on :class:`Retry`, calls
``budget.try_withdraw(now)`` with the same ``now`` (which then succeeds), or
passes ``budget_ok=True`` and turns a :class:`Retry` into
``GiveUp("budget")`` when ``try_withdraw`` refuses.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from seawall.policies._backoff import BackoffSettings, backoff_delay
from seawall.policies._budget import RetryBudgetSettings
from seawall.policies._classify import Outcome

__all__ = [
    "IDEMPOTENT_METHODS",
    "GiveUp",
    "Retry",
    "RetryDecision",
    "RetrySettings",
    "decide_retry",
]

#: RFC 9110 §9.2.2: methods whose intended effect is the same however often sent.
IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

_ON_SLUGS = frozenset(o.value for o in Outcome if o is not Outcome.SUCCESS)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySettings:
    """``retry`` in the config.

    ``attempts`` counts every attempt, the first included. ``on`` holds HTTP
    statuses and outcome slugs (``connect-error``, ``timeout``, ``failure``,
    ``throttled``, ``final``). ``min_attempt_time`` is the least time worth
    starting another attempt with: a retry that would leave less before the
    deadline is not made.
    """

    attempts: int = 3
    backoff: BackoffSettings = field(default_factory=BackoffSettings)
    on: frozenset[int | str] = frozenset({"connect-error", "timeout", 429, 502, 503, 504})
    respect_retry_after: bool = True
    budget: RetryBudgetSettings = field(default_factory=RetryBudgetSettings)
    min_attempt_time: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            msg = f"retry.attempts (the first attempt included) must be >= 1, not {self.attempts}"
            raise ValueError(msg)
        for entry in self.on:
            if isinstance(entry, str):
                if entry not in _ON_SLUGS:
                    known = ", ".join(sorted(_ON_SLUGS))
                    msg = f"retry.on: {entry!r} is not an outcome ({known}) or an HTTP status"
                    raise ValueError(msg)
            elif not 100 <= entry <= 599:
                msg = f"retry.on: {entry} is not an HTTP status (100-599)"
                raise ValueError(msg)
        if not (math.isfinite(self.min_attempt_time) and self.min_attempt_time >= 0):
            msg = f"retry.min_attempt_time must be a duration >= 0, not {self.min_attempt_time}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop; ``reason`` is a stable slug (see :func:`decide_retry`)."""

    reason: str


RetryDecision = Retry | GiveUp


def decide_retry(
    settings: RetrySettings,
    *,
    attempt: int,
    outcome: Outcome,
    status: int | None,
    method: str,
    has_idempotency_key: bool,
    retry_after: float | None,
    deadline_remaining: float,
    budget_ok: bool,
    rng: random.Random,
) -> RetryDecision:
    """Decide what follows attempt number ``attempt`` (1 for the first), which ended in ``outcome``.

    Reasons to give up, checked in this order:

    * ``not-retryable``: the outcome is a success, or neither its slug nor its
      status is in ``settings.on``;
    * ``non-idempotent``: the method is not in :data:`IDEMPOTENT_METHODS`
      (POST, PATCH ...) and the request has no idempotency key;
    * ``attempts-exhausted``: ``attempt`` already reached ``settings.attempts``;
    * ``retry-after-too-long``: the vendor's ``Retry-After`` (when respected)
      is the longer wait and it leaves less than ``min_attempt_time`` before
      the deadline; ``deadline``: the same, with our own backoff the longer;
    * ``budget``: ``budget_ok`` is False.

    Otherwise :class:`Retry` with ``delay = backoff`` or, when
    ``respect_retry_after`` and the vendor sent one,
    ``max(backoff, retry_after)``.
    """
    if outcome is Outcome.SUCCESS or not (
        outcome.value in settings.on or (status is not None and status in settings.on)
    ):
        return GiveUp("not-retryable")
    if method.upper() not in IDEMPOTENT_METHODS and not has_idempotency_key:
        return GiveUp("non-idempotent")
    if attempt >= settings.attempts:
        return GiveUp("attempts-exhausted")
    delay = backoff_delay(settings.backoff, attempt, rng)
    vendor_wait = retry_after if settings.respect_retry_after else None
    if vendor_wait is not None and vendor_wait > delay:
        delay = vendor_wait
        too_long = "retry-after-too-long"
    else:
        too_long = "deadline"
    if delay + settings.min_attempt_time > deadline_remaining:
        return GiveUp(too_long)
    if not budget_ok:
        return GiveUp("budget")
    return Retry(delay)
