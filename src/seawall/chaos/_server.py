"""Build, start and stop simulator apps.

``create_simulator_app`` is an importable aiohttp app factory (for
``aiohttp.web.run_app``, gunicorn or a test client); ``serve_simulator``
starts one on a loopback port for tests and benchmarks;
``run_simulator_forever`` backs ``seawall simulate-vendor`` and stops cleanly
on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from types import TracebackType
from typing import Self

from aiohttp import web

from seawall.chaos._control import control_routes
from seawall.chaos._fault_book import FaultBook
from seawall.chaos._http import MAX_BODY_BYTES, json_response
from seawall.chaos._inject import inject_faults, render_vendor_errors
from seawall.chaos._simulation import SIMULATION_KEY, STATE_KEY, Simulation
from seawall.chaos.simulators import SimulatorState, build_vendor

__all__ = ["RunningSimulator", "create_simulator_app", "run_simulator_forever", "serve_simulator"]

_SHUTDOWN_TIMEOUT_SECONDS = 2.0


def create_simulator_app(
    kind: str, *, dialect: str | None = None, seed: int | None = None
) -> web.Application:
    """A vendor simulator with its control API under ``/_sim/``.

    ``seed`` makes ids and fault dice reproducible; ``None`` seeds from the OS.
    Raises :class:`ValueError` naming the valid kinds or dialects.
    """
    vendor = build_vendor(kind, dialect=dialect, seed=seed)
    simulation = Simulation(vendor=vendor, faults=FaultBook(seed=seed, clock=time.monotonic))
    app = web.Application(
        middlewares=[inject_faults, render_vendor_errors], client_max_size=MAX_BODY_BYTES
    )
    app[SIMULATION_KEY] = simulation
    app[STATE_KEY] = vendor.state
    app.router.add_get("/healthcheck", _healthcheck)
    app.router.add_routes(vendor.routes)
    app.router.add_routes(control_routes())
    app.on_startup.append(_opened)
    app.on_shutdown.append(_closing)
    return app


async def _healthcheck(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _opened(app: web.Application) -> None:
    # A fresh event on the loop that serves the app.
    app[SIMULATION_KEY].closing = asyncio.Event()


async def _closing(app: web.Application) -> None:
    # Wake hung and delayed requests so shutdown does not wait for them.
    app[SIMULATION_KEY].closing.set()


class RunningSimulator:
    """A simulator listening on a port; ``async with`` closes it."""

    def __init__(
        self, *, app: web.Application, runner: web.AppRunner, host: str, port: int
    ) -> None:
        self.app = app
        self._runner = runner
        self.host = host
        self.port = port
        self._closed = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def kind(self) -> str:
        return self.app[SIMULATION_KEY].vendor.kind

    @property
    def dialect(self) -> str:
        return self.app[SIMULATION_KEY].vendor.dialect

    @property
    def state(self) -> SimulatorState:
        """The live state object (``PaymentLedger``, ``DeliveryLog``...)."""
        return self.app[STATE_KEY]

    @property
    def simulation(self) -> Simulation:
        return self.app[SIMULATION_KEY]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<RunningSimulator {self.kind}/{self.dialect} at {self.url}>"


async def serve_simulator(
    kind: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    dialect: str | None = None,
    seed: int | None = None,
) -> RunningSimulator:
    """Start a simulator; ``port=0`` picks a free port (read it from ``.port``)."""
    app = create_simulator_app(kind, dialect=dialect, seed=seed)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return RunningSimulator(app=app, runner=runner, host=host, port=bound_port)


def run_simulator_forever(
    kind: str,
    *,
    host: str = "127.0.0.1",
    port: int = 9000,
    dialect: str | None = None,
    seed: int | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then close cleanly (no traceback).

    Raises :class:`ValueError` for an unknown kind or dialect and
    :class:`OSError` when the address cannot be bound, before serving.
    """
    # Validate before starting a loop, so a bad kind fails fast with its message.
    build_vendor(kind, dialect=dialect, seed=seed)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(kind, host=host, port=port, dialect=dialect, seed=seed))


async def _serve_until_signalled(
    kind: str, *, host: str, port: int, dialect: str | None, seed: int | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    async with await serve_simulator(
        kind, host=host, port=port, dialect=dialect, seed=seed
    ) as simulator:
        sys.stdout.write(
            f"seawall: {simulator.kind} simulator ({simulator.dialect}) listening on "
            f"{simulator.url}; faults at {simulator.url}/_sim/faults; Ctrl-C to stop\n"
        )
        sys.stdout.flush()
        await stop.wait()
