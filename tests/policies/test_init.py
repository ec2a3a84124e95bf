"""Tests for the public surface of seawall.policies."""

from __future__ import annotations

import dataclasses

import seawall.policies


def test_public_names_are_pinned() -> None:
    """The package exports exactly these names, sorted; changing them is an API change."""
    assert seawall.policies.__all__ == [
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
    assert seawall.policies.__all__ == sorted(seawall.policies.__all__, key=_ruff_order)
    for name in seawall.policies.__all__:
        assert hasattr(seawall.policies, name), name


def _ruff_order(name: str) -> tuple[int, str]:
    # isort-style: CONSTANTS, then Classes, then functions.
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_settings_are_frozen_slotted_and_keyword_only() -> None:
    """Every settings object is an immutable, slotted, keyword-only dataclass."""
    for cls in (
        seawall.policies.BackoffSettings,
        seawall.policies.BreakerSettings,
        seawall.policies.BulkheadSettings,
        seawall.policies.ClassificationSettings,
        seawall.policies.RateLimitSettings,
        seawall.policies.RetryBudgetSettings,
        seawall.policies.RetrySettings,
    ):
        params = cls.__dataclass_params__  # type: ignore[union-attr]
        assert params.frozen, cls
        assert "__slots__" in cls.__dict__, cls
        assert all(f.kw_only for f in dataclasses.fields(cls)), cls
