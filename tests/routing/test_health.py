"""Tests for seawall.routing._health."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.routing import (
    HealthBoard,
    HealthTransition,
    OutlierSettings,
    ProviderHealth,
    ProviderStatus,
)

HEALTHY = ProviderStatus.HEALTHY
EJECTED = ProviderStatus.EJECTED
PROBE_DOWN = ProviderStatus.PROBE_DOWN
RECOVERING = ProviderStatus.RECOVERING

FAST = OutlierSettings(
    consecutive_failures=3,
    failure_rate=0.5,
    min_calls=4,
    interval=10.0,
    base_ejection=30.0,
    max_ejection=100.0,
    max_ejected_fraction=0.5,
    healthy_for=20.0,
    probe_unhealthy_after=2,
    probe_healthy_after=2,
)


def fail(board: HealthBoard, name: str, times: int, now: float) -> None:
    for _ in range(times):
        board.record(name, ok=False, now=now)


def test_defaults_follow_envoy_and_the_brief() -> None:
    """Defaults: 5 consecutive failures, 50% over 10 calls in 10 s, 30 s doubling to 300 s."""
    assert OutlierSettings() == OutlierSettings(
        consecutive_failures=5,
        failure_rate=0.5,
        min_calls=10,
        interval=10.0,
        base_ejection=30.0,
        max_ejection=300.0,
        max_ejected_fraction=0.5,
        healthy_for=10.0,
        probe_unhealthy_after=2,
        probe_healthy_after=2,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consecutive_failures": 0}, "consecutive_failures"),
        ({"failure_rate": 0.0}, "failure_rate"),
        ({"max_ejected_fraction": 1.5}, "max_ejected_fraction"),
        ({"interval": 0.0}, "interval"),
        ({"base_ejection": 60.0, "max_ejection": 30.0}, "max_ejection"),
        ({"healthy_for": -1.0}, "healthy_for"),
        ({"probe_healthy_after": 0}, "probe_healthy_after"),
    ],
)
def test_settings_reject_nonsense(changes: dict[str, float], message: str) -> None:
    """Each invalid setting is refused with its name in the message."""
    with pytest.raises(ValueError, match=message):
        OutlierSettings(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fraction", "providers", "limit"),
    [(0.5, 1, 1), (0.5, 2, 1), (0.5, 3, 1), (0.5, 4, 2), (0.3, 10, 3), (0.1, 3, 1), (1.0, 3, 3)],
)
def test_ejection_limit_is_the_fraction_but_at_least_one(
    fraction: float, providers: int, limit: int
) -> None:
    """The limit is floor(fraction x n), at least one host, as Envoy ejects at least one."""
    assert OutlierSettings(max_ejected_fraction=fraction).ejection_limit(providers) == limit


def test_zero_fraction_turns_passive_ejection_off() -> None:
    """max_ejected_fraction 0 means outlier detection never ejects."""
    board = HealthBoard(["a", "b"], settings=OutlierSettings(max_ejected_fraction=0.0))
    fail(board, "a", 50, 0.0)
    assert board.available(0.0) == {"a", "b"}


def test_consecutive_failures_eject_at_the_threshold_not_before() -> None:
    """N-1 failures in a row leave the provider in; the N-th ejects it."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 2, 0.0)
    assert board.status("a", 0.0) is HEALTHY
    board.record("a", ok=False, now=0.0)
    assert board.status("a", 0.0) is EJECTED
    assert board.available(0.0) == {"b"}
    assert board.drain_transitions() == [
        HealthTransition("a", HEALTHY, EJECTED, "consecutive-failures")
    ]


def test_a_success_breaks_the_run_of_failures() -> None:
    """A success resets the consecutive count."""
    board = HealthBoard(["a", "b"], settings=OutlierSettings(consecutive_failures=3, min_calls=100))
    for _ in range(5):
        fail(board, "a", 2, 0.0)
        board.record("a", ok=True, now=0.0)
    assert board.status("a", 0.0) is HEALTHY


def test_failure_rate_ejects_once_min_calls_are_in_the_window() -> None:
    """A failure rate at or above the threshold over min_calls calls in one interval ejects."""
    board = HealthBoard(["a", "b"], settings=FAST)
    for ok in (True, False, True):
        board.record("a", ok=ok, now=1.0)
    assert board.status("a", 1.0) is HEALTHY  # 1 of 3: below min_calls
    board.record("a", ok=False, now=2.0)  # 2 of 4 = 50%
    assert board.status("a", 2.0) is EJECTED
    assert board.drain_transitions()[-1].reason == "failure-rate"


