"""Fixtures: simulators on free loopback ports and an httpx client that ignores proxy settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from seawall.chaos import RunningSimulator, serve_simulator

from ._support import StartSimulator


@pytest.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    running: list[RunningSimulator] = []

    async def start(kind: str, **kwargs: Any) -> RunningSimulator:
        kwargs.setdefault("seed", 7)
        simulator = await serve_simulator(kind, **kwargs)
        running.append(simulator)
        return simulator

    yield start
    for simulator in running:
        await simulator.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        yield client


@pytest.fixture
async def stripe(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("payment")


@pytest.fixture
async def weather(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("weather")
