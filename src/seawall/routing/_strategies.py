"""Which provider of an integration to try first: failover, weighted, least latency.

A strategy never decides *whether* a provider may be used: the engine passes
the set it considers ``available`` (healthy per :class:`HealthBoard`, outside
maintenance per :class:`MaintenanceCalendar`), and the strategy answers with
an ordering of *every* provider: the available ones in the strategy's order,
then the unavailable ones in priority order. The engine tries them in that
order as far as its deadline, retry and failover budgets allow.

Putting the unavailable providers last instead of dropping them is Envoy's
"panic mode" (envoyproxy.io, arch overview, load balancing, panic threshold):
when health checking has taken every provider out, trying them anyway beats
refusing every call, because health information may be stale or wrong, and a
provider that is down gives the same 503 the engine would have given itself.
The engine decides whether to go past the available ones (a payment may
prefer a clear refusal); the strategy only orders.

Strategies are pure: no clock reads (``now`` is passed in, monotonic seconds)
and randomness only through an injected :class:`random.Random`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence
from typing import Literal, Protocol

__all__ = [
    "FailoverStrategy",
    "LeastLatencyStrategy",
    "RoutingKind",
    "RoutingStrategy",
    "WeightedStrategy",
    "build_strategy",
]

RoutingKind = Literal["failover", "weighted", "least-latency"]


class RoutingStrategy(Protocol):
    """What the engine needs of a strategy.

    Call order for one call: ``order(available, now)`` once, then for each
    provider actually tried ``start(name)`` before sending and exactly one
    ``finish(name, latency, now, ok=...)`` when the attempt ends (also when it
    is cancelled: pass ``ok=False``). Only :class:`LeastLatencyStrategy` uses
    ``start``/``finish``; the others accept and ignore them.
    """

    @property
    def providers(self) -> tuple[str, ...]:
        """Every provider, in priority order."""
        ...

    def order(self, available: Collection[str], now: float) -> list[str]:
        """Every provider, the ones to try first first (see the module docstring)."""
        ...

    def start(self, name: str) -> None:
        """An attempt on ``name`` is about to be sent."""
        ...

    def finish(self, name: str, latency: float, now: float, *, ok: bool) -> None:
        """The attempt on ``name`` ended at ``now`` after ``latency`` seconds."""
        ...


def _check_names(names: Sequence[str], what: str) -> tuple[str, ...]:
    providers = tuple(names)
    if not providers:
        msg = f"{what} needs at least one provider"
        raise ValueError(msg)
    seen: set[str] = set()
    for name in providers:
        if name in seen:
            msg = f"{what}: provider {name!r} is listed twice"
            raise ValueError(msg)
        seen.add(name)
    return providers


def _unavailable(providers: Sequence[str], available: Collection[str]) -> list[str]:
    return [name for name in providers if name not in available]


class FailoverStrategy:
    """Always the first available provider in priority order.

    ``providers`` is the priority order: primaries in config order, then
    backups in config order (the caller builds it). Traffic goes back to a
    primary as soon as it is available again; the health board's
    ``healthy_for`` is what keeps that from flapping.
    """

    __slots__ = ("_providers",)

    def __init__(self, providers: Sequence[str]) -> None:
        self._providers = _check_names(providers, "failover routing")

    @property
    def providers(self) -> tuple[str, ...]:
        return self._providers

    def order(self, available: Collection[str], now: float = 0.0) -> list[str]:
        """Available providers in priority order, then the unavailable ones (panic mode)."""
        first = [name for name in self._providers if name in available]
        return first + _unavailable(self._providers, available)

    def start(self, name: str) -> None:
        """Ignored: failover does not look at load."""

    def finish(self, name: str, latency: float, now: float, *, ok: bool) -> None:
        """Ignored: failover does not look at latency."""


class WeightedStrategy:
    """nginx's smooth weighted round-robin over the available providers.

    The algorithm of nginx's ``ngx_http_upstream_get_peer``
    (src/http/ngx_http_upstream_round_robin.c, commit "Upstream: smooth
    weighted round-robin balancing", Maxim Dounin, 2012): on each pick every
    participating provider's *current weight* grows by its weight, the one with
    the largest current weight wins (the first in config order on a tie), and
    the winner's current weight drops by the participants' total. Over any
    ``sum(weights)`` consecutive picks with the same participants, each
    provider is picked exactly ``weight`` times, spread out rather than in
    bursts ({a: 5, b: 1, c: 1} gives a a b a c a a).

    Only available providers with a weight above zero participate; the current
    weights of the others stay as they were until they participate again (as
    nginx skips a down peer). The rest of the order is the other available
    providers by weight, heaviest first, then the unavailable ones in config
    order. A weight of 0 keeps a provider out of the rotation; it is still
    tried when the ones before it fail.
    """

    __slots__ = ("_current", "_providers", "_weights")

    def __init__(self, weights: Mapping[str, int]) -> None:
        self._providers = _check_names(list(weights), "weighted routing")
        for name, weight in weights.items():
            if weight < 0:
                msg = f"weighted routing: provider {name!r} has weight {weight}; use 0 or more"
                raise ValueError(msg)
        self._weights = dict(weights)
        self._current = dict.fromkeys(self._providers, 0)

    @property
    def providers(self) -> tuple[str, ...]:
        return self._providers

    @property
    def weights(self) -> Mapping[str, int]:
        return dict(self._weights)

    def order(self, available: Collection[str], now: float = 0.0) -> list[str]:
        """The next smooth-weighted pick, the other available ones, then the unavailable ones."""
        participants = [
            name for name in self._providers if name in available and self._weights[name] > 0
        ]
        first: list[str] = []
        if participants:
            for name in participants:
                self._current[name] += self._weights[name]
            # max() keeps the first of equals: config order breaks ties, as in nginx.
            best = max(participants, key=self._current.__getitem__)
            self._current[best] -= sum(self._weights[name] for name in participants)
            first.append(best)
        rest = [name for name in self._providers if name in available and name not in first]
        rest.sort(key=lambda name: -self._weights[name])  # stable: config order on ties
        return first + rest + _unavailable(self._providers, available)

    def start(self, name: str) -> None:
        """Ignored: weighted round-robin does not look at load."""

    def finish(self, name: str, latency: float, now: float, *, ok: bool) -> None:
        """Ignored: weighted round-robin does not look at latency."""


class _LatencyEstimate:
    """One provider's peak-EWMA latency and outstanding attempts."""

    __slots__ = ("estimate", "outstanding", "stamp")

    def __init__(self, initial: float) -> None:
        self.estimate = initial
        self.outstanding = 0
        #: When the last sample arrived; None until the first one (the initial
        #: estimate does not decay, so an unknown provider is neither a
        #: favourite nor shunned).
        self.stamp: float | None = None


class LeastLatencyStrategy:
    """Power of two choices over a peak-EWMA cost, after Finagle and Linkerd.

    Cost is Finagle's ``PeakEwma`` (finagle-core, ``loadbalancer/PeakEwma``;
    the same in tower's ``peak_ewma`` that linkerd2-proxy uses)::

        cost(name, now) = latency_estimate(now) * (outstanding + 1)

    The estimate is an exponentially weighted moving average of attempt
    latencies for unevenly spaced samples: a sample ``s`` arriving ``dt``
    seconds after the previous one gives ``estimate*w + s*(1 - w)`` with
    ``w = 2 ** (-dt / half_life)``, except that a sample *above* the estimate
    replaces it outright ("peak" sensitivity: a provider that turns slow is
    avoided at once, and forgiven gradually). Between samples the estimate
    decays towards zero with the same half-life, as Finagle's ``observe(0.0)``
    on every read does, so a provider that was slow long ago gets tried again
    instead of being starved forever. Before its first sample a provider costs
    ``initial_latency``. A failed attempt counts as a sample of
    ``max(latency, failure_penalty)`` (1 s by default): a vendor that fails
    fast must not look like the fastest one.

    ``order`` samples two distinct available providers with the injected
    random generator and puts the cheaper first (Mitzenmacher's "power of two
    choices": near-best load spread without herding every caller onto the one
    provider that looked fastest a moment ago), then the other available
    providers by cost, then the unavailable ones in priority order.
    """

    __slots__ = (
        "_estimates",
        "_failure_penalty",
        "_half_life",
        "_initial_latency",
        "_providers",
        "_rng",
    )

    def __init__(
        self,
        providers: Sequence[str],
        *,
        rng: random.Random,
        half_life: float = 10.0,
        initial_latency: float = 0.1,
        failure_penalty: float = 1.0,
    ) -> None:
        self._providers = _check_names(providers, "least-latency routing")
        for field, value in (
            ("half_life", half_life),
            ("initial_latency", initial_latency),
            ("failure_penalty", failure_penalty),
        ):
            if not (math.isfinite(value) and value > 0):
                msg = f"least-latency routing: {field} must be a positive number, not {value}"
                raise ValueError(msg)
        self._rng = rng
        self._half_life = half_life
        self._initial_latency = initial_latency
        self._failure_penalty = failure_penalty
        self._estimates = {name: _LatencyEstimate(initial_latency) for name in self._providers}

    @property
    def providers(self) -> tuple[str, ...]:
        return self._providers

    def outstanding(self, name: str) -> int:
        """Attempts on ``name`` started and not yet finished."""
        return self._get(name).outstanding

    def latency(self, name: str, now: float) -> float:
        """The decayed latency estimate of ``name`` at ``now``, in seconds."""
        entry = self._get(name)
        if entry.stamp is None:
            return entry.estimate
        return entry.estimate * self._decay(now - entry.stamp)

    def cost(self, name: str, now: float) -> float:
        """``latency(name, now) * (outstanding + 1)``: lower is better."""
        return self.latency(name, now) * (self._get(name).outstanding + 1)

    def order(self, available: Collection[str], now: float) -> list[str]:
        """Two random choices (cheaper first), the rest by cost, then the unavailable ones."""
        candidates = [name for name in self._providers if name in available]
        costs = {name: self.cost(name, now) for name in candidates}
        first: list[str] = []
        if len(candidates) >= 2:
            one, two = self._rng.sample(candidates, 2)
            first = [one, two] if costs[one] <= costs[two] else [two, one]
        rest = [name for name in candidates if name not in first]
        rest.sort(key=costs.__getitem__)  # stable: priority order on ties
        return first + rest + _unavailable(self._providers, available)

    def start(self, name: str) -> None:
        """An attempt on ``name`` is about to be sent: it counts as outstanding."""
        self._get(name).outstanding += 1

    def finish(self, name: str, latency: float, now: float, *, ok: bool) -> None:
        """The attempt ended: one fewer outstanding, and one latency sample.

        A failed attempt is a sample of ``max(latency, failure_penalty)``.
        ``finish`` without a matching ``start`` never takes ``outstanding``
        below zero.
        """
        entry = self._get(name)
        entry.outstanding = max(0, entry.outstanding - 1)
        sample = max(0.0, latency) if ok else max(latency, self._failure_penalty)
        if entry.stamp is None or sample > entry.estimate:
            entry.estimate = sample
        else:
            weight = self._decay(now - entry.stamp)
            entry.estimate = entry.estimate * weight + sample * (1.0 - weight)
        entry.stamp = now if entry.stamp is None else max(entry.stamp, now)

    def _decay(self, elapsed: float) -> float:
        return float(2.0 ** (-max(0.0, elapsed) / self._half_life))

    def _get(self, name: str) -> _LatencyEstimate:
        try:
            return self._estimates[name]
        except KeyError:
            msg = f"least-latency routing has no provider {name!r}"
            raise KeyError(msg) from None


def build_strategy(
    kind: RoutingKind, providers: Sequence[tuple[str, int]], *, rng: random.Random
) -> RoutingStrategy:
    """The strategy for an integration's ``routing:``.

    ``providers`` is ``(name, weight)`` in priority order: primaries in config
    order, then backups in config order. Weights matter only to ``weighted``;
    ``rng`` only to ``least-latency``.
    """
    names = [name for name, _ in providers]
    routing: str = kind  # a str: callers without a type checker may pass anything
    if routing == "failover":
        return FailoverStrategy(names)
    if routing == "weighted":
        _check_names(names, "weighted routing")  # a dict would hide a duplicate
        return WeightedStrategy(dict(providers))
    if routing == "least-latency":
        return LeastLatencyStrategy(names, rng=rng)
    msg = f"routing must be failover, weighted or least-latency, not {kind!r}"
    raise ValueError(msg)
