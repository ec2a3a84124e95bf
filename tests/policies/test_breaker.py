"""Tests for seawall.policies._breaker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from seawall._states import BreakerState
from seawall.policies import (
    BreakerSettings,
    BreakerTransition,
    CircuitBreaker,
    Permit,
    Refusal,
)

CLOSED = BreakerState.CLOSED
OPEN = BreakerState.OPEN
HALF_OPEN = BreakerState.HALF_OPEN
FORCED_OPEN = BreakerState.FORCED_OPEN
DISABLED = BreakerState.DISABLED

SMALL = BreakerSettings(
    window_type="count",
    window_size=10,
    min_calls=4,
    failure_rate=0.5,
    slow_call_duration=1.0,
    slow_call_rate=0.8,
    open_for=30.0,
    half_open_calls=3,
)


def permit(breaker: CircuitBreaker, now: float) -> Permit:
    answer = breaker.acquire(now)
    assert isinstance(answer, Permit), answer
    return answer


def call(
    breaker: CircuitBreaker, now: float, *, failure: bool = False, duration: float = 0.1
) -> None:
    breaker.record(permit(breaker, now), now, failure=failure, duration=duration)


def trip(breaker: CircuitBreaker, now: float = 0.0) -> None:
    for _ in range(breaker.settings.effective_min_calls):
        call(breaker, now, failure=True)
    assert breaker.state(now) is OPEN


def test_defaults_match_the_reference_config() -> None:
    """Defaults are the reference config's circuit_breaker block."""
    assert BreakerSettings() == BreakerSettings(
        window_type="count",
        window_size=50,
        min_calls=20,
        failure_rate=0.5,
        slow_call_duration=1.0,
        slow_call_rate=0.8,
        open_for=30.0,
        half_open_calls=3,
    )


def test_a_new_breaker_is_closed_and_lets_calls_through() -> None:
    """A fresh breaker is CLOSED and grants permits."""
    breaker = CircuitBreaker()
    assert breaker.state(0.0) is CLOSED
    assert permit(breaker, 0.0).state is CLOSED


def test_no_verdict_before_min_calls() -> None:
    """Failures below min_calls never open the breaker, however bad the rate."""
    breaker = CircuitBreaker(settings=SMALL)
    for _ in range(3):
        call(breaker, 0.0, failure=True)
    assert breaker.state(0.0) is CLOSED
    assert breaker.drain_transitions() == []


def test_opens_when_failure_rate_reaches_the_threshold() -> None:
    """At min_calls, a failure rate equal to the threshold opens the breaker."""
    breaker = CircuitBreaker(settings=SMALL)
    call(breaker, 0.0, failure=False)
    call(breaker, 0.0, failure=False)
    call(breaker, 0.0, failure=True)
    call(breaker, 0.0, failure=True)
    assert breaker.state(0.0) is OPEN
    assert breaker.drain_transitions() == [BreakerTransition(CLOSED, OPEN, "failure-rate")]


def test_stays_closed_below_the_failure_threshold() -> None:
    """A failure rate under the threshold keeps the breaker closed."""
    breaker = CircuitBreaker(settings=SMALL)
    for failure in (False, False, False, True, False, True, False):
        call(breaker, 0.0, failure=failure)
    assert breaker.state(0.0) is CLOSED


def test_opens_on_slow_call_rate() -> None:
    """Successful but slow calls open the breaker when their rate reaches the threshold."""
    breaker = CircuitBreaker(settings=SMALL)
    call(breaker, 0.0, duration=0.1)
    for _ in range(4):
        call(breaker, 0.0, duration=1.5)
    assert breaker.state(0.0) is OPEN
    assert breaker.drain_transitions() == [BreakerTransition(CLOSED, OPEN, "slow-call-rate")]


def test_a_call_is_slow_only_above_the_duration() -> None:
    """A call lasting exactly slow_call_duration is not slow (Resilience4j uses >)."""
    breaker = CircuitBreaker(settings=SMALL)
    for _ in range(5):
        call(breaker, 0.0, duration=1.0)
    assert breaker.state(0.0) is CLOSED
    assert breaker.snapshot(0.0).slow == 0


