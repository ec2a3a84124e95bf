"""The example adapters on ``sys.path``, simulators on loopback, and a one-call sender.

``examples/`` is not a package of the project: it is put on ``sys.path`` while
pytest collects, so the test modules import ``seawall_adapters`` at their top,
and taken off again once collection ends (with ``seawall_adapters`` dropped
from ``sys.modules`` after collection and after every test). Other tests, such
as the reference configuration's check that its adapter paths do not resolve
from its own folder, keep seeing the default import path.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seawall.chaos import RunningSimulator, serve_simulator
from seawall.engine import Request, Response

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.append(str(EXAMPLES))


def _forget_adapters() -> None:
    for name in [n for n in sys.modules if n.partition(".")[0] == "seawall_adapters"]:
        del sys.modules[name]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collection imported the adapters: restore the import path for every other test."""
    del session
    with contextlib.suppress(ValueError):
        sys.path.remove(str(EXAMPLES))
    _forget_adapters()


@pytest.fixture(autouse=True)
def _no_leaked_adapter_modules() -> Iterator[None]:
    yield
    _forget_adapters()


Send = Callable[..., Awaitable[Response]]


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
async def start_simulator() -> AsyncIterator[Callable[..., Awaitable[RunningSimulator]]]:
    running: list[RunningSimulator] = []

    async def start(kind: str, **kwargs: Any) -> RunningSimulator:
        kwargs.setdefault("seed", 11)
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
def send(http: httpx.AsyncClient) -> Send:
    """Send an engine Request to a simulator, adding ``auth`` headers as provider auth would."""

    async def send_request(
        base_url: str, request: Request, *, auth: dict[str, str] | None = None
    ) -> Response:
        headers = [*request.headers, *(auth or {}).items()]
        reply = await http.request(
            request.method, base_url + request.target, headers=headers, content=request.body
        )
        return Response(
            status=reply.status_code,
            headers=list(reply.headers.multi_items()),
            body=reply.content,
            provider="simulator",
            attempts=1,
        )

    return send_request
