"""Tests for seawall.policies._rate_limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.policies import RateLimitSettings, TokenBucket


def bucket(rate: float = 10.0, burst: int = 2) -> TokenBucket:
    return TokenBucket(settings=RateLimitSettings(rate=rate, burst=burst))


def test_a_new_bucket_is_full() -> None:
    """The first burst calls go at once."""
    limiter = bucket(burst=3)
    assert [limiter.reserve(0.0, max_wait=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_reservations_queue_behind_each_other() -> None:
    """Past the burst, each caller waits one more token interval than the one before."""
    limiter = bucket(rate=10.0, burst=1)
    waits = [limiter.reserve(0.0, max_wait=1.0) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_too_long_a_wait_is_refused_and_takes_nothing() -> None:
    """A reservation over max_wait returns None and leaves the bucket as it was."""
    limiter = bucket(rate=10.0, burst=1)
    assert limiter.reserve(0.0, max_wait=0.0) == 0.0
    assert limiter.reserve(0.0, max_wait=0.05) is None
    assert limiter.tokens(0.0) == pytest.approx(0.0)
    assert limiter.reserve(0.0, max_wait=0.1) == pytest.approx(0.1)


def test_tokens_refill_at_rate_up_to_burst() -> None:
    """Tokens come back at rate per second but never beyond burst."""
    limiter = bucket(rate=10.0, burst=2)
    limiter.reserve(0.0, max_wait=0.0)
    limiter.reserve(0.0, max_wait=0.0)
    assert limiter.tokens(0.05) == pytest.approx(0.5)
    assert limiter.tokens(100.0) == 2.0


def test_stale_times_do_not_mint_tokens() -> None:
    """A time older than one already seen is treated as the latest one."""
    limiter = bucket(rate=1.0, burst=1)
    assert limiter.reserve(10.0, max_wait=0.0) == 0.0
    assert limiter.reserve(5.0, max_wait=0.0) is None
    assert limiter.reserve(10.5, max_wait=1.0) == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs", [{"rate": 0.0, "burst": 1}, {"rate": 1.0, "burst": 0}])
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    """A zero rate or an empty burst is refused: the limit would admit nothing."""
    with pytest.raises(ValueError, match="rate_limit"):
        RateLimitSettings(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    rate=st.sampled_from([0.5, 1.0, 3.0, 10.0, 100.0]),
    burst=st.integers(1, 5),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=2.0, allow_nan=False),
            st.floats(min_value=0.0, max_value=3.0, allow_nan=False),
        ),
        max_size=80,
    ),
)
def test_released_calls_never_exceed_burst_plus_rate_times_elapsed(
    rate: float, burst: int, steps: list[tuple[float, float]]
) -> None:
    """Over every interval, calls released number at most burst + rate * its length."""
    limiter = TokenBucket(settings=RateLimitSettings(rate=rate, burst=burst))
    now = 0.0
    released: list[float] = []
    for advance, max_wait in steps:
        now += advance
        wait = limiter.reserve(now, max_wait=max_wait)
        if wait is not None:
            assert 0.0 <= wait <= max_wait
            released.append(now + wait)
    released.sort()
    # The tightest intervals start and end at release times.
    for i in range(len(released)):
        for j in range(i, len(released)):
            calls = j - i + 1
            assert calls <= burst + rate * (released[j] - released[i]) + 1e-6
