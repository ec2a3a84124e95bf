"""Tests for seawall.alerts._state: the series state machine, with plain numbers."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.alerts import SeriesState, step


def drive(
    pattern: Sequence[bool],
    *,
    for_: float = 0.0,
    keep_firing_for: float = 0.0,
    every: float = 10.0,
    state: SeriesState | None = None,
) -> tuple[SeriesState, list[tuple[float, str]]]:
    """Step through ``pattern`` (condition holds or not) every ``every`` seconds from t=10."""
    current = state or SeriesState()
    moves: list[tuple[float, str]] = []
    for i, active in enumerate(pattern):
        now = (i + 1) * every
        current, moved = step(
            current, active=active, now=now, for_=for_, keep_firing_for=keep_firing_for
        )
        if moved is not None:
            moves.append((now, moved))
    return current, moves


def test_a_blip_shorter_than_for_stays_pending_and_goes_quietly() -> None:
    """A condition that holds 30 s under ``for: 2m`` is pending, then inactive: never firing."""
    final, moves = drive([True, True, True, False, False], for_=120.0)
    assert moves == [(10.0, "pending"), (40.0, "inactive")]
    assert final.state == "inactive"


def test_pending_fires_once_it_held_for_long_enough() -> None:
    """Pending becomes firing exactly when the condition has held ``for`` seconds."""
    _, moves = drive([True] * 20, for_=120.0)
    assert moves == [(10.0, "pending"), (130.0, "firing")]


def test_for_zero_and_a_spike_fire_at_once() -> None:
    """With ``for: 0`` a series fires at the first evaluation; so does a spike with a long ``for``."""
    _, moves = drive([True], for_=0.0)
    assert moves == [(10.0, "firing")]
    state, moved = step(
        SeriesState(), active=True, now=5.0, for_=600.0, keep_firing_for=0.0, spike=True
    )
    assert (state.state, moved, state.fired_at) == ("firing", "firing", 5.0)


def test_firing_resolves_then_goes_inactive() -> None:
    """Without hysteresis: firing -> resolved at the first miss -> inactive at the next step."""
    final, moves = drive([True, True, False, False], for_=0.0)
    assert moves == [(10.0, "firing"), (30.0, "resolved"), (40.0, "inactive")]
    assert final.fired_at is None


def test_a_flapping_metric_fires_once_inside_keep_firing_for() -> None:
    """Flapping on and off every 10-20 s with keep_firing_for 60 s: one firing, one resolution."""
    flaps = [True, False, True, False, False, True, False, True, False, False]
    final, moves = drive(flaps + [False] * 10, for_=0.0, keep_firing_for=60.0)
    assert [m for _, m in moves].count("firing") == 1
    assert [m for _, m in moves].count("resolved") == 1
    # the last time it held was t=80; it resolves 60 s later
    assert {m: t for t, m in moves}["resolved"] == 140.0
    assert final.state == "inactive"


def test_holding_again_after_resolution_fires_anew() -> None:
    """Once resolved, the next episode is a new firing (pending first when ``for`` is set)."""
    _, moves = drive([True, False, True], for_=0.0)
    assert [m for _, m in moves] == ["firing", "resolved", "firing"]
    _, moves = drive([True] * 3 + [False] + [True] * 3, for_=20.0)
    assert [m for _, m in moves] == ["pending", "firing", "resolved", "pending", "firing"]


def test_a_restored_series_keeps_firing_without_a_new_transition() -> None:
    """A series restored as firing stays firing while it holds and resolves after the hysteresis."""
    restored = SeriesState(state="firing", since=0.0, active_since=0.0, fired_at=0.0)
    state, moves = drive([True, True], state=restored, keep_firing_for=30.0)
    assert moves == []
    assert state.fired_at == 0.0
    state, moves = drive([False] * 5, state=restored, keep_firing_for=30.0)
    # the hysteresis counts from the first step after the restart (t=10)
    assert moves == [(40.0, "resolved"), (50.0, "inactive")]


def test_a_restored_series_resolves_at_once_without_hysteresis() -> None:
    """Restored as firing, condition gone, no keep_firing_for: resolved at the first step."""
    restored = SeriesState(state="firing", fired_at=0.0)
    state, moved = step(restored, active=False, now=10.0, for_=0.0, keep_firing_for=0.0)
    assert (state.state, moved) == ("resolved", "resolved")
