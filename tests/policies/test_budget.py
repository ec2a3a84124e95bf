"""Tests for seawall.policies._budget."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.policies import RetryBudget, RetryBudgetSettings


def test_defaults_match_the_reference_config() -> None:
    """Retries may add 20% load, with a floor of 5 per second over 10 s."""
    config = RetryBudgetSettings()
    assert (config.ratio, config.min_per_second, config.window) == (0.2, 5.0, 10.0)
    assert config.reserve == 50.0


def test_the_reserve_allows_min_per_second_times_window_without_requests() -> None:
    """With no requests at all, exactly min_per_second * window retries are granted."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.2, min_per_second=1.0, window=10.0))
    granted = sum(budget.try_withdraw(0.5) for _ in range(20))
    assert granted == 10


def test_requests_raise_the_allowance_by_ratio() -> None:
    """Each original request adds ratio retries to the allowance."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.5, min_per_second=0.0, window=10.0))
    for _ in range(10):
        budget.record_request(1.0)
    granted = sum(budget.try_withdraw(1.0) for _ in range(20))
    assert granted == 5


def test_the_allowance_comes_back_when_the_window_slides_on() -> None:
    """Retries granted more than a window ago no longer count."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.0, min_per_second=0.2, window=10.0))
    assert budget.try_withdraw(0.0)
    assert budget.try_withdraw(0.0)
    assert not budget.try_withdraw(9.9)
    assert budget.try_withdraw(10.0)


def test_requests_older_than_the_window_stop_counting() -> None:
    """Requests outside the window no longer pay for retries."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=1.0, min_per_second=0.0, window=10.0))
    for _ in range(3):
        budget.record_request(0.0)
    budget.record_request(10.0)
    assert budget.try_withdraw(10.0)
    assert not budget.try_withdraw(10.0)


def test_a_long_silence_clears_everything() -> None:
    """After many windows without activity the budget is back to its reserve."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.0, min_per_second=0.1, window=10.0))
    assert budget.try_withdraw(0.0)
    assert not budget.try_withdraw(5.0)
    assert budget.try_withdraw(1_000_000.0)


def test_a_retry_must_be_paid_for_in_every_window_that_holds_it() -> None:
    """A retry is refused if some window containing it would hold too few requests."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=1.0, min_per_second=0.0, window=10.0))
    for _ in range(4):
        budget.record_request(0.0)
    # [0, 10) holds four requests, but [5, 15) would hold this retry and none.
    assert not budget.try_withdraw(5.0)
    budget.record_request(5.0)
    assert budget.try_withdraw(5.0)
    assert not budget.try_withdraw(5.0)


def test_can_withdraw_changes_nothing() -> None:
    """can_withdraw answers like try_withdraw without spending the budget."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.0, min_per_second=0.1, window=10.0))
    assert budget.can_withdraw(0.0)
    assert budget.can_withdraw(0.0)
    assert budget.try_withdraw(0.0)
    assert not budget.can_withdraw(0.0)


def test_times_out_of_order_count_as_the_latest() -> None:
    """A stale now is treated as the newest time seen, not as the past."""
    budget = RetryBudget(settings=RetryBudgetSettings(ratio=0.0, min_per_second=0.1, window=10.0))
    assert budget.try_withdraw(20.0)
    assert not budget.try_withdraw(3.0)


@pytest.mark.parametrize(
    "kwargs", [{"ratio": -0.1}, {"min_per_second": -1.0}, {"window": 0.0}, {"ratio": math.nan}]
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    """Negative ratios or floors and empty windows are refused."""
    with pytest.raises(ValueError, match=r"retry\.budget"):
        RetryBudgetSettings(**kwargs)


_ops = st.lists(
    st.tuples(
        st.sampled_from(["request", "retry", "peek"]),
        # Time steps in tenths of a second, so bucket boundaries are hit exactly.
        st.integers(min_value=0, max_value=25),
        st.integers(min_value=1, max_value=8),
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(
    ops=_ops,
    ratio=st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.0]),
    min_per_second=st.sampled_from([0.0, 0.1, 0.3, 1.0]),
)
def test_granted_retries_never_exceed_the_budget_in_any_window(
    ops: list[tuple[str, int, int]], ratio: float, min_per_second: float
) -> None:
    """In every window on the bucket grid, granted retries <= ratio * requests + reserve."""
    window = 10.0
    config = RetryBudgetSettings(ratio=ratio, min_per_second=min_per_second, window=window)
    budget = RetryBudget(settings=config)
    now = 0.0
    requests: list[float] = []
    retries: list[float] = []
    for kind, step, repeat in ops:
        now += step / 10
        for _ in range(repeat):
            if kind == "request":
                budget.record_request(now)
                requests.append(now)
            elif kind == "retry":
                if budget.try_withdraw(now):
                    retries.append(now)
            else:
                before = budget.can_withdraw(now)
                assert before == budget.can_withdraw(now)
    # Independent reference count: every window [j, j + window) with 1 s grid.
    last = math.ceil(now) + 1
    for start in range(-int(window), last):
        in_requests = sum(1 for t in requests if start <= t < start + window)
        in_retries = sum(1 for t in retries if start <= t < start + window)
        assert in_retries <= ratio * in_requests + min_per_second * window + 1e-9


@settings(max_examples=100, deadline=None)
@given(requests=st.integers(min_value=0, max_value=200), ratio=st.sampled_from([0.1, 0.2, 0.5]))
def test_a_single_burst_gets_its_whole_allowance(requests: int, ratio: float) -> None:
    """The budget is not stricter than its formula when everything happens at once."""
    config = RetryBudgetSettings(ratio=ratio, min_per_second=1.0, window=10.0)
    budget = RetryBudget(settings=config)
    for _ in range(requests):
        budget.record_request(3.0)
    granted = 0
    while budget.try_withdraw(3.0):
        granted += 1
    assert granted == math.floor(ratio * requests + config.reserve + 1e-9)
