"""The last calls per integration, for the admin API and the demo's live view."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seawall._events import CallFinished, Event

__all__ = ["RecentCalls"]


@dataclass(slots=True)
class _Window:
    calls: deque[CallFinished]
    outcomes: Counter[str]


class RecentCalls:
    """An :class:`~seawall._events.EventSink` keeping the last ``size`` calls per integration."""

    __slots__ = ("_handlers", "_size", "_windows")

    def __init__(self, size: int = 200) -> None:
        self._size = size
        self._windows: dict[str, _Window] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {CallFinished: self._call_finished}

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """The event types this sink handles and the function for each (see ``TypedSink``)."""
        return self._handlers

    def emit(self, event: Event) -> None:
        if type(event) is CallFinished:
            self._call_finished(event)

    def _call_finished(self, event: CallFinished) -> None:
        window = self._windows.get(event.integration)
        if window is None:
            window = self._windows[event.integration] = _Window(deque(), Counter())
        if len(window.calls) == self._size:
            old = window.calls.popleft()
            window.outcomes[old.outcome] -= 1
        window.calls.append(event)
        window.outcomes[event.outcome] += 1

    def summary(self, integration: str) -> dict[str, object]:
        window = self._windows.get(integration)
        if window is None or not window.calls:
            return {"calls": 0, "outcomes": {}, "error_rate": 0.0, "last": []}
        calls = len(window.calls)
        good = window.outcomes["success"] + window.outcomes["final"]
        return {
            "calls": calls,
            "outcomes": {k: v for k, v in window.outcomes.items() if v},
            "error_rate": round(1 - good / calls, 4),
            "last": [
                {
                    "provider": c.provider,
                    "method": c.method,
                    "outcome": c.outcome,
                    "status": c.status,
                    "attempts": c.attempts,
                    "duration_ms": round(c.duration * 1000, 2),
                }
                for c in list(window.calls)[-10:]
            ],
        }