def test_failure_rate_window_starts_afresh_after_the_interval() -> None:
    """Calls from an earlier interval do not count towards the failure rate."""
    board = HealthBoard(["a", "b"], settings=FAST)
    board.record("a", ok=False, now=0.0)
    board.record("a", ok=True, now=0.0)
    board.record("a", ok=False, now=11.0)  # new window: 1 call
    board.record("a", ok=True, now=11.0)
    board.record("a", ok=True, now=11.0)
    assert board.status("a", 11.0) is HEALTHY
    assert board.health("a", 11.0).window_calls == 3


def test_ejection_lasts_exactly_base_ejection_for_unprobed_providers() -> None:
    """An unprobed provider comes back exactly when its ejection ends, not a moment before."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 100.0)
    assert board.health("a", 100.0).ejected_until == 130.0
    assert board.status("a", 129.999) is EJECTED
    assert board.status("a", 130.0) is HEALTHY
    assert board.drain_transitions()[-1] == HealthTransition(
        "a", EJECTED, HEALTHY, "ejection-expired"
    )


def test_ejection_time_grows_with_each_ejection_up_to_the_cap() -> None:
    """The n-th ejection lasts base x n seconds, never more than max_ejection."""
    board = HealthBoard(["a", "b"], settings=FAST)
    now = 0.0
    lengths = []
    for _ in range(5):
        fail(board, "a", 3, now)
        until = board.health("a", now).ejected_until
        assert until is not None
        lengths.append(until - now)
        now = until
    assert lengths == [30.0, 60.0, 90.0, 100.0, 100.0]


def test_ejection_multiplier_decays_one_level_per_max_ejection_of_health() -> None:
    """Each max_ejection seconds of clean operation forgives one ejection level."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 0.0)  # level 1, back at 30
    fail(board, "a", 3, 30.0)  # level 2, back at 90
    assert board.status("a", 90.0) is HEALTHY
    assert board.health("a", 189.0).ejections == 2
    assert board.health("a", 190.0).ejections == 1  # 100 s clean
    fail(board, "a", 3, 200.0)
    assert board.health("a", 200.0).ejected_until == 260.0  # level 2 again: 60 s
    assert board.health("a", 260.0 + 200.0).ejections == 0


