"""Metrics of routing, health, maintenance and fallbacks (a part of :class:`Metrics`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from seawall._events import (
    FailedOver,
    FallbackServed,
    MaintenanceChanged,
    ProbeFinished,
    ProviderHealthChanged,
)

__all__ = ["RoutingMetrics"]

_PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RoutingMetrics:
    __slots__ = (
        "_ejections",
        "_failovers",
        "_fallbacks",
        "_maintenance",
        "_probe_duration",
        "_probe_ok",
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self._failovers = Counter(
            "seawall_failovers_total",
            "Calls that moved from one provider to another within their deadline.",
            ["integration", "source", "target"],
            registry=registry,
        )
        self._probe_ok = Gauge(
            "seawall_probe_success",
            "1 when the provider's last active health probe passed, else 0.",
            ["integration", "provider"],
            registry=registry,
        )
        self._probe_duration = Histogram(
            "seawall_probe_duration_seconds",
            "Duration of active health probes.",
            ["integration", "provider"],
            buckets=_PROBE_BUCKETS,
            registry=registry,
        )
        self._ejections = Counter(
            "seawall_provider_ejections_total",
            "Times outlier detection or probes took a provider out of rotation.",
            ["integration", "provider", "reason"],
            registry=registry,
        )
        self._maintenance = Gauge(
            "seawall_provider_in_maintenance",
            "1 while a provider is draining for or in a maintenance window.",
            ["integration", "provider"],
            registry=registry,
        )
        self._fallbacks = Counter(
            "seawall_fallbacks_total",
            "Calls answered by a fallback (cached, static, queue) instead of a provider.",
            ["integration", "kind"],
            registry=registry,
        )

    def failed_over(self, event: FailedOver) -> None:
        self._failovers.labels(event.integration, event.source, event.target).inc()

    def probe_finished(self, event: ProbeFinished) -> None:
        self._probe_ok.labels(event.integration, event.provider).set(1 if event.ok else 0)
        self._probe_duration.labels(event.integration, event.provider).observe(event.duration)

    def health_changed(self, event: ProviderHealthChanged) -> None:
        if event.new != "healthy" and event.old == "healthy":
            self._ejections.labels(event.integration, event.provider, event.reason).inc()

    def maintenance_changed(self, event: MaintenanceChanged) -> None:
        self._maintenance.labels(event.integration, event.provider).set(
            0 if event.phase == "closed" else 1
        )

    def fallback_served(self, event: FallbackServed) -> None:
        self._fallbacks.labels(event.integration, event.kind).inc()
