"""Prometheus metrics kept from engine events: the :class:`Metrics` sink.

Every call of the process passes through the sink, so it does as little as it
can. The per-call metrics (requests, their durations, attempts) are plain
Python counts in :class:`~seawall.telemetry._calls.CallMetrics`, a custom
collector: a dict subscript per label and a list increment per event, a
``bisect`` for the duration's bucket, no lock. The rarer events update
prometheus_client metrics: retries, breaker transitions and rejections through
label children cached by label values (``.labels()`` validates and takes a
lock on every call), routing events in :class:`RoutingMetrics`. A fan-out that
reads :attr:`Metrics.handlers` calls the handler for an event's type directly,
without :meth:`Metrics.emit`. Values the engine already counts itself (calls
in flight, calls waiting in the bulkhead queue) are read when Prometheus
scrapes instead of being mirrored from events, so they cannot drift.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, exposition

from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    CallFinished,
    Event,
    FailedOver,
    FallbackServed,
    MaintenanceChanged,
    ProbeFinished,
    ProviderHealthChanged,
    Rejected,
    RetryScheduled,
)
from seawall._states import BreakerState
from seawall.config import Config
from seawall.store import LATENCY_BOUNDS
from seawall.telemetry._callbacks import GaugeCallback, LabelValues, ReadGauge
from seawall.telemetry._calls import NO_PROVIDER, CallMetrics
from seawall.telemetry._routing import RoutingMetrics

__all__ = ["DURATION_BUCKETS", "Metrics"]

_log = logging.getLogger("seawall.telemetry")

#: Whole-call durations of vendor APIs: a cached lookup answers in a few
#: milliseconds, a payment in a few hundred, and the default 10 s deadline (or a
#: raised one) ends the slowest; past 30 s only the count matters.
DURATION_BUCKETS: tuple[float, ...] = LATENCY_BOUNDS

_M = TypeVar("_M", Counter, Gauge)


class _Children(Generic[_M]):
    """A labelled metric's children by label values, so ``.labels()`` runs once per series."""

    __slots__ = ("_children", "metric")

    def __init__(self, metric: _M) -> None:
        self.metric: _M = metric
        self._children: dict[LabelValues, _M] = {}

    def __call__(self, *values: str) -> _M:
        child = self._children.get(values)
        if child is None:
            # Two threads may both get here; prometheus_client hands both the
            # same child, so the race only costs one extra lookup.
            child = self._children[values] = self.metric.labels(*values)
        return child

    def known(self) -> set[LabelValues]:
        return set(self._children)

    def forget(self, *values: str) -> None:
        if self._children.pop(values, None) is not None:
            self.metric.remove(*values)


def _installed_version() -> str:
    try:
        return importlib.metadata.version("seawall")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


