"""Tests for seawall.routing._strategies."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.routing import (
    FailoverStrategy,
    LeastLatencyStrategy,
    RoutingStrategy,
    WeightedStrategy,
    build_strategy,
)

NAMES = ["p0", "p1", "p2", "p3", "p4", "p5"]


def reference_swrr(
    weights: dict[str, int], current: dict[str, int], available: set[str]
) -> str | None:
    """nginx's ngx_http_upstream_get_peer loop, transcribed as literally as possible."""
    best = None
    total = 0
    for name, weight in weights.items():
        if name not in available or weight == 0:
            continue
        current[name] += weight
        total += weight
        if best is None or current[name] > current[best]:
            best = name
    if best is not None:
        current[best] -= total
    return best


# -- failover -------------------------------------------------------------------


def test_failover_puts_available_providers_first_in_priority_order() -> None:
    """Failover tries available providers in priority order, then the rest in priority order."""
    strategy = FailoverStrategy(["stripe", "adyen", "braintree"])
    assert strategy.order({"stripe", "adyen", "braintree"}) == ["stripe", "adyen", "braintree"]
    assert strategy.order({"adyen", "braintree"}) == ["adyen", "braintree", "stripe"]
    assert strategy.order({"braintree"}) == ["braintree", "stripe", "adyen"]


def test_failover_with_nothing_available_still_orders_everyone() -> None:
    """With every provider out, the order is the priority order (panic mode), never empty."""
    strategy = FailoverStrategy(["stripe", "adyen"])
    assert strategy.order(set()) == ["stripe", "adyen"]


def test_failover_ignores_names_it_does_not_know() -> None:
    """Available names that are not providers of the integration are not invented into the order."""
    assert FailoverStrategy(["a", "b"]).order({"b", "zzz"}) == ["b", "a"]


@pytest.mark.parametrize("providers", [[], ["a", "a"]])
def test_failover_rejects_empty_or_duplicate_providers(providers: list[str]) -> None:
    """A provider list must be non-empty and name each provider once."""
    with pytest.raises(ValueError, match="failover routing"):
        FailoverStrategy(providers)


def test_failover_start_and_finish_are_harmless() -> None:
    """start/finish exist on failover (one protocol for the engine) and change nothing."""
    strategy: RoutingStrategy = FailoverStrategy(["a", "b"])
    strategy.start("a")
    strategy.finish("a", 3.0, 1.0, ok=False)
    assert strategy.order({"a", "b"}, 2.0) == ["a", "b"]


@settings(max_examples=200, deadline=None)
@given(
    providers=st.lists(st.sampled_from(NAMES), min_size=1, unique=True),
    available=st.sets(st.sampled_from([*NAMES, "stranger"])),
)
def test_failover_order_is_a_permutation_with_available_first(
    providers: list[str], available: set[str]
) -> None:
    """Failover's order is every provider exactly once, available ones first, each part in priority order."""
    order = FailoverStrategy(providers).order(available)
    assert sorted(order) == sorted(providers)
    head = [name for name in providers if name in available]
    tail = [name for name in providers if name not in available]
    assert order == head + tail


# -- weighted -------------------------------------------------------------------


def test_weighted_follows_nginx_smooth_sequence() -> None:
    """{a:5, b:1, c:1} starts a a b a c a a, nginx's smooth weighted round-robin."""
    strategy = WeightedStrategy({"a": 5, "b": 1, "c": 1})
    picks = [strategy.order({"a", "b", "c"})[0] for _ in range(100)]
    assert picks[:7] == ["a", "a", "b", "a", "c", "a", "a"]
    assert picks == (["a", "a", "b", "a", "c", "a", "a"] * 15)[:100]
    assert Counter(picks[:98]) == {"a": 70, "b": 14, "c": 14}
    assert Counter(picks) == {"a": 72, "b": 14, "c": 14}


def test_weighted_order_lists_others_by_weight_then_unavailable() -> None:
    """After the pick come the other available providers by weight, then the unavailable ones."""
    strategy = WeightedStrategy({"light": 1, "heavy": 5, "zero": 0, "mid": 3, "gone": 9})
    order = strategy.order({"light", "heavy", "zero", "mid"})
    assert order == ["heavy", "mid", "light", "zero", "gone"]


def test_weighted_only_available_providers_take_turns() -> None:
    """An unavailable provider takes no turns; the remaining ones share by their weights."""
    strategy = WeightedStrategy({"a": 5, "b": 1, "c": 1})
    picks = [strategy.order({"b", "c"})[0] for _ in range(6)]
    assert picks == ["b", "c", "b", "c", "b", "c"]


def test_weighted_current_weights_persist_while_a_provider_is_out() -> None:
    """A provider's current weight is frozen while it is out and resumes when it is back."""
    strategy = WeightedStrategy({"a": 5, "b": 1, "c": 1})
    weights = {"a": 5, "b": 1, "c": 1}
    current = dict.fromkeys(weights, 0)
    for available in [{"a", "b", "c"}, {"b", "c"}, {"b", "c"}, {"a", "b", "c"}, {"a", "c"}] * 3:
        assert strategy.order(available)[0] == reference_swrr(weights, current, available)


