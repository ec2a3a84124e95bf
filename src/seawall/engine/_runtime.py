"""Per-integration and per-provider runtime state: breakers, buckets, budget, bulkhead."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import seawall.config as cfg
from seawall.engine._bulkhead import AsyncBulkhead
from seawall.engine._messages import ProviderTarget
from seawall.engine._settings import PolicySettings, policy_settings
from seawall.policies import CircuitBreaker, RetryBudget, TokenBucket

__all__ = ["IntegrationRuntime", "ProviderRuntime", "build_runtime"]


@dataclass(slots=True, eq=False)
class ProviderRuntime:
    """One provider: where to send, and the breaker and rate limit that guard it."""

    target: ProviderTarget
    role: str
    breaker: CircuitBreaker | None
    bucket: TokenBucket | None

    @property
    def name(self) -> str:
        return self.target.name


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
    inflight: int = 0
    by_name: dict[str, ProviderRuntime] = field(default_factory=dict)


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


def build_runtime(name: str, spec: cfg.Integration, policy: cfg.Policy) -> IntegrationRuntime:
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
            )
        )
    idem = spec.idempotency
    runtime = IntegrationRuntime(
        name=name,
        spec=spec,
        settings=settings,
        providers=tuple(providers),
        budget=RetryBudget(settings=settings.retry.budget),
        bulkhead=AsyncBulkhead(settings.bulkhead),
        idempotency_header=idem.header if idem else None,
        generate_idempotency=bool(idem and idem.generate),
    )
    runtime.by_name = {p.name: p for p in providers}
    return runtime
