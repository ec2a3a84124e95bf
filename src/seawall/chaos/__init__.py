"""Local vendor simulators with a live fault-injection API.

Each simulator speaks one vendor's API closely enough for seawall and the
platform's own clients to run against it (Stripe or Adyen payments, SendGrid
or Mailgun email, a fulfilment inventory, Salesforce contacts, OpenWeather)
and keeps its state in memory where a test can count what really happened:
how many charges were made, which emails went out, in what order.

Faults are added while it runs, through ``/_sim/faults`` on the same port or
:class:`SimulatorControl`: latency, errors, hangs, connection resets,
truncated JSON, schema drift, rate limits and "commit then fail", the
lost-response case idempotency keys exist for::

    async with await serve_simulator("payment") as sim:
        control = SimulatorControl(sim.url)
        await control.add_fault(kind="commit_then_fail", path="/v1/charges", first=1)
        ...  # the first charge is made, but its response never arrives
        assert sim.state.charge_count == 1
"""

from __future__ import annotations

from seawall.chaos._client import SimulatorControl
from seawall.chaos._faults import FAULT_KINDS, FaultSpecError, parse_fault_spec
from seawall.chaos._server import (
    RunningSimulator,
    create_simulator_app,
    run_simulator_forever,
    serve_simulator,
)
from seawall.chaos._simulation import STATE_KEY
from seawall.chaos.simulators import DIALECTS, SIMULATOR_KINDS

__all__ = [
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
