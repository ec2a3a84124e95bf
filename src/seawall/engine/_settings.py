"""Turn a validated config :class:`~seawall.config.Policy` into the pure
policies' settings values, once per integration."""

from __future__ import annotations

import re
from dataclasses import dataclass

import seawall.config as cfg
from seawall.policies import (
    BackoffSettings,
    BreakerSettings,
    BulkheadSettings,
    ClassificationSettings,
    RateLimitSettings,
    RetryBudgetSettings,
    RetrySettings,
)

__all__ = ["PolicySettings", "policy_settings"]

_FAMILY = re.compile(r"([1-5])xx")


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySettings:
    """Everything the engine needs to run calls of one integration."""

    timeout: float
    deadline: float
    retry: RetrySettings
    max_retry_after: float
    breaker: BreakerSettings | None
    bulkhead: BulkheadSettings
    rate_limit: RateLimitSettings | None
    classification: ClassificationSettings


def _statuses(patterns: tuple[int | str, ...]) -> frozenset[int]:
    out: set[int] = set()
    for pattern in patterns:
        if isinstance(pattern, int):
            out.add(pattern)
        elif match := _FAMILY.fullmatch(pattern):
            base = int(match.group(1)) * 100
            out.update(range(base, base + 100))
    return frozenset(out)


def _classification(spec: cfg.Classification) -> ClassificationSettings:
    """Config overrides win over the built-in defaults, status by status."""
    defaults = ClassificationSettings()
    sets = {
        "success": set(defaults.success),
        "final": set(defaults.final),
        "throttled": set(defaults.throttled),
        "failure": set(defaults.failure),
    }
    for name, chosen_set in sets.items():
        chosen = _statuses(getattr(spec, name))
        if not chosen:
            continue
        for other in sets.values():
            other.difference_update(chosen)
        chosen_set.update(chosen)
    return ClassificationSettings(
        success=frozenset(sets["success"]),
        final=frozenset(sets["final"]),
        throttled=frozenset(sets["throttled"]),
        failure=frozenset(sets["failure"]),
    )


def _retry_on(entries: tuple[int | str, ...]) -> frozenset[int | str]:
    out: set[int | str] = set()
    for entry in entries:
        if isinstance(entry, str) and _FAMILY.fullmatch(entry):
            out.update(_statuses((entry,)))
        else:
            out.add(entry)
    return frozenset(out)


def policy_settings(policy: cfg.Policy) -> PolicySettings:
    retry = policy.retry
    breaker = policy.circuit_breaker
    slow = breaker.slow_call
    # A status the integration calls a final answer or a success is not retried,
    # even when the (default) retry.on list names it.
    answered = _statuses(policy.classify.final) | _statuses(policy.classify.success)
    return PolicySettings(
        timeout=policy.timeout,
        deadline=policy.deadline,
        retry=RetrySettings(
            attempts=retry.attempts,
            backoff=BackoffSettings(
                initial=retry.backoff.initial,
                max=max(retry.backoff.max, retry.backoff.initial),
                multiplier=retry.backoff.multiplier,
                jitter=retry.backoff.jitter,
            ),
            on=_retry_on(retry.on) - answered,
            respect_retry_after=retry.respect_retry_after,
            budget=RetryBudgetSettings(
                ratio=retry.budget.ratio,
                min_per_second=retry.budget.min_per_second,
                window=retry.budget.window,
            ),
        ),
        max_retry_after=retry.max_retry_after,
        breaker=(
            BreakerSettings(
                window_type=breaker.window.type,
                window_size=breaker.window.size,
                min_calls=breaker.min_calls,
                failure_rate=breaker.failure_rate,
                # no slow_call block: no call is ever slow
                slow_call_duration=slow.duration if slow else float("inf"),
                slow_call_rate=slow.rate if slow else 1.0,
                open_for=breaker.open_for,
                half_open_calls=breaker.half_open_calls,
            )
            if breaker.enabled
            else None
        ),
        bulkhead=BulkheadSettings(
            max_concurrent=policy.bulkhead.max_concurrent,
            max_queue=policy.bulkhead.max_queue,
            queue_timeout=policy.bulkhead.queue_timeout,
        ),
        rate_limit=(
            RateLimitSettings(rate=policy.rate_limit.rate, burst=policy.rate_limit.burst)
            if policy.rate_limit
            else None
        ),
        classification=_classification(policy.classify),
    )