def test_never_ejects_more_than_the_allowed_fraction() -> None:
    """With two providers only one may be out; the other is ejected once the first is back."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 0.0)
    fail(board, "b", 10, 1.0)
    assert board.status("b", 1.0) is HEALTHY
    board.record("b", ok=False, now=31.0)  # a is back at 30; the run of failures still counts
    assert board.status("a", 31.0) is HEALTHY
    assert board.status("b", 31.0) is EJECTED


def test_a_single_provider_can_be_ejected() -> None:
    """One provider alone may still be ejected (at least one, as Envoy); panic mode still tries it."""
    board = HealthBoard(["only"], settings=FAST)
    fail(board, "only", 3, 0.0)
    assert board.available(0.0) == frozenset()


def test_probed_provider_waits_for_healthy_for_of_passing_probes() -> None:
    """After its ejection a probed provider recovers, returning only after healthy_for of passing probes."""
    board = HealthBoard(["a", "b"], settings=FAST, probed=["a"])
    fail(board, "a", 3, 0.0)  # ejected until 30
    board.probe("a", ok=True, now=25.0)
    assert board.status("a", 30.0) is RECOVERING
    assert board.status("a", 44.9) is RECOVERING
    assert board.status("a", 45.0) is HEALTHY  # 25 + healthy_for
    assert [t.reason for t in board.drain_transitions()] == [
        "consecutive-failures",
        "ejection-expired",
        "healthy-period-passed",
    ]


def test_probes_passing_long_enough_during_ejection_bring_it_straight_back() -> None:
    """If probes already passed for healthy_for when the ejection ends, it is HEALTHY at once."""
    board = HealthBoard(["a", "b"], settings=FAST, probed=["a"])
    fail(board, "a", 3, 0.0)
    board.probe("a", ok=True, now=5.0)
    assert board.status("a", 30.0) is HEALTHY
    assert board.drain_transitions()[-1] == HealthTransition(
        "a", EJECTED, HEALTHY, "ejection-expired"
    )


def test_a_probe_failure_while_recovering_restarts_the_clock() -> None:
    """One failed probe during the healthy period restarts it from the next passing probe."""
    board = HealthBoard(["a", "b"], settings=FAST, probed=["a"])
    fail(board, "a", 3, 0.0)
    board.probe("a", ok=True, now=30.0)
    board.probe("a", ok=False, now=40.0)  # one failure: not down, but the clock restarts
    assert board.status("a", 40.0) is RECOVERING
    board.probe("a", ok=True, now=45.0)
    assert board.status("a", 64.0) is RECOVERING
    assert board.status("a", 65.0) is HEALTHY


def test_panic_mode_failure_while_recovering_restarts_the_clock() -> None:
    """A failed real call to a recovering provider (panic mode) also restarts the healthy period."""
    board = HealthBoard(["a", "b"], settings=FAST, probed=["a"])
    fail(board, "a", 3, 0.0)
    board.probe("a", ok=True, now=30.0)
    board.record("a", ok=False, now=40.0)
    board.record("a", ok=True, now=41.0)  # a success proves nothing
    assert board.status("a", 55.0) is RECOVERING
    board.probe("a", ok=True, now=50.0)
    assert board.status("a", 70.0) is HEALTHY


def test_probes_mark_down_and_up_with_hysteresis() -> None:
    """probe_unhealthy_after failures mark a provider down; probe_healthy_after passes bring it up."""
    board = HealthBoard(["a", "b"], settings=FAST)
    board.probe("a", ok=False, now=0.0)
    assert board.status("a", 0.0) is HEALTHY
    board.probe("a", ok=False, now=10.0)
    assert board.status("a", 10.0) is PROBE_DOWN
    board.probe("a", ok=True, now=20.0)
    assert board.status("a", 20.0) is PROBE_DOWN
    board.probe("a", ok=True, now=30.0)
    assert board.status("a", 30.0) is RECOVERING  # passing since 20; healthy_for is 20
    board.probe("a", ok=True, now=40.0)
    assert board.status("a", 40.0) is HEALTHY
    assert [(t.new, t.reason) for t in board.drain_transitions()] == [
        (PROBE_DOWN, "probe-failed"),
        (RECOVERING, "probe-recovered"),
        (HEALTHY, "healthy-period-passed"),
    ]


def test_probe_down_is_not_limited_by_the_ejection_fraction() -> None:
    """Active probes may take every provider down; only passive ejection is capped."""
    board = HealthBoard(["a", "b"], settings=FAST)
    for name in ("a", "b"):
        board.probe(name, ok=False, now=0.0)
        board.probe(name, ok=False, now=1.0)
    assert board.available(1.0) == frozenset()


def test_ejection_that_ends_while_probes_fail_leaves_it_probe_down() -> None:
    """An ejection ending while probes say down moves the provider to PROBE_DOWN."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 0.0)
    board.probe("a", ok=False, now=10.0)
    board.probe("a", ok=False, now=20.0)
    assert board.status("a", 20.0) is EJECTED
    assert board.status("a", 30.0) is PROBE_DOWN
    assert board.drain_transitions()[-1] == HealthTransition(
        "a", EJECTED, PROBE_DOWN, "ejection-expired"
    )


