"""The last calls per integration, for the admin API and the demo's live view."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from seawall._events import CallFinished, Event

__all__ = ["RecentCalls"]


class RecentCalls:
    """An :class:`~seawall._events.EventSink` keeping the last ``size`` calls per integration.

    Counting is left to :meth:`summary` (the admin API, a few times a minute):
    each call costs one append to a bounded deque.
    """

    __slots__ = ("_handlers", "_size", "_windows")

    def __init__(self, size: int = 200) -> None:
        self._size = size
        self._windows: dict[str, deque[CallFinished]] = {}
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
            window = self._windows[event.integration] = deque(maxlen=self._size)
        window.append(event)

    def summary(self, integration: str) -> dict[str, object]:
        window = self._windows.get(integration)
        if not window:
            return {"calls": 0, "outcomes": {}, "error_rate": 0.0, "last": []}
        recent = list(window)  # a copy: calls keep arriving
        calls = len(recent)
        outcomes = Counter(c.outcome for c in recent)
        good = outcomes["success"] + outcomes["final"]
        return {
            "calls": calls,
            "outcomes": dict(outcomes),
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
                for c in recent[-10:]
            ],
        }
