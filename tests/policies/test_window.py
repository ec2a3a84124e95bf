"""Tests for seawall.policies._window."""

from __future__ import annotations

import pytest

from seawall.policies._window import CountWindow, TimeWindow, WindowSnapshot


def test_snapshot_rates_are_fractions_of_calls() -> None:
    """failure_rate and slow_rate divide by calls, and are 0 for an empty window."""
    assert WindowSnapshot(calls=4, failures=1, slow=3).failure_rate == 0.25
    assert WindowSnapshot(calls=4, failures=1, slow=3).slow_rate == 0.75
    assert WindowSnapshot().failure_rate == 0.0
    assert WindowSnapshot().slow_rate == 0.0


def test_count_window_keeps_the_last_n_calls() -> None:
    """The oldest call leaves the count window when a new one enters a full ring."""
    window = CountWindow(3)
    window.add(0.0, failure=True, slow=True)
    window.add(0.0, failure=False, slow=False)
    window.add(0.0, failure=False, slow=False)
    assert window.snapshot(0.0) == WindowSnapshot(calls=3, failures=1, slow=1)
    window.add(0.0, failure=False, slow=False)
    assert window.snapshot(0.0) == WindowSnapshot(calls=3, failures=0, slow=0)


def test_count_window_ignores_time() -> None:
    """A count window keeps its calls however old they are."""
    window = CountWindow(2)
    window.add(0.0, failure=True, slow=False)
    assert window.snapshot(1e9).failures == 1


def test_count_window_clear_empties_it() -> None:
    """clear() forgets every call."""
    window = CountWindow(2)
    window.add(0.0, failure=True, slow=True)
    window.clear()
    assert window.snapshot(0.0) == WindowSnapshot()
    window.add(0.0, failure=False, slow=False)
    window.add(0.0, failure=False, slow=False)
    window.add(0.0, failure=False, slow=False)
    assert window.snapshot(0.0) == WindowSnapshot(calls=2)


def test_time_window_forgets_calls_older_than_its_size() -> None:
    """Calls leave a time window once their one-second bucket slides out."""
    window = TimeWindow(3.0)
    window.add(0.2, failure=True, slow=False)
    window.add(1.5, failure=False, slow=True)
    assert window.snapshot(2.9) == WindowSnapshot(calls=2, failures=1, slow=1)
    assert window.snapshot(3.0) == WindowSnapshot(calls=1, failures=0, slow=1)
    assert window.snapshot(4.0) == WindowSnapshot()


def test_time_window_survives_long_gaps() -> None:
    """After a gap far longer than the window, only new calls count."""
    window = TimeWindow(2.0)
    window.add(0.0, failure=True, slow=False)
    window.add(1_000.0, failure=False, slow=False)
    assert window.snapshot(1_000.0) == WindowSnapshot(calls=1)


def test_time_window_counts_stale_times_as_the_latest() -> None:
    """A call reported with an older time lands in the newest bucket."""
    window = TimeWindow(2.0)
    window.add(10.0, failure=False, slow=False)
    window.add(3.0, failure=True, slow=False)
    assert window.snapshot(11.0) == WindowSnapshot(calls=2, failures=1)
    assert window.snapshot(12.0) == WindowSnapshot()


def test_time_window_with_a_fractional_size() -> None:
    """A sub-second window still has at least one bucket."""
    window = TimeWindow(0.5)
    window.add(0.1, failure=True, slow=False)
    assert window.snapshot(0.4).calls == 1
    assert window.snapshot(0.5).calls == 0


def test_windows_refuse_empty_sizes() -> None:
    """A window needs room for at least one call or some time."""
    with pytest.raises(ValueError, match="count window"):
        CountWindow(0)
    with pytest.raises(ValueError, match="time window"):
        TimeWindow(0.0)