def test_ejected_providers_ignore_real_traffic_outcomes() -> None:
    """Calls to an ejected provider (panic mode) neither extend nor end its ejection."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 0.0)
    fail(board, "a", 10, 5.0)
    board.record("a", ok=True, now=6.0)
    assert board.health("a", 6.0).ejected_until == 30.0
    assert board.status("a", 30.0) is HEALTHY


def test_operator_eject_and_restore() -> None:
    """An operator can eject beyond the limit, for any time, and restore with a clean slate."""
    board = HealthBoard(["a", "b"], settings=FAST)
    board.eject("a", 0.0, seconds=math.inf, reason="vendor-incident")
    board.eject("b", 0.0, seconds=60.0)
    assert board.available(59.0) == frozenset()
    assert board.available(60.0) == {"b"}
    assert board.status("a", 100.0) is EJECTED
    board.restore("a", 100.0)
    assert board.status("a", 100.0) is HEALTHY
    assert [(t.name, t.new, t.reason) for t in board.drain_transitions()] == [
        ("a", EJECTED, "vendor-incident"),
        ("b", EJECTED, "ejected-by-operator"),
        ("b", HEALTHY, "ejection-expired"),
        ("a", HEALTHY, "restored-by-operator"),
    ]
    with pytest.raises(ValueError, match="positive"):
        board.eject("a", 0.0, seconds=0.0)


def test_drain_transitions_empties_the_queue() -> None:
    """A second drain returns nothing new."""
    board = HealthBoard(["a", "b"], settings=FAST)
    fail(board, "a", 3, 0.0)
    assert len(board.drain_transitions()) == 1
    assert board.drain_transitions() == []


def test_health_snapshot_reports_the_counts() -> None:
    """health() reports status, ejection end, multiplier, counts and probe facts."""
    board = HealthBoard(["a", "b"], settings=FAST, probed=["b"])
    board.record("a", ok=False, now=1.0)
    board.record("a", ok=True, now=2.0)
    board.record("a", ok=False, now=3.0)
    assert board.health("a", 3.0) == ProviderHealth(
        name="a",
        status=HEALTHY,
        ejected_until=None,
        ejections=0,
        consecutive_failures=1,
        window_calls=3,
        window_failures=2,
        probed=False,
        probe_down=False,
        passing_since=None,
    )
    assert board.health("b", 3.0).probed


def test_unknown_and_duplicate_names_are_refused() -> None:
    """Unknown providers are a KeyError naming the known ones; bad construction a ValueError."""
    board = HealthBoard(["a"], settings=FAST)
    with pytest.raises(KeyError, match="'zzz'"):
        board.record("zzz", ok=True, now=0.0)
    with pytest.raises(ValueError, match="once"):
        HealthBoard(["a", "a"])
    with pytest.raises(ValueError, match="probed"):
        HealthBoard(["a"], probed=["b"])
    with pytest.raises(ValueError, match="at least one"):
        HealthBoard([])


# -- properties ---------------------------------------------------------------------

PROVIDERS = ["p0", "p1", "p2", "p3", "p4"]

operation = st.tuples(
    st.floats(0.0, 25.0),  # time step
    st.sampled_from(["ok", "fail", "probe-ok", "probe-fail"]),
    st.integers(0, len(PROVIDERS) - 1),
)


@dataclass
class Model:
    """What the property test remembers about one provider."""

    ejected_until: float = -math.inf
    probed: bool = False
    passing_since: float | None = None
    out: bool = False


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(1, 5),
    fraction=st.sampled_from([0.0, 0.2, 0.5, 1.0]),
    healthy_for=st.sampled_from([0.0, 15.0, 40.0]),
    probed=st.sets(st.integers(0, 4)),
    operations=st.lists(operation, max_size=120),
)
def test_failback_and_ejection_limit_hold_under_any_traffic(
    count: int,
    fraction: float,
    healthy_for: float,
    probed: set[int],
    operations: list[tuple[float, str, int]],
) -> None:
    """Never more than the limit ejected; nobody back before its ejection ends or healthy_for of passing probes."""
    names = PROVIDERS[:count]
    settings_ = OutlierSettings(
        consecutive_failures=3,
        min_calls=4,
        base_ejection=10.0,
        max_ejection=60.0,
        max_ejected_fraction=fraction,
        healthy_for=healthy_for,
    )
    board = HealthBoard(names, settings=settings_, probed=[names[i] for i in probed if i < count])
    models = {name: Model(probed=board.health(name, 0.0).probed) for name in names}
    limit = 0 if fraction == 0 else max(1, math.floor(fraction * count + 1e-9))
    now = 0.0
    for step, kind, index in operations:
        now += step
        available = board.available(now)
        for name in names:
            model = models[name]
            if name in available and model.out:
                # Back in traffic: the ejection is over and, if probed, probes passed long enough.
                assert now >= model.ejected_until, (name, now, model)
                if model.probed:
                    assert model.passing_since is not None, (name, now, model)
                    assert now >= model.passing_since + healthy_for, (name, now, model)
                model.out = False
            elif name not in available:
                model.out = True
        name = names[index % count]
        model = models[name]
        if kind in ("ok", "fail"):
            was = board.status(name, now)
            board.record(name, ok=kind == "ok", now=now)
            if kind == "fail" and was is not HEALTHY:
                model.passing_since = None
            if board.status(name, now) is EJECTED and was is not EJECTED:
                until = board.health(name, now).ejected_until
                assert until is not None
                model.ejected_until = until
                model.passing_since = None
        else:
            model.probed = True
            board.probe(name, ok=kind == "probe-ok", now=now)
            if kind == "probe-ok":
                if model.passing_since is None:
                    model.passing_since = now
            else:
                model.passing_since = None
        if board.status(name, now) is not HEALTHY:
            model.out = True
        ejected = [n for n in names if board.status(n, now) is EJECTED]
        assert len(ejected) <= limit, (ejected, limit)
