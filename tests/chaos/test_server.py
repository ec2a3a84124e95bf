"""The public surface: app factory, serve_simulator, run_simulator_forever."""

from __future__ import annotations

import asyncio
import re
import select
import signal
import subprocess
import sys
import time

import httpx
import pytest
from aiohttp import web

import seawall.chaos
from seawall.chaos import (
    SIMULATOR_KINDS,
    STATE_KEY,
    create_simulator_app,
    serve_simulator,
)
from seawall.chaos.simulators._ledger import PaymentLedger


def test_public_names_are_pinned() -> None:
    """seawall.chaos exports exactly these names, in ruff's sorted order (constants first)."""
    assert seawall.chaos.__all__ == [
        "DIALECTS",
        "FAULT_KINDS",
        "SIMULATOR_KINDS",
        "STATE_KEY",
        "FaultSpecError",
        "RunningSimulator",
        "SimulatorControl",
        "create_simulator_app",
        "parse_fault_spec",
        "run_simulator_forever",
        "serve_simulator",
    ]


def test_simulator_kinds_and_default_dialects() -> None:
    """The five kinds are listed in order, each with its default dialect first."""
    assert SIMULATOR_KINDS == ("payment", "inventory", "email", "crm", "weather")
    assert seawall.chaos.DIALECTS["payment"] == ("stripe", "adyen")
    assert seawall.chaos.DIALECTS["email"] == ("sendgrid", "mailgun")


def test_unknown_kind_names_the_valid_kinds() -> None:
    """An unknown kind raises ValueError listing every valid kind."""
    with pytest.raises(ValueError, match="unknown simulator kind 'sms'") as caught:
        create_simulator_app("sms")
    for kind in SIMULATOR_KINDS:
        assert kind in str(caught.value)


def test_unknown_dialect_names_the_valid_dialects() -> None:
    """An unknown dialect raises ValueError listing the kind's dialects."""
    with pytest.raises(ValueError, match="stripe, adyen"):
        create_simulator_app("payment", dialect="paypal")


def test_app_factory_exposes_the_live_state() -> None:
    """create_simulator_app returns an aiohttp app whose STATE_KEY holds the vendor state."""
    app = create_simulator_app("payment", seed=1)
    assert isinstance(app, web.Application)
    assert isinstance(app[STATE_KEY], PaymentLedger)


async def test_serve_simulator_binds_a_free_port_and_closes() -> None:
    """Port 0 picks a free port shown in .url; after close nothing listens there."""
    async with await serve_simulator("weather") as simulator:
        assert simulator.port > 0
        assert simulator.url == f"http://127.0.0.1:{simulator.port}"
        assert repr(simulator).startswith("<RunningSimulator weather/openweather")
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"{simulator.url}/healthcheck")).status_code == 200
    await simulator.close()  # closing twice is harmless
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{simulator.url}/healthcheck")


async def test_close_does_not_wait_for_hung_requests() -> None:
    """Closing a simulator ends a request held by a hang fault promptly."""
    simulator = await serve_simulator("weather")
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        await client.post(f"{simulator.url}/_sim/faults", json={"kind": "hang"})
        hung = asyncio.create_task(client.get(f"{simulator.url}/healthcheck"))
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        await simulator.close()
        assert time.perf_counter() - started < 1.5
        with pytest.raises(httpx.TransportError):
            await hung


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_simulator_forever_stops_cleanly_on_signals(signum: signal.Signals) -> None:
    """The blocking runner serves until SIGINT/SIGTERM, then exits 0 without a traceback."""
    code = (
        "from seawall.chaos import run_simulator_forever\n"
        "run_simulator_forever('inventory', host='127.0.0.1', port=0)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the simulator printed no banner within 15 s"
        banner = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner + (process.stderr.read() if process.stderr else "")
        with httpx.Client(trust_env=False, timeout=5) as client:
            response = client.get(f"{match.group(1)}/v1/inventory/SKU-1001")
            assert response.json()["sku"] == "SKU-1001"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr + stdout


def test_run_simulator_forever_rejects_an_unknown_kind_before_serving() -> None:
    """A bad kind raises ValueError at once, with no server started."""
    with pytest.raises(ValueError, match="choose one of"):
        seawall.chaos.run_simulator_forever("fax", host="127.0.0.1", port=0)