class Metrics:
    """An :class:`~seawall._events.EventSink` that keeps seawall's Prometheus metrics.

    Each instance owns its :class:`~prometheus_client.CollectorRegistry`, so two
    engines, a config reload or a test never collide in the global registry.
    The composition root wires it up::

        metrics = Metrics()
        metrics.declare(config)
        engine = Engine(config, upstream=upstream, sink=metrics)
        metrics.track_inflight(
            lambda: {name: rt.inflight for name, rt in engine.integrations.items()}
        )
        metrics.track_bulkhead_queued(
            lambda: {name: rt.bulkhead.queued for name, rt in engine.integrations.items()}
        )
        body, content_type = metrics.render(request.headers.get("accept"))

    A call that never reached a provider (bulkhead full, every breaker open) is
    counted with ``provider=""`` (:attr:`NO_PROVIDER`): Prometheus treats an
    empty label as an absent one, and no provider can be named "" so it never
    collides with a real one. ``CallStarted`` is ignored on purpose: the
    in-flight gauge reads the engine's own counter at scrape time.
    """

    #: the ``provider`` label of a call that never reached a provider
    NO_PROVIDER: ClassVar[str] = NO_PROVIDER

    __slots__ = (
        "_callbacks",
        "_calls",
        "_circuit",
        "_handlers",
        "_rejections",
        "_reloads",
        "_retries",
        "_transitions",
        "_warned",
        "registry",
        "routing",
    )

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        buckets: Sequence[float] = DURATION_BUCKETS,
        version: str | None = None,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        # requests, durations and attempts: counted per call, so kept in plain
        # Python and registered first, where the Counter and Histogram were
        self._calls = CallMetrics(buckets)
        reg.register(self._calls)
        self._retries = _Children(
            Counter(
                "seawall_retries_total",
                "Retries the engine scheduled after a failed attempt on this provider.",
                ["integration", "provider"],
                registry=reg,
            )
        )
        self._circuit = _Children(
            Gauge(
                "seawall_circuit_state",
                "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
                ["integration", "provider"],
                registry=reg,
            )
        )
        self._transitions = _Children(
            Counter(
                "seawall_breaker_transitions_total",
                "Circuit breaker transitions, by the state moved to.",
                ["integration", "provider", "to"],
                registry=reg,
            )
        )
        self._rejections = _Children(
            Counter(
                "seawall_rejections_total",
                "Calls or attempts seawall refused itself, by reason.",
                ["integration", "reason"],
                registry=reg,
            )
        )
        self._reloads = _Children(
            Counter(
                "seawall_config_reloads_total",
                "Configuration reloads, by result (success or failure).",
                ["result"],
                registry=reg,
            )
        )
        self._reloads("success")
        self._reloads("failure")
        Gauge(
            "seawall_build_info",
            "Always 1; the running seawall version is in the label.",
            ["version"],
            registry=reg,
        ).labels(version if version is not None else _installed_version()).set(1)
        self.routing = RoutingMetrics(reg)
        self._callbacks: dict[str, GaugeCallback] = {}
        self._warned = False
        self._handlers: dict[type, Callable[[Any], None]] = {
            CallFinished: self._calls.call_finished,
            AttemptFinished: self._calls.attempt_finished,
            RetryScheduled: self._retry_scheduled,
            BreakerChanged: self._breaker_changed,
            Rejected: self._rejected,
            FailedOver: self.routing.failed_over,
            ProbeFinished: self.routing.probe_finished,
            ProviderHealthChanged: self.routing.health_changed,
            MaintenanceChanged: self.routing.maintenance_changed,
            FallbackServed: self.routing.fallback_served,
        }

    # -- the sink ------------------------------------------------------------

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """The event types this sink handles and the function for each (see ``TypedSink``).

        A fan-out can call the handler for an event's type directly instead of
        :meth:`emit`. A handler may raise on a malformed event; the fan-out
        catches it (``emit`` does so itself).
        """
        return self._handlers

    def emit(self, event: Event) -> None:
        """Update the metrics for ``event``; never raises, ignores unknown events."""
        handle = self._handlers.get(type(event))
        if handle is None:
            return
        try:
            handle(event)
        except Exception:  # noqa: BLE001 - EventSink contract: metrics must never break a call
            if not self._warned:
                self._warned = True
                _log.warning("a metrics update failed; later failures are silent", exc_info=True)

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        self._retries(event.integration, event.provider).inc()

    def _breaker_changed(self, event: BreakerChanged) -> None:
        self._circuit(event.integration, event.provider).set(event.new.gauge)
        self._transitions(event.integration, event.provider, event.new.value).inc()

    def _rejected(self, event: Rejected) -> None:
        self._rejections(event.integration, event.reason).inc()

    # -- state the sink cannot see in events ---------------------------------

    def declare(self, config: Config) -> None:
        """Create every configured provider's series at 0 before its first call.

        Prometheus cannot alert on a series it has never seen, so a breaker that
        is closed must read 0, not be absent. Safe on every reload: series that
        exist keep their values, and the circuit gauge of a provider no longer
        configured is removed, so a deleted provider cannot stay "open" forever.
        """
        wanted = {
            (name, provider.name)
            for name, integration in config.integrations.items()
            for provider in integration.providers
        }
        for gone in self._circuit.known() - wanted:
            self._circuit.forget(*gone)
        for integration, provider in sorted(wanted):
            self._circuit(integration, provider)
            self._retries(integration, provider)

    def set_circuit_state(self, integration: str, provider: str, state: BreakerState) -> None:
        """Set a breaker's gauge directly, e.g. from ``Engine.breaker_state`` after a reload."""
        self._circuit(integration, provider).set(state.gauge)

    def record_reload(self, ok: bool) -> None:
        """Count one configuration reload, successful or refused."""
        self._reloads("success" if ok else "failure").inc()

    # -- gauges read at scrape time ------------------------------------------

    def register_gauge_callback(
        self, name: str, documentation: str, labels: Sequence[str], fn: ReadGauge
    ) -> None:
        """Expose gauge ``name`` whose series ``fn`` returns, keyed by label values, at scrape time.

        Registering a name again with the same labels swaps in the new ``fn``
        (an engine rebuilt on reload); a name already used otherwise is refused.
        """
        if isinstance(labels, str):
            msg = f"labels of {name} must be a sequence of label names, not the string {labels!r}"
            raise TypeError(msg)
        label_names = tuple(labels)
        existing = self._callbacks.get(name)
        if existing is not None:
            if existing.labels != label_names:
                msg = (
                    f"gauge {name} is registered with labels {existing.labels!r}, "
                    f"not {label_names!r}"
                )
                raise ValueError(msg)
            existing.documentation = documentation
            existing.read = fn
            return
        callback = GaugeCallback(
            name=name, documentation=documentation, labels=label_names, read=fn
        )
        self.registry.register(callback)
        self._callbacks[name] = callback

    def track_inflight(self, fn: Callable[[], Mapping[str, int]]) -> None:
        """Expose ``seawall_inflight{integration}`` from ``fn``, e.g. each ``rt.inflight``."""
        self.register_gauge_callback(
            "seawall_inflight",
            "Calls inside the engine right now, read at scrape time.",
            ("integration",),
            _by_integration(fn),
        )

    def track_bulkhead_queued(self, fn: Callable[[], Mapping[str, int]]) -> None:
        """Expose ``seawall_bulkhead_queued{integration}`` from ``fn``, e.g. ``bulkhead.queued``."""
        self.register_gauge_callback(
            "seawall_bulkhead_queued",
            "Calls waiting for a bulkhead slot right now, read at scrape time.",
            ("integration",),
            _by_integration(fn),
        )

    # -- exposition ----------------------------------------------------------

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition body and its content type, OpenMetrics when ``accept`` asks for it."""
        if accept and "application/openmetrics-text" in accept:
            # prometheus_client's own negotiation: versions, q-values, escaping.
            encoder, content_type = exposition.choose_encoder(accept)
            return encoder(self.registry), content_type
        return exposition.generate_latest(self.registry), exposition.CONTENT_TYPE_LATEST


def _by_integration(fn: Callable[[], Mapping[str, int]]) -> ReadGauge:
    def read() -> Mapping[LabelValues, float]:
        return {(integration,): value for integration, value in fn().items()}

    return read
