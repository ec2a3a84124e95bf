"""Tests for seawall.policies._backoff."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.policies import BackoffSettings, backoff_delay


def test_defaults_match_the_reference_config() -> None:
    """The defaults are the reference config's 100ms/2s/x2/full."""
    assert BackoffSettings() == BackoffSettings(initial=0.1, max=2.0, multiplier=2.0, jitter="full")


def test_no_jitter_grows_exponentially_up_to_max() -> None:
    """Without jitter the delay is initial * multiplier**(n-1), capped at max."""
    config = BackoffSettings(jitter="none")
    rng = random.Random(0)
    delays = [backoff_delay(config, n, rng) for n in range(1, 8)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])


def test_full_jitter_draws_between_zero_and_the_step() -> None:
    """Full jitter is uniform(0, step), AWS's recommended mode."""
    config = BackoffSettings(initial=1.0, max=10.0)
    rng = random.Random(1)
    draws = [backoff_delay(config, 3, rng) for _ in range(500)]
    assert all(0.0 <= d <= 4.0 for d in draws)
    assert min(draws) < 0.5
    assert max(draws) > 3.5


def test_equal_jitter_never_waits_less_than_half_the_step() -> None:
    """Equal jitter is step/2 + uniform(0, step/2)."""
    config = BackoffSettings(initial=1.0, max=10.0, jitter="equal")
    rng = random.Random(2)
    draws = [backoff_delay(config, 3, rng) for _ in range(500)]
    assert all(2.0 <= d <= 4.0 for d in draws)


def test_same_seed_same_delays() -> None:
    """The injected rng makes the delays repeatable."""
    config = BackoffSettings()
    first = [backoff_delay(config, n, random.Random(7)) for n in range(1, 5)]
    again = [backoff_delay(config, n, random.Random(7)) for n in range(1, 5)]
    assert first == again


def test_huge_retry_numbers_do_not_overflow() -> None:
    """A retry number large enough to overflow a float still gives max."""
    config = BackoffSettings(multiplier=10.0, jitter="none")
    assert backoff_delay(config, 10_000, random.Random(0)) == 2.0


def test_retry_numbers_count_from_one() -> None:
    """Retry number 0 is a programming error, not a silent zero delay."""
    with pytest.raises(ValueError, match="counts from 1"):
        backoff_delay(BackoffSettings(), 0, random.Random(0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": -0.1},
        {"max": 0.05},
        {"multiplier": 0.5},
        {"jitter": "decorrelated"},
        {"initial": float("nan")},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    """Negative, shrinking or unknown backoff settings are refused at construction."""
    with pytest.raises(ValueError, match="backoff"):
        BackoffSettings(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    initial=st.floats(min_value=0.0, max_value=5.0),
    extra=st.floats(min_value=0.0, max_value=60.0),
    multiplier=st.floats(min_value=1.0, max_value=10.0),
    jitter=st.sampled_from(["full", "equal", "none"]),
    retry_number=st.integers(min_value=1, max_value=5_000),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_is_always_within_zero_and_max(
    initial: float,
    extra: float,
    multiplier: float,
    jitter: str,
    retry_number: int,
    seed: int,
) -> None:
    """Whatever the settings and retry number, the delay lies in [0, max]."""
    config = BackoffSettings(
        initial=initial,
        max=initial + extra,
        multiplier=multiplier,
        jitter=jitter,  # type: ignore[arg-type]
    )
    delay = backoff_delay(config, retry_number, random.Random(seed))
    assert 0.0 <= delay <= config.max
