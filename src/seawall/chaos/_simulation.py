"""One running simulation: the vendor, its faults, its traffic and its lifecycle."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from seawall.chaos._fault_book import FaultBook
from seawall.chaos.simulators import SimulatorState, Vendor

__all__ = ["CONTROL_PREFIX", "SIMULATION_KEY", "STATE_KEY", "Simulation"]

CONTROL_PREFIX = "/_sim/"


@dataclass
class Simulation:
    """Everything the middlewares and the control API share for one app."""

    vendor: Vendor
    faults: FaultBook
    requests: Counter[str] = field(default_factory=Counter)
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def record_request(self, request: web.Request) -> None:
        """Count a vendor request by route template (``POST /v1/charges/{charge_id}``)."""
        resource = request.match_info.route.resource
        path = resource.canonical if resource is not None else request.path
        self.requests[f"{request.method} {path}"] += 1

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; False if the server began shutting down meanwhile."""
        try:
            await asyncio.wait_for(self.closing.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.vendor.kind,
            "dialect": self.vendor.dialect,
            "requests_total": sum(self.requests.values()),
            "requests": dict(self.requests),
            **self.vendor.state.snapshot(),
        }

    def reset(self) -> None:
        """Seeded initial state, no faults, no traffic (``POST /_sim/reset``)."""
        self.vendor.state.reset()
        self.faults.reset()
        self.requests.clear()


SIMULATION_KEY = web.AppKey("seawall.chaos.simulation", Simulation)
STATE_KEY: web.AppKey[SimulatorState] = web.AppKey("seawall.chaos.state")
"""``app[STATE_KEY]`` is the vendor's live state object (a ledger, a delivery log...)."""
