"""Events the engine emits, and the sink protocol that receives them.

The engine knows nothing of Prometheus, SQL or HTTP servers: it reports what
happened as frozen values through :class:`EventSink`, and telemetry, the store,
backup and contracts implement the sink.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from seawall._states import BreakerState

__all__ = [
    "AttemptFinished",
    "BreakerChanged",
    "CallFinished",
    "CallStarted",
    "Event",
    "EventSink",
    "FailedOver",
    "FallbackServed",
    "FanOutSink",
    "MaintenanceChanged",
    "NullSink",
    "ProbeFinished",
    "ProviderHealthChanged",
    "RecordingSink",
    "Rejected",
    "RetryScheduled",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted:
    """A logical call entered the engine."""

    at: float
    integration: str
    method: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptFinished:
    """One attempt against one provider ended.

    ``outcome`` is the classification: ``success``, ``final`` (a definitive
    answer such as a card decline), ``throttled`` (429), ``failure`` (vendor
    fault), ``timeout`` or ``connect-error``.
    """

    at: float
    integration: str
    provider: str
    attempt: int
    outcome: str
    status: int | None
    duration: float
    slow: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryScheduled:
    """The engine will try again after ``delay`` seconds."""

    at: float
    integration: str
    provider: str
    attempt: int
    delay: float
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerChanged:
    """A provider's circuit breaker moved between states."""

    at: float
    integration: str
    provider: str
    old: BreakerState
    new: BreakerState
    cause: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """seawall refused (part of) a call itself; ``reason`` is the error slug."""

    at: float
    integration: str
    provider: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFinished:
    """A logical call left the engine, answered or failed.

    ``outcome`` is ``success``, ``final``, or the reason slug of the error the
    caller saw; ``status`` is the HTTP status returned when there was one.
    """

    at: float
    integration: str
    provider: str | None
    method: str
    outcome: str
    status: int | None
    attempts: int
    duration: float
    idempotency_key: str | None = None
    labels: tuple[tuple[str, str], ...] = field(default=())


_E = TypeVar("_E")


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedOver:
    """A call moved from one provider to another within its deadline."""

    at: float
    integration: str
    source: str
    target: str
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderHealthChanged:
    """Outlier detection or probes ejected or restored a provider."""

    at: float
    integration: str
    provider: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceChanged:
    """A provider entered (draining/open) or left a maintenance window.

    ``planned`` tells SLA maths and alerts this downtime was announced.
    """

    at: float
    wall: float
    integration: str
    provider: str
    phase: str
    planned: bool = True
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeFinished:
    """An active health probe of a provider ended."""

    at: float
    integration: str
    provider: str
    ok: bool
    duration: float
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackServed:
    """No provider could serve; the caller got a fallback (cached, static, queued)."""

    at: float
    integration: str
    kind: str
    cause: str
    reference: str = ""


Event = (
    CallStarted
    | AttemptFinished
    | RetryScheduled
    | BreakerChanged
    | Rejected
    | CallFinished
    | FailedOver
    | ProviderHealthChanged
    | MaintenanceChanged
    | ProbeFinished
    | FallbackServed
)


class EventSink(Protocol):
    """Receives engine events; must be quick and must not raise."""

    def emit(self, event: Event) -> None: ...


class NullSink:
    """Discards every event."""

    __slots__ = ()

    def emit(self, event: Event) -> None:
        return None


class RecordingSink:
    """Keeps every event in order; for tests and the demo."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[_E]) -> list[_E]:
        return [e for e in self.events if isinstance(e, kind)]


class FanOutSink:
    """Sends each event to several sinks; one failing sink does not stop the rest."""

    __slots__ = ("_sinks",)

    def __init__(self, sinks: Iterable[EventSink]) -> None:
        self._sinks = tuple(sinks)

    def emit(self, event: Event) -> None:
        for sink in self._sinks:
            try:
                sink.emit(event)
            except Exception:  # noqa: BLE001, S112 - a sink must never break a call
                continue
