"""What every vendor simulator provides to the app factory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from seawall.chaos._http import ErrorRenderer

__all__ = ["SimulatorState", "Vendor"]


class SimulatorState(Protocol):
    """The in-memory state of a simulated vendor.

    Tests read the concrete object (``RunningSimulator.state.charges``); the
    control API serves :meth:`snapshot` at ``GET /_sim/state``.
    """

    def snapshot(self) -> dict[str, Any]:
        """Everything a test may assert on, as JSON-ready values."""
        ...

    def reset(self) -> None:
        """Back to the seeded initial state (``POST /_sim/reset``)."""
        ...


@dataclass(frozen=True, slots=True)
class Vendor:
    """One simulated vendor API: its routes, its state and its error shape."""

    kind: str
    dialect: str
    state: SimulatorState
    routes: Sequence[web.RouteDef]
    render_error: ErrorRenderer
