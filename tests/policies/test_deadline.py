"""Tests for seawall.policies._deadline."""

from __future__ import annotations

import pytest

from seawall.policies import Deadline


def test_remaining_counts_down_and_stops_at_zero() -> None:
    """remaining() is total minus elapsed, never negative."""
    deadline = Deadline(start=100.0, total=10.0)
    assert deadline.remaining(100.0) == 10.0
    assert deadline.remaining(104.5) == 5.5
    assert deadline.remaining(110.0) == 0.0
    assert deadline.remaining(200.0) == 0.0


def test_expired_once_no_time_is_left() -> None:
    """expired() turns true exactly when the total has elapsed."""
    deadline = Deadline(start=0.0, total=2.0)
    assert not deadline.expired(1.999)
    assert deadline.expired(2.0)


def test_attempt_timeout_is_the_smaller_of_per_attempt_and_remaining() -> None:
    """An attempt never gets more time than the whole call has left."""
    deadline = Deadline(start=0.0, total=10.0)
    assert deadline.attempt_timeout(0.0, 2.0) == 2.0
    assert deadline.attempt_timeout(9.0, 2.0) == 1.0
    assert deadline.attempt_timeout(12.0, 2.0) == 0.0


def test_a_deadline_needs_a_finite_total() -> None:
    """An infinite or negative deadline is refused: every call has one."""
    with pytest.raises(ValueError, match="deadline"):
        Deadline(start=0.0, total=float("inf"))
    with pytest.raises(ValueError, match="deadline"):
        Deadline(start=0.0, total=-1.0)