def test_an_infinite_slow_call_duration_means_never_slow() -> None:
    """slow_call_duration=inf switches slow-call tripping off."""
    config = BreakerSettings(window_size=4, min_calls=4, slow_call_duration=float("inf"))
    breaker = CircuitBreaker(settings=config)
    for _ in range(4):
        call(breaker, 0.0, duration=1e9)
    assert breaker.state(0.0) is CLOSED


def test_count_window_forgets_old_failures() -> None:
    """Only the last window_size calls count: old failures roll out."""
    config = BreakerSettings(window_size=4, min_calls=4, failure_rate=0.75)
    breaker = CircuitBreaker(settings=config)
    for failure in (True, True, False, False, False, False, True, True):
        call(breaker, 0.0, failure=failure)
    assert breaker.state(0.0) is CLOSED
    assert breaker.snapshot(0.0).failures == 2


def test_min_calls_is_capped_by_a_count_window() -> None:
    """min_calls larger than a count window is capped at its size, as in Resilience4j."""
    config = BreakerSettings(window_size=3, min_calls=20)
    assert config.effective_min_calls == 3
    breaker = CircuitBreaker(settings=config)
    trip(breaker)


def test_time_window_forgets_failures_older_than_its_size() -> None:
    """In a time window, failures older than window_size seconds stop counting."""
    config = BreakerSettings(window_type="time", window_size=10, min_calls=4)
    assert config.effective_min_calls == 4
    breaker = CircuitBreaker(settings=config)
    for _ in range(3):
        call(breaker, 0.0, failure=True)
    call(breaker, 11.0, failure=True)
    assert breaker.state(11.0) is CLOSED
    for _ in range(3):
        call(breaker, 12.0, failure=True)
    assert breaker.state(12.0) is OPEN


def test_open_refuses_with_the_time_left() -> None:
    """OPEN refuses every call and says how long until trial calls may go."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker, now=100.0)
    refusal = breaker.acquire(110.0)
    assert refusal == Refusal(state=OPEN, retry_after=20.0)
    assert refusal.reason == "circuit-open"


def test_open_becomes_half_open_once_open_for_has_passed() -> None:
    """After open_for the state reads HALF_OPEN, lazily, with a transition reported."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    breaker.drain_transitions()
    assert breaker.state(29.9) is OPEN
    assert breaker.state(30.0) is HALF_OPEN
    assert breaker.drain_transitions() == [BreakerTransition(OPEN, HALF_OPEN, "open-for-elapsed")]


def test_half_open_lets_exactly_half_open_calls_through() -> None:
    """HALF_OPEN grants half_open_calls trial permits and refuses the rest."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    assert all(p.state is HALF_OPEN for p in trials)
    refusal = breaker.acquire(30.0)
    assert refusal == Refusal(state=HALF_OPEN, retry_after=None)


def test_successful_trials_close_the_breaker_with_a_fresh_window() -> None:
    """Trial calls under the thresholds close the breaker and start a new window."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    breaker.record(trials[0], 31.0, failure=True, duration=0.1)
    breaker.record(trials[1], 31.0, failure=False, duration=0.1)
    assert breaker.state(31.0) is HALF_OPEN
    breaker.record(trials[2], 31.0, failure=False, duration=0.1)
    assert breaker.state(31.0) is CLOSED
    assert breaker.snapshot(31.0).calls == 0
    assert breaker.drain_transitions()[-1] == BreakerTransition(
        HALF_OPEN, CLOSED, "trial-calls-passed"
    )


def test_failing_trials_open_the_breaker_again() -> None:
    """Trial calls at or above the failure threshold reopen it for another open_for."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    for trial, failure in zip(trials, (True, True, False), strict=True):
        breaker.record(trial, 32.0, failure=failure, duration=0.1)
    assert breaker.state(32.0) is OPEN
    assert breaker.drain_transitions()[-1] == BreakerTransition(HALF_OPEN, OPEN, "failure-rate")
    assert breaker.acquire(61.0) == Refusal(state=OPEN, retry_after=1.0)
    assert breaker.state(62.0) is HALF_OPEN


def test_slow_trials_open_the_breaker_again() -> None:
    """Slow trial calls at the slow-call threshold reopen the breaker."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    for trial in trials:
        breaker.record(trial, 35.0, failure=False, duration=5.0)
    assert breaker.state(35.0) is OPEN
    assert breaker.drain_transitions()[-1] == BreakerTransition(HALF_OPEN, OPEN, "slow-call-rate")


