"""Per-integration and per-provider runtime state: breakers, buckets, budget, bulkhead."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from pathlib import Path

import seawall.config as cfg
from seawall.engine._adapter import Adapter, load_adapter
from seawall.engine._bulkhead import AsyncBulkhead
from seawall.engine._fallback import ResponseCache
from seawall.engine._messages import ProviderTarget
from seawall.engine._settings import PolicySettings, policy_settings
from seawall.policies import (
    CircuitBreaker,
    Outcome,
    RetryBudget,
    TokenBucket,
    classify_status,
)
from seawall.routing import (
    HealthBoard,
    MaintenanceCalendar,
    OutlierSettings,
    RoutingStrategy,
    Window,
    build_strategy,
)

__all__ = ["IntegrationRuntime", "ProviderRuntime", "build_runtime"]


@dataclass(slots=True, eq=False)
class ProviderRuntime:
    """One provider: where to send, and the breaker and rate limit that guard it."""

    target: ProviderTarget
    role: str
    breaker: CircuitBreaker | None
    bucket: TokenBucket | None
    adapter: Adapter | None = None
    #: ``target.name``, kept as a plain field: the engine reads it several times a call
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.target.name


@dataclass(slots=True, eq=False)
class IntegrationRuntime:
    name: str
    spec: cfg.Integration
    settings: PolicySettings
    providers: tuple[ProviderRuntime, ...]
    budget: RetryBudget
    bulkhead: AsyncBulkhead
    idempotency_header: str | None
    generate_idempotency: bool
    strategy: RoutingStrategy
    board: HealthBoard
    calendar: MaintenanceCalendar
    cache: ResponseCache | None
    by_name: dict[str, ProviderRuntime] = field(default_factory=dict)
    #: providers out for maintenance at the last look, to report changes once
    down: frozenset[str] = frozenset()
    failovers: int = 0
    #: only least-latency routing needs to hear when attempts start and end
    latency_aware: bool = False
    #: ``classify_status`` of every status from 100 to 599: one lookup per attempt
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    #: the providers when there is only one (health and maintenance cannot change
    #: the choice), else empty
    lone: tuple[ProviderRuntime, ...] = ()

    @property
    def inflight(self) -> int:
        """Calls in flight: those holding a bulkhead slot."""
        return self.bulkhead.active


def _auth(
    provider: cfg.Provider,
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    headers = list(provider.headers.items())
    query: list[tuple[str, str]] = []
    auth = provider.auth
    if isinstance(auth, cfg.AuthBearer):
        headers.append(("Authorization", f"Bearer {auth.token.get_secret_value()}"))
    elif isinstance(auth, cfg.AuthHeader):
        headers.append((auth.name, auth.value.get_secret_value()))
    elif isinstance(auth, cfg.AuthBasic):
        raw = f"{auth.username}:{auth.password.get_secret_value()}".encode()
        headers.append(("Authorization", f"Basic {base64.b64encode(raw).decode('ascii')}"))
    elif isinstance(auth, cfg.AuthQuery):
        query.append((auth.name, auth.value.get_secret_value()))
    return tuple(headers), tuple(query)


def _ordered(providers: tuple[cfg.Provider, ...]) -> list[cfg.Provider]:
    """Primaries in config order, then backups in config order."""
    return [p for p in providers if p.role != "backup"] + [
        p for p in providers if p.role == "backup"
    ]


def _outlier(spec: cfg.OutlierDetection) -> OutlierSettings:
    return OutlierSettings(
        consecutive_failures=spec.consecutive_failures,
        failure_rate=spec.failure_rate,
        min_calls=spec.min_calls,
        interval=spec.interval,
        base_ejection=spec.base_ejection,
        max_ejection=max(spec.max_ejection, spec.base_ejection),
        max_ejected_fraction=spec.max_ejected,
        healthy_for=spec.healthy_for,
    )


def build_runtime(
    name: str,
    spec: cfg.Integration,
    policy: cfg.Policy,
    *,
    rng: random.Random,
    adapter_root: Path | None = None,
) -> IntegrationRuntime:
    settings = policy_settings(policy)
    providers: list[ProviderRuntime] = []
    for provider in _ordered(spec.providers):
        headers, query = _auth(provider)
        providers.append(
            ProviderRuntime(
                target=ProviderTarget(
                    integration=name,
                    name=provider.name,
                    base_url=provider.base_url,
                    headers=headers,
                    query=query,
                ),
                role=provider.role,
                breaker=(CircuitBreaker(settings=settings.breaker) if settings.breaker else None),
                bucket=TokenBucket(settings=settings.rate_limit) if settings.rate_limit else None,
                adapter=(
                    load_adapter(provider.adapter, search=adapter_root)
                    if provider.adapter
                    else None
                ),
            )
        )
    idem = spec.idempotency
    ordered = _ordered(spec.providers)
    names = [p.name for p in ordered]
    runtime = IntegrationRuntime(
        name=name,
        spec=spec,
        settings=settings,
        providers=tuple(providers),
        budget=RetryBudget(settings=settings.retry.budget),
        bulkhead=AsyncBulkhead(settings.bulkhead),
        idempotency_header=idem.header if idem else None,
        generate_idempotency=bool(idem and idem.generate),
        strategy=build_strategy(spec.routing, [(p.name, p.weight) for p in ordered], rng=rng),
        board=HealthBoard(
            names,
            settings=_outlier(spec.outlier_detection),
            probed=[p.name for p in ordered if p.health is not None],
        ),
        calendar=MaintenanceCalendar(
            [
                Window(
                    provider=w.provider,
                    cron=w.cron,
                    duration=w.duration,
                    drain_before=w.drain_before,
                    timezone=w.timezone,
                )
                for w in spec.maintenance
            ]
        ),
        cache=ResponseCache() if isinstance(spec.fallback, cfg.FallbackCached) else None,
    )
    runtime.by_name = {p.name: p for p in providers}
    runtime.latency_aware = spec.routing == "least-latency"
    runtime.outcomes = {
        status: classify_status(settings.classification, status) for status in range(100, 600)
    }
    runtime.lone = runtime.providers if len(runtime.providers) == 1 else ()
    return runtime