def test_weighted_with_only_zero_weights_available_uses_config_order() -> None:
    """With no weighted provider available, zero-weight ones are still offered, in config order."""
    strategy = WeightedStrategy({"a": 3, "z1": 0, "z2": 0})
    assert strategy.order({"z1", "z2"}) == ["z1", "z2", "a"]


def test_weighted_with_nothing_available_orders_everyone_in_config_order() -> None:
    """With every provider out, weighted routing still lists them all (panic mode)."""
    strategy = WeightedStrategy({"a": 3, "b": 1})
    assert strategy.order(set()) == ["a", "b"]


def test_weighted_rejects_negative_weights() -> None:
    """A negative weight is refused with the provider's name."""
    with pytest.raises(ValueError, match="'b' has weight -1"):
        WeightedStrategy({"a": 1, "b": -1})


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(0, 12), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
    rounds=st.integers(1, 4),
)
def test_weighted_proportions_are_exact_over_whole_rounds(weights: list[int], rounds: int) -> None:
    """Over sum(weights) x k picks, each provider is picked exactly weight x k times."""
    table = {f"p{i}": weight for i, weight in enumerate(weights)}
    strategy = WeightedStrategy(table)
    picks = Counter(strategy.order(set(table))[0] for _ in range(sum(weights) * rounds))
    assert picks == Counter({name: weight * rounds for name, weight in table.items() if weight})


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(0, 9), min_size=1, max_size=5),
    availability=st.lists(st.sets(st.integers(0, 4)), min_size=1, max_size=40),
)
def test_weighted_matches_nginx_under_changing_availability(
    weights: list[int], availability: list[set[int]]
) -> None:
    """Pick by pick, the strategy agrees with a literal transcription of nginx's loop."""
    table = {f"p{i}": weight for i, weight in enumerate(weights)}
    current = dict.fromkeys(table, 0)
    strategy = WeightedStrategy(table)
    for indexes in availability:
        available = {f"p{i}" for i in indexes if i < len(weights)}
        expected = reference_swrr(table, current, available)
        order = strategy.order(available)
        assert sorted(order) == sorted(table)
        if expected is not None:
            assert order[0] == expected


# -- least latency ------------------------------------------------------------------


def strategy_ll(*names: str, seed: int = 7, **kwargs: float) -> LeastLatencyStrategy:
    return LeastLatencyStrategy(list(names), rng=random.Random(seed), **kwargs)


def test_least_latency_cost_is_latency_times_outstanding_plus_one() -> None:
    """cost = latency estimate x (outstanding + 1); unknown providers start at initial_latency."""
    strategy = strategy_ll("eu", "us", initial_latency=0.2)
    assert strategy.cost("eu", 0.0) == pytest.approx(0.2)
    strategy.start("eu")
    strategy.start("eu")
    assert strategy.outstanding("eu") == 2
    assert strategy.cost("eu", 0.0) == pytest.approx(0.6)
    strategy.finish("eu", 0.4, 1.0, ok=True)
    assert strategy.outstanding("eu") == 1
    assert strategy.cost("eu", 1.0) == pytest.approx(0.8)


def test_least_latency_peak_replaces_and_lower_samples_blend_by_half_life() -> None:
    """A slower sample replaces the estimate; a faster one blends with weight 2^(-dt/half_life)."""
    strategy = strategy_ll("eu", half_life=10.0)
    strategy.finish("eu", 0.5, 0.0, ok=True)
    assert strategy.latency("eu", 0.0) == pytest.approx(0.5)
    strategy.finish("eu", 0.9, 1.0, ok=True)
    assert strategy.latency("eu", 1.0) == pytest.approx(0.9)
    strategy.finish("eu", 0.1, 11.0, ok=True)  # dt = one half-life: halfway
    assert strategy.latency("eu", 11.0) == pytest.approx(0.5)


def test_least_latency_estimate_decays_towards_zero_when_idle() -> None:
    """Without samples the estimate halves every half-life, so a once-slow provider is tried again."""
    strategy = strategy_ll("eu", half_life=10.0)
    strategy.finish("eu", 0.8, 0.0, ok=True)
    assert strategy.latency("eu", 10.0) == pytest.approx(0.4)
    assert strategy.latency("eu", 30.0) == pytest.approx(0.1)


def test_least_latency_failure_counts_as_at_least_the_penalty() -> None:
    """A failed attempt counts as max(latency, failure_penalty): failing fast never looks fast."""
    strategy = strategy_ll("eu", "us")
    strategy.finish("eu", 0.01, 0.0, ok=False)
    assert strategy.latency("eu", 0.0) == pytest.approx(1.0)
    strategy.finish("us", 2.5, 0.0, ok=False)
    assert strategy.latency("us", 0.0) == pytest.approx(2.5)