def test_release_frees_a_half_open_slot_without_counting() -> None:
    """A trial call with no verdict frees its slot for another trial and is not counted."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    breaker.release(trials[0])
    replacement = permit(breaker, 30.0)
    assert isinstance(breaker.acquire(30.0), Refusal)
    for trial in (trials[1], trials[2], replacement):
        breaker.record(trial, 31.0, failure=False, duration=0.1)
    assert breaker.state(31.0) is CLOSED


def test_a_permit_is_counted_once() -> None:
    """Recording the same half-open permit twice counts one trial."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    trial = permit(breaker, 30.0)
    breaker.record(trial, 31.0, failure=False, duration=0.1)
    breaker.record(trial, 31.0, failure=False, duration=0.1)
    breaker.release(trial)
    assert breaker.state(31.0) is HALF_OPEN
    assert isinstance(breaker.acquire(31.0), Permit)
    assert isinstance(breaker.acquire(31.0), Permit)
    assert isinstance(breaker.acquire(31.0), Refusal)


def test_outcomes_from_an_older_state_do_not_count() -> None:
    """A slow call that started before the breaker opened cannot be a half-open trial."""
    breaker = CircuitBreaker(settings=SMALL)
    straggler = permit(breaker, 0.0)
    trip(breaker)
    trials = [permit(breaker, 30.0) for _ in range(3)]
    breaker.record(straggler, 31.0, failure=True, duration=31.0)
    breaker.release(straggler)
    assert breaker.state(31.0) is HALF_OPEN
    for trial in trials:
        breaker.record(trial, 32.0, failure=False, duration=0.1)
    assert breaker.state(32.0) is CLOSED


def test_a_permit_from_an_earlier_closed_spell_does_not_count_in_a_later_one() -> None:
    """Closed permits are shared within one closed spell; one from before an
    open/half-open cycle is from another spell and changes nothing."""
    breaker = CircuitBreaker(settings=SMALL)
    old = permit(breaker, 0.0)
    assert permit(breaker, 0.0) is old  # one shared permit while closed
    trip(breaker)
    for trial in [permit(breaker, 30.0) for _ in range(3)]:
        breaker.record(trial, 31.0, failure=False, duration=0.1)
    assert breaker.state(31.0) is CLOSED
    fresh = permit(breaker, 31.0)
    assert fresh != old
    for _ in range(4):
        breaker.record(old, 32.0, failure=True, duration=0.1)
    assert breaker.snapshot(32.0).calls == 0
    assert breaker.state(32.0) is CLOSED
    breaker.record(fresh, 32.0, failure=True, duration=0.1)
    assert breaker.snapshot(32.0).calls == 1


def test_outcomes_arriving_while_open_are_ignored() -> None:
    """Calls finishing after the breaker opened do not feed the next window."""
    breaker = CircuitBreaker(settings=SMALL)
    stragglers = [permit(breaker, 0.0) for _ in range(5)]
    trip(breaker)
    for straggler in stragglers:
        breaker.record(straggler, 1.0, failure=True, duration=0.1)
    assert breaker.snapshot(1.0).calls == 0


def test_forced_open_refuses_until_an_operator_closes_it() -> None:
    """FORCED_OPEN refuses with no promised time, even after open_for, until close()."""
    breaker = CircuitBreaker(settings=SMALL)
    breaker.force_open()
    assert breaker.acquire(1_000.0) == Refusal(state=FORCED_OPEN, retry_after=None)
    assert breaker.state(1_000.0) is FORCED_OPEN
    breaker.close()
    assert breaker.state(1_000.0) is CLOSED
    assert breaker.drain_transitions() == [
        BreakerTransition(CLOSED, FORCED_OPEN, "forced-open"),
        BreakerTransition(FORCED_OPEN, CLOSED, "closed-by-operator"),
    ]


