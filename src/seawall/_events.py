"""Events the engine emits, and the sink protocol that receives them.

The engine knows nothing of Prometheus, SQL or HTTP servers: it reports what
happened as frozen values through :class:`EventSink`, and telemetry, the store,
backup and contracts implement the sink.

Every call emits an :class:`AttemptFinished` per attempt and one
:class:`CallFinished`, so a sink that declares its ``handlers`` (event type to
function) is called by :class:`FanOutSink` straight at the function for that
type, and only for the types it handles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable

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
    "TypedSink",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted:
    """A logical call entered the engine."""

    at: float
    integration: str
    method: str
    path: str


class AttemptFinished(NamedTuple):
    """One attempt against one provider ended.

    ``outcome`` is the classification: ``success``, ``final`` (a definitive
    answer such as a card decline), ``throttled`` (429), ``failure`` (vendor
    fault), ``timeout`` or ``connect-error``.

    Like :class:`CallFinished`, it is emitted on every call, so it is an
    immutable named tuple: building one costs a third of a frozen dataclass.
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


class CallFinished(NamedTuple):
    """A logical call left the engine, answered or failed.

    ``outcome`` is ``success``, ``final``, or the reason slug of the error the
    caller saw; ``status`` is the HTTP status returned when there was one.
    An immutable named tuple, as :class:`AttemptFinished` (the hot path).
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
    labels: tuple[tuple[str, str], ...] = ()


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


@runtime_checkable
class TypedSink(Protocol):
    """A sink that says which event types it handles and the function for each.

    A handler may raise: :class:`FanOutSink` catches and logs it once per sink.
    """

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]: ...

    def emit(self, event: Event) -> None: ...


_log = logging.getLogger("seawall.events")


class FanOutSink:
    """Sends each event to several sinks; one failing sink does not stop the rest.

    A :class:`TypedSink` gets only the types it handles, straight at their
    handler; any other sink gets every event through ``emit``. The handlers for
    a type are looked up once, on its first event.
    """

    __slots__ = ("_by_type", "_failed", "_sinks")

    def __init__(self, sinks: Iterable[EventSink]) -> None:
        self._sinks = tuple(sinks)
        self._by_type: dict[type, tuple[tuple[int, Callable[[Any], None]], ...]] = {}
        self._failed: set[int] = set()

    def emit(self, event: Event) -> None:
        kind = type(event)
        targets = self._by_type.get(kind)
        if targets is None:
            targets = self._by_type[kind] = self._targets(kind)
        for index, handle in targets:
            try:
                handle(event)
            except Exception:  # noqa: BLE001 - a sink must never break a call
                self._failure(index, kind)

    def _targets(self, kind: type) -> tuple[tuple[int, Callable[[Any], None]], ...]:
        out: list[tuple[int, Callable[[Any], None]]] = []
        for index, sink in enumerate(self._sinks):
            if isinstance(sink, TypedSink):
                handle = sink.handlers.get(kind)
                if handle is not None:
                    out.append((index, handle))
            else:
                out.append((index, sink.emit))
        return tuple(out)

    def _failure(self, index: int, kind: type) -> None:
        if index not in self._failed:
            self._failed.add(index)
            sink = type(self._sinks[index]).__name__
            _log.warning(
                "the %s event sink failed on a %s event; its later failures are silent",
                sink,
                kind.__name__,
                exc_info=True,
            )