def test_least_latency_finish_without_start_never_goes_negative() -> None:
    """A finish without its start leaves outstanding at zero."""
    strategy = strategy_ll("eu")
    strategy.finish("eu", 0.1, 0.0, ok=True)
    assert strategy.outstanding("eu") == 0


def test_least_latency_single_available_provider_comes_first() -> None:
    """With one available provider it is first, before any cheaper unavailable one."""
    strategy = strategy_ll("eu", "us", "ap")
    strategy.finish("eu", 5.0, 0.0, ok=True)
    assert strategy.order({"eu"}, 0.0) == ["eu", "us", "ap"]


def test_least_latency_two_choices_put_the_cheaper_first() -> None:
    """With two providers the cheaper one is always first."""
    strategy = strategy_ll("eu", "us")
    strategy.finish("eu", 0.9, 0.0, ok=True)
    strategy.finish("us", 0.1, 0.0, ok=True)
    for _ in range(20):
        assert strategy.order({"eu", "us"}, 0.0) == ["us", "eu"]


def test_least_latency_never_leads_with_the_most_expensive_of_several() -> None:
    """Power of two choices never puts the single most expensive provider first, and spreads the rest."""
    strategy = strategy_ll("a", "b", "c", "d")
    for name, latency in (("a", 0.1), ("b", 0.2), ("c", 0.3), ("d", 3.0)):
        strategy.finish(name, latency, 0.0, ok=True)
    firsts = Counter(strategy.order({"a", "b", "c", "d"}, 0.0)[0] for _ in range(600))
    assert "d" not in firsts
    # P(first = a) = 1/2, b = 1/3, c = 1/6 for two distinct uniform samples.
    assert firsts["a"] > firsts["b"] > firsts["c"] > 0


def test_least_latency_orders_the_rest_by_cost_then_unavailable() -> None:
    """After the two choices come the other available providers by cost, then the unavailable ones."""
    strategy = strategy_ll("a", "b", "c", "d", "e")
    for name, latency in (("a", 0.4), ("b", 0.3), ("c", 0.2), ("d", 0.1), ("e", 0.05)):
        strategy.finish(name, latency, 0.0, ok=True)
    for _ in range(50):
        order = strategy.order({"a", "b", "c", "d"}, 0.0)
        assert order[-1] == "e"
        two, rest = order[:2], order[2:4]
        costs = {name: strategy.cost(name, 0.0) for name in "abcd"}
        assert costs[two[0]] <= costs[two[1]]
        assert [costs[name] for name in rest] == sorted(costs[name] for name in rest)


def test_least_latency_outstanding_requests_steer_traffic_away() -> None:
    """A provider with many attempts in flight costs more than an idle, slightly slower one."""
    strategy = strategy_ll("eu", "us")
    strategy.finish("eu", 0.1, 0.0, ok=True)
    strategy.finish("us", 0.15, 0.0, ok=True)
    for _ in range(3):
        strategy.start("eu")
    assert strategy.order({"eu", "us"}, 0.0)[0] == "us"


def test_least_latency_same_seed_same_order() -> None:
    """The order depends only on the injected random generator and the samples."""
    orders = []
    for _ in range(2):
        strategy = strategy_ll("a", "b", "c", seed=42)
        orders.append([tuple(strategy.order({"a", "b", "c"}, 0.0)) for _ in range(30)])
    assert orders[0] == orders[1]


def test_least_latency_rejects_unknown_names_and_bad_settings() -> None:
    """Unknown providers are a KeyError; non-positive settings a ValueError."""
    strategy = strategy_ll("eu")
    with pytest.raises(KeyError, match="'nowhere'"):
        strategy.start("nowhere")
    with pytest.raises(ValueError, match="half_life"):
        strategy_ll("eu", half_life=0.0)


# -- build_strategy -----------------------------------------------------------------


def test_build_strategy_makes_each_kind() -> None:
    """build_strategy maps routing: failover|weighted|least-latency to its strategy."""
    providers = [("stripe", 1), ("adyen", 3)]
    rng = random.Random(1)
    assert isinstance(build_strategy("failover", providers, rng=rng), FailoverStrategy)
    weighted = build_strategy("weighted", providers, rng=rng)
    assert isinstance(weighted, WeightedStrategy)
    assert weighted.weights == {"stripe": 1, "adyen": 3}
    least = build_strategy("least-latency", providers, rng=rng)
    assert isinstance(least, LeastLatencyStrategy)
    assert least.providers == ("stripe", "adyen")


def test_build_strategy_rejects_unknown_kinds_and_duplicates() -> None:
    """An unknown routing kind, or a provider listed twice, is refused."""
    with pytest.raises(ValueError, match="round-robin"):
        build_strategy("round-robin", [("a", 1)], rng=random.Random())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="listed twice"):
        build_strategy("weighted", [("a", 1), ("a", 2)], rng=random.Random())