def test_disabled_allows_everything_and_records_nothing() -> None:
    """DISABLED grants every call and its outcomes never reach a window."""
    breaker = CircuitBreaker(settings=SMALL)
    breaker.disable()
    for _ in range(50):
        call(breaker, 0.0, failure=True)
    assert breaker.state(0.0) is DISABLED
    breaker.close()
    assert breaker.snapshot(0.0).calls == 0
    assert breaker.state(0.0) is CLOSED


def test_reset_from_open_closes_with_an_empty_window() -> None:
    """reset() takes an open breaker straight back to a fresh CLOSED one."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    breaker.drain_transitions()
    breaker.reset()
    assert breaker.state(1.0) is CLOSED
    assert breaker.drain_transitions() == [BreakerTransition(OPEN, CLOSED, "reset")]


def test_reset_while_closed_clears_the_window_and_in_flight_calls() -> None:
    """reset() on a closed breaker empties its window and ignores calls already under way."""
    breaker = CircuitBreaker(settings=SMALL)
    in_flight = permit(breaker, 0.0)
    for _ in range(3):
        call(breaker, 0.0, failure=True)
    breaker.reset()
    breaker.record(in_flight, 0.0, failure=True, duration=0.1)
    assert breaker.snapshot(0.0).calls == 0
    assert breaker.drain_transitions() == []


def test_operator_actions_are_idempotent() -> None:
    """Forcing open twice, disabling twice or closing a closed breaker reports nothing new."""
    breaker = CircuitBreaker(settings=SMALL)
    breaker.close()
    breaker.force_open()
    breaker.force_open()
    breaker.disable()
    breaker.disable()
    assert [t.new for t in breaker.drain_transitions()] == [FORCED_OPEN, DISABLED]


def test_drain_empties_the_transition_list() -> None:
    """drain_transitions() hands over each transition once."""
    breaker = CircuitBreaker(settings=SMALL)
    trip(breaker)
    assert len(breaker.drain_transitions()) == 1
    assert breaker.drain_transitions() == []


def test_zero_open_for_goes_straight_to_trial_calls() -> None:
    """With open_for 0 the next acquire is already a half-open trial."""
    config = BreakerSettings(window_size=2, min_calls=2, open_for=0.0, half_open_calls=1)
    breaker = CircuitBreaker(settings=config)
    call(breaker, 0.0, failure=True)
    call(breaker, 0.0, failure=True)
    assert permit(breaker, 0.0).state is HALF_OPEN


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_type": "sliding"},
        {"window_size": 0},
        {"window_size": 2.5},
        {"min_calls": 0},
        {"failure_rate": 0.0},
        {"failure_rate": 1.5},
        {"slow_call_rate": 0.0},
        {"slow_call_duration": 0.0},
        {"slow_call_duration": float("nan")},
        {"open_for": -1.0},
        {"half_open_calls": 0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    """Settings that could never trip, or never recover, are refused at construction."""
    with pytest.raises(ValueError, match="circuit_breaker"):
        BreakerSettings(**kwargs)  # type: ignore[arg-type]


# -- property: the state machine under any sequence of events -----------------

AUTOMATIC = {
    (CLOSED, OPEN, "failure-rate"),
    (CLOSED, OPEN, "slow-call-rate"),
    (OPEN, HALF_OPEN, "open-for-elapsed"),
    (HALF_OPEN, OPEN, "failure-rate"),
    (HALF_OPEN, OPEN, "slow-call-rate"),
    (HALF_OPEN, CLOSED, "trial-calls-passed"),
}
OPERATOR_TARGET = {
    "force_open": (FORCED_OPEN, {"forced-open"}),
    "disable": (DISABLED, {"disabled"}),
    "close": (CLOSED, {"closed-by-operator"}),
    "reset": (CLOSED, {"reset"}),
}


@dataclass
class Held:
    permit: Permit
    episode: int


_FINISH = ["success", "failure", "slow", "release"]
# Repeats weight the draw: common events often, each operator action rarely,
# so most sequences reach HALF_OPEN and many leave it again.
_KINDS = ["advance"] * 10 + ["acquire"] * 6 + ["call"] * 10 + ["finish"] * 6
_KINDS += ["force_open", "disable", "close", "reset"]
_op = st.tuples(
    st.sampled_from(_KINDS),
    st.integers(0, 7),
    st.sampled_from(["failure", "failure", "slow", "success", "release"]),
    st.sampled_from([0.0, 0.3, 1.0, 5.0, 5.0, 11.0]),
)


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(_op, min_size=10, max_size=60),
    window_type=st.sampled_from(["count", "time"]),
    half_open_calls=st.integers(min_value=1, max_value=3),
)
def test_breaker_state_machine_invariants(
    ops: list[tuple[str, int, str, float]], window_type: str, half_open_calls: int
) -> None:
    """Under any event sequence, trial permits stay bounded, open never grants, transitions are legal."""
    config = BreakerSettings(
        window_type=window_type,  # type: ignore[arg-type]
        window_size=4,
        min_calls=2,
        failure_rate=0.5,
        slow_call_duration=1.0,
        slow_call_rate=0.5,
        open_for=5.0,
        half_open_calls=half_open_calls,
    )
    breaker = CircuitBreaker(settings=config)
    now = 0.0
    known = CLOSED
    episode = 0  # bumped on every transition
    held: list[Held] = []
    trial_granted = 0  # trial permits granted in this HALF_OPEN episode ...
    trial_released = 0  # ... and handed back without a verdict
    seen: set[BreakerState] = set()

    def check_transitions(operator: str | None) -> None:
        nonlocal known, episode, trial_granted, trial_released
        for old, new, cause in breaker.drain_transitions():
            assert old is known, (old, known)
            assert old is not new
            if operator is None:
                assert (old, new, cause) in AUTOMATIC
            else:
                target, causes = OPERATOR_TARGET[operator]
                assert new is target
                assert cause in causes
            known = new
            episode += 1
            trial_granted = 0
            trial_released = 0

    def acquire() -> Permit | None:
        nonlocal trial_granted
        before = breaker.state(now)
        check_transitions(None)
        answer = breaker.acquire(now)
        check_transitions(None)
        if isinstance(answer, Refusal):
            assert answer.state is before
            if before is OPEN:
                assert answer.retry_after is not None
                assert 0.0 < answer.retry_after <= config.open_for
            return None
        assert before not in (OPEN, FORCED_OPEN)
        assert answer.state is before is known
        if answer.state is HALF_OPEN:
            trial_granted += 1
        return answer

    def finish(item: Held, kind: str) -> None:
        nonlocal trial_released
        if kind == "release":
            breaker.release(item.permit)
            if item.episode == episode and known is HALF_OPEN:
                trial_released += 1
        else:
            breaker.record(
                item.permit,
                now,
                failure=kind == "failure",
                duration=2.0 if kind == "slow" else 0.1,
            )
        check_transitions(None)

    for name, count, kind, step in ops:
        if name == "advance":
            now += step
        elif name == "acquire":
            for _ in range(1 + count % 4):
                answer = acquire()
                if answer is not None:
                    held.append(Held(answer, episode))
        elif name == "call":
            for _ in range(1 + count % 4):
                answer = acquire()
                if answer is not None:
                    finish(Held(answer, episode), kind)
        elif name == "finish":
            if held:
                finish(held.pop(count % len(held)), kind)
        else:
            getattr(breaker, name)()
            check_transitions(name)
        assert breaker.state(now) is known or known is OPEN
        check_transitions(None)
        assert breaker.state(now) is known
        seen.add(known)
        if known is HALF_OPEN:
            outstanding = sum(
                1 for h in held if h.episode == episode and h.permit.state is HALF_OPEN
            )
            assert outstanding <= config.half_open_calls
            assert trial_granted - trial_released <= config.half_open_calls
    for state in seen:
        event(f"reached {state.value}")
