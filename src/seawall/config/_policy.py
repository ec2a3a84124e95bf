"""Policy blocks: ``defaults.policy`` and ``integrations.<name>.policy``.

Every field has a production-safe default. An integration's block is merged
key by key over ``defaults.policy`` (see :func:`merge_policy`), so
``retry: {attempts: 2}`` changes the attempts and keeps the default backoff.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from seawall.config._base import Model
from seawall.config._fields import Duration, Percentage, PositiveDuration, Rate

__all__ = [
    "Backoff",
    "Breaker",
    "Bulkhead",
    "Classification",
    "CountWindow",
    "Policy",
    "RateLimit",
    "Retry",
    "RetryBudget",
    "SlowCall",
    "TimeWindow",
    "merge_policy",
]

_RETRY_NAMES = ("connect-error", "timeout")
_FAMILY = re.compile(r"([1-5])xx")


def _retry_on(value: object) -> object:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if 100 <= value <= 599:
            return value
    elif isinstance(value, str) and (value in _RETRY_NAMES or _FAMILY.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "value",
        f"'{value}' is not a retry condition: use connect-error, timeout, an HTTP status "
        "such as 503, or a family such as 5xx",
    )


RetryCondition = Annotated[int | str, BeforeValidator(_retry_on)]


def _status_set(value: object) -> object:
    if isinstance(value, str) and _FAMILY.fullmatch(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    raise PydanticCustomError(
        "value", f"'{value}' is not an HTTP status (100-599) or a family such as 4xx"
    )


StatusPattern = Annotated[int | str, BeforeValidator(_status_set)]


class Backoff(Model):
    """Exponential backoff; ``full`` jitter spreads retries (AWS architecture blog)."""

    initial: Duration = 0.1
    max: Duration = 2.0
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0)
    jitter: Literal["full", "equal", "none"] = "full"


class RetryBudget(Model):
    """Retries may add at most ``ratio`` extra load, with a floor of ``min_per_second``."""

    ratio: Percentage = 0.2
    min_per_second: float = Field(default=5.0, ge=0.0)
    window: PositiveDuration = 10.0


class Retry(Model):
    attempts: int = Field(default=3, ge=1, le=10)
    backoff: Backoff = Backoff()
    on: tuple[RetryCondition, ...] = ("connect-error", "timeout", 429, 502, 503, 504)
    respect_retry_after: bool = True
    max_retry_after: Duration = 30.0
    budget: RetryBudget = RetryBudget()


class CountWindow(Model):
    type: Literal["count"] = "count"
    size: int = Field(default=50, ge=1, le=100_000)


class TimeWindow(Model):
    type: Literal["time"]
    size: PositiveDuration = 60.0


class SlowCall(Model):
    duration: PositiveDuration = 1.0
    rate: Percentage = 0.8


class Breaker(Model):
    """Circuit breaker with Resilience4j semantics."""

    enabled: bool = True
    window: Annotated[CountWindow | TimeWindow, Field(discriminator="type")] = CountWindow()
    min_calls: int = Field(default=20, ge=1)
    failure_rate: Percentage = 0.5
    slow_call: SlowCall | None = SlowCall()
    open_for: PositiveDuration = 30.0
    half_open_calls: int = Field(default=3, ge=1, le=1000)


class Bulkhead(Model):
    max_concurrent: int = Field(default=100, ge=1)
    max_queue: int = Field(default=200, ge=0)
    queue_timeout: Duration = 0.5


class RateLimit(Model):
    """Token bucket shaping calls to a vendor's quota."""

    rate: Rate
    burst: int = Field(default=1, ge=1)


class Classification(Model):
    """Overrides of the default response classification, by status or family.

    Defaults: 2xx/3xx success; 4xx final (a card decline is an answer, not an
    outage) except 408 (failure) and 429 (throttled); 5xx failure.
    """

    success: tuple[StatusPattern, ...] = ()
    final: tuple[StatusPattern, ...] = ()
    throttled: tuple[StatusPattern, ...] = ()
    failure: tuple[StatusPattern, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> Classification:
        seen: dict[object, str] = {}
        for name in ("success", "final", "throttled", "failure"):
            for status in getattr(self, name):
                if status in seen:
                    msg = f"{status} is listed both as {seen[status]} and as {name}"
                    raise PydanticCustomError("value", msg)
                seen[status] = name
        return self


class Policy(Model):
    timeout: PositiveDuration = 2.0
    deadline: PositiveDuration = 10.0
    retry: Retry = Retry()
    circuit_breaker: Breaker = Breaker()
    bulkhead: Bulkhead = Bulkhead()
    rate_limit: RateLimit | None = None
    classify: Classification = Classification()


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            # A window of another type replaces the block instead of mixing fields.
            if "type" in value and value.get("type") != out[key].get("type"):
                out[key] = value
            else:
                out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_policy(defaults: Policy, override: Policy) -> Policy:
    """``override``'s explicitly set keys over ``defaults``, recursively."""
    merged = _deep_merge(
        defaults.model_dump(exclude_unset=True), override.model_dump(exclude_unset=True)
    )
    return Policy.model_validate(merged)
