"""Tests for seawall.policies._retry."""

from __future__ import annotations

import random
from typing import Any

import pytest

from seawall.policies import (
    IDEMPOTENT_METHODS,
    BackoffSettings,
    GiveUp,
    Outcome,
    Retry,
    RetryBudgetSettings,
    RetryDecision,
    RetrySettings,
    decide_retry,
)

FIXED = RetrySettings(backoff=BackoffSettings(initial=0.1, max=2.0, jitter="none"))


def decide(settings: RetrySettings = FIXED, **overrides: Any) -> RetryDecision:
    arguments: dict[str, Any] = {
        "attempt": 1,
        "outcome": Outcome.FAILURE,
        "status": 503,
        "method": "GET",
        "has_idempotency_key": False,
        "retry_after": None,
        "deadline_remaining": 10.0,
        "budget_ok": True,
        "rng": random.Random(0),
    }
    arguments.update(overrides)
    return decide_retry(settings, **arguments)


def test_defaults_match_the_reference_config() -> None:
    """Defaults are 3 attempts, the reference backoff, on and budget, honouring Retry-After."""
    config = RetrySettings()
    assert config.attempts == 3
    assert config.backoff == BackoffSettings()
    assert config.on == frozenset({"connect-error", "timeout", 429, 502, 503, 504})
    assert config.respect_retry_after is True
    assert config.budget == RetryBudgetSettings()


def test_idempotent_methods_are_rfc_9110s() -> None:
    """The idempotent methods are exactly those of RFC 9110 section 9.2.2."""
    assert frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) == IDEMPOTENT_METHODS


def test_a_retryable_failure_is_retried_after_the_backoff() -> None:
    """A 503 on a GET with time and budget left is retried after the backoff step."""
    assert decide(attempt=1) == Retry(0.1)
    assert decide(attempt=2) == Retry(0.2)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(Outcome.CONNECT_ERROR, None), (Outcome.TIMEOUT, None), (Outcome.THROTTLED, 429)],
)
def test_outcomes_named_in_on_are_retried(outcome: Outcome, status: int | None) -> None:
    """Connect errors, timeouts and 429 are retried by default."""
    assert isinstance(decide(outcome=outcome, status=status), Retry)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.SUCCESS, 200),
        (Outcome.FINAL, 402),
        (Outcome.FINAL, 404),
        (Outcome.FAILURE, 500),
        (Outcome.FAILURE, 408),
        (Outcome.FAILURE, None),
    ],
)
def test_outcomes_not_in_on_are_not_retried(outcome: Outcome, status: int | None) -> None:
    """Successes, final answers and failures not listed in on are not retried."""
    assert decide(outcome=outcome, status=status) == GiveUp("not-retryable")


def test_a_status_listed_in_on_is_retried_even_if_final() -> None:
    """Listing a status in on retries it whatever its classification."""
    config = RetrySettings(on=frozenset({404}), backoff=FIXED.backoff)
    assert decide(config, outcome=Outcome.FINAL, status=404) == Retry(0.1)


def test_success_is_never_retried() -> None:
    """A success is never retried, even with its status listed in on."""
    config = RetrySettings(on=frozenset({200}))
    assert decide(config, outcome=Outcome.SUCCESS, status=200) == GiveUp("not-retryable")


@pytest.mark.parametrize("method", ["POST", "PATCH", "post"])
def test_non_idempotent_methods_need_a_key(method: str) -> None:
    """POST and PATCH are retried only with an idempotency key."""
    assert decide(method=method) == GiveUp("non-idempotent")
    assert isinstance(decide(method=method, has_idempotency_key=True), Retry)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "put"])
def test_idempotent_methods_need_no_key(method: str) -> None:
    """Idempotent methods are retried without a key, whatever the case of the name."""
    assert isinstance(decide(method=method), Retry)


def test_attempts_include_the_first_one() -> None:
    """With attempts=3, attempt 3 is the last: no fourth attempt."""
    assert isinstance(decide(attempt=2), Retry)
    assert decide(attempt=3) == GiveUp("attempts-exhausted")


def test_retry_after_is_a_floor_for_the_delay() -> None:
    """A vendor's Retry-After longer than the backoff is the delay."""
    assert decide(retry_after=1.5) == Retry(1.5)
    assert decide(retry_after=0.01) == Retry(0.1)


def test_retry_after_can_be_ignored() -> None:
    """With respect_retry_after off, only the backoff counts."""
    config = RetrySettings(respect_retry_after=False, backoff=FIXED.backoff)
    assert decide(config, retry_after=60.0) == Retry(0.1)


def test_a_retry_after_past_the_deadline_gives_up() -> None:
    """A vendor asking for more time than the deadline leaves is a distinct reason."""
    assert decide(retry_after=9.95, deadline_remaining=10.0) == GiveUp("retry-after-too-long")


def test_a_backoff_past_the_deadline_gives_up() -> None:
    """A backoff leaving less than min_attempt_time before the deadline gives up."""
    assert decide(deadline_remaining=0.15) == GiveUp("deadline")
    assert decide(deadline_remaining=0.2) == Retry(0.1)
    assert decide(deadline_remaining=0.0) == GiveUp("deadline")


def test_budget_is_checked_last() -> None:
    """An exhausted budget stops only a retry that every other rule allows."""
    assert decide(budget_ok=False) == GiveUp("budget")
    assert decide(budget_ok=False, attempt=3) == GiveUp("attempts-exhausted")
    assert decide(budget_ok=False, method="POST") == GiveUp("non-idempotent")
    assert decide(budget_ok=False, deadline_remaining=0.0) == GiveUp("deadline")


def test_the_delay_uses_the_injected_rng() -> None:
    """With full jitter the delay comes from the rng, so a seed repeats it."""
    config = RetrySettings()
    first = decide(config, rng=random.Random(42))
    again = decide(config, rng=random.Random(42))
    assert isinstance(first, Retry)
    assert first == again
    assert 0.0 <= first.delay <= 0.1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"attempts": 0}, "attempts"),
        ({"on": frozenset({"5xx"})}, "not an outcome"),
        ({"on": frozenset({"success"})}, "not an outcome"),
        ({"on": frozenset({999})}, "not an HTTP status"),
        ({"min_attempt_time": -1.0}, "min_attempt_time"),
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    """Zero attempts, unknown entries in on and negative times are refused."""
    with pytest.raises(ValueError, match=match):
        RetrySettings(**kwargs)
