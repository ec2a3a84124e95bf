"""A small async client for a simulator's ``/_sim/`` control API.

Tests and benchmarks drive faults with it::

    control = SimulatorControl(sim.url)
    fault_id = await control.add_fault(kind="error", rate=0.3, statuses=[503])
    ...
    await control.clear_faults()

Without a ``client`` each call opens and closes its own short-lived httpx
client, so nothing leaks if the caller never closes anything.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["SimulatorControl"]


class SimulatorControl:
    """Add, list and remove faults; read and reset the simulated vendor's state."""

    def __init__(
        self, base_url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client
        self._timeout = timeout

    async def add_fault(self, **spec: Any) -> str:
        """Add a fault and return its id; :class:`ValueError` carries the server's reason."""
        response = await self._request("POST", "/_sim/faults", json=spec)
        if response.status_code == 400:
            raise ValueError(response.json().get("error", response.text))
        response.raise_for_status()
        return str(response.json()["id"])

    async def faults(self) -> list[dict[str, Any]]:
        """Every active fault with its ``matched`` and ``fired`` counts."""
        response = await self._request("GET", "/_sim/faults")
        response.raise_for_status()
        faults: list[dict[str, Any]] = response.json()["faults"]
        return faults

    async def remove_fault(self, fault_id: str) -> bool:
        """Remove one fault; False if no fault had that id."""
        response = await self._request("DELETE", f"/_sim/faults/{fault_id}")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    async def clear_faults(self) -> int:
        """Remove every fault; returns how many there were."""
        response = await self._request("DELETE", "/_sim/faults")
        response.raise_for_status()
        return int(response.json()["removed"])

    async def state(self) -> dict[str, Any]:
        """The vendor's state as ``GET /_sim/state`` serves it."""
        response = await self._request("GET", "/_sim/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    async def reset(self) -> None:
        """Back to the seeded initial state with no faults."""
        response = await self._request("POST", "/_sim/reset")
        response.raise_for_status()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        if self._client is not None:
            return await self._client.request(method, url, timeout=self._timeout, **kwargs)
        # The simulator is local: proxy variables from the environment must not reroute it.
        async with httpx.AsyncClient(timeout=self._timeout, trust_env=False) as client:
            return await client.request(method, url, **kwargs)
