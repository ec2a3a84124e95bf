"""Tests for seawall.policies._bulkhead."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.policies import BulkheadSettings, BulkheadState


def test_defaults_match_the_reference_config() -> None:
    """Defaults are 100 concurrent, 200 queued, 500 ms in the queue."""
    assert BulkheadSettings() == BulkheadSettings(
        max_concurrent=100, max_queue=200, queue_timeout=0.5
    )


def test_enter_then_queue_then_reject() -> None:
    """Calls enter up to max_concurrent, then queue up to max_queue, then are refused."""
    bulkhead = BulkheadState(settings=BulkheadSettings(max_concurrent=2, max_queue=1))
    assert [bulkhead.try_enter() for _ in range(4)] == ["enter", "enter", "queue", "reject"]
    assert (bulkhead.active, bulkhead.queued) == (2, 1)


def test_leave_hands_the_slot_to_the_oldest_waiter() -> None:
    """A call leaving with someone queued hands its slot over instead of freeing it."""
    bulkhead = BulkheadState(settings=BulkheadSettings(max_concurrent=1, max_queue=5))
    assert bulkhead.try_enter() == "enter"
    assert bulkhead.try_enter() == "queue"
    assert bulkhead.leave() is True
    assert (bulkhead.active, bulkhead.queued) == (1, 0)
    assert bulkhead.leave() is False
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


def test_new_calls_do_not_overtake_queued_ones() -> None:
    """While anyone waits, a new call queues even if the count would let it in."""
    bulkhead = BulkheadState(settings=BulkheadSettings(max_concurrent=1, max_queue=5))
    bulkhead.try_enter()
    bulkhead.try_enter()
    bulkhead.leave()
    assert bulkhead.try_enter() == "queue"


def test_abandon_removes_a_waiter_without_a_slot() -> None:
    """A waiter that times out leaves the queue and holds nothing."""
    bulkhead = BulkheadState(settings=BulkheadSettings(max_concurrent=1, max_queue=1))
    bulkhead.try_enter()
    assert bulkhead.try_enter() == "queue"
    bulkhead.abandon()
    assert (bulkhead.active, bulkhead.queued) == (1, 0)
    assert bulkhead.try_enter() == "queue"


def test_no_queue_means_immediate_rejection() -> None:
    """With max_queue 0, a call beyond the limit is refused at once."""
    bulkhead = BulkheadState(settings=BulkheadSettings(max_concurrent=1, max_queue=0))
    assert bulkhead.try_enter() == "enter"
    assert bulkhead.try_enter() == "reject"


def test_unbalanced_calls_are_programming_errors() -> None:
    """leave() without enter, or abandon() without a queued call, raises."""
    bulkhead = BulkheadState()
    with pytest.raises(RuntimeError, match="leave"):
        bulkhead.leave()
    with pytest.raises(RuntimeError, match="abandon"):
        bulkhead.abandon()


@pytest.mark.parametrize(
    "kwargs", [{"max_concurrent": 0}, {"max_queue": -1}, {"queue_timeout": -0.1}]
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    """A bulkhead with no slot, a negative queue or a negative timeout is refused."""
    with pytest.raises(ValueError, match="bulkhead"):
        BulkheadSettings(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(st.sampled_from(["enter", "leave", "abandon"]), max_size=100),
    max_concurrent=st.integers(1, 4),
    max_queue=st.integers(0, 4),
)
def test_counts_stay_within_limits_and_nobody_waits_beside_a_free_slot(
    ops: list[str], max_concurrent: int, max_queue: int
) -> None:
    """Under any sequence, active <= max_concurrent, queued <= max_queue, and a queue implies full."""
    bulkhead = BulkheadState(
        settings=BulkheadSettings(max_concurrent=max_concurrent, max_queue=max_queue)
    )
    for op in ops:
        if op == "enter":
            bulkhead.try_enter()
        elif op == "leave" and bulkhead.active:
            bulkhead.leave()
        elif op == "abandon" and bulkhead.queued:
            bulkhead.abandon()
        assert 0 <= bulkhead.active <= max_concurrent
        assert 0 <= bulkhead.queued <= max_queue
        assert bulkhead.queued == 0 or bulkhead.active == max_concurrent
