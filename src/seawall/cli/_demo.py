"""``seawall demo``: the simulators, the gateway and shoppers, then an outage.

A newcomer sees seawall work: traffic flows through the gateway to local
vendor simulators, a live table shows integrations, providers, breaker states
and error rates, and after a while the payment vendor starts failing -- the
breaker opens, seawall refuses fast instead of piling on, and when the vendor
recovers the breaker closes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
from aiohttp import web
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from seawall._errors import ConfigError, SeawallError
from seawall._events import BreakerChanged, Event
from seawall._states import BreakerState
from seawall.chaos import RunningSimulator, SimulatorControl, serve_simulator
from seawall.config import Config, load_config

__all__ = ["demo"]

#: integration name -> simulator kind; providers named after a dialect get it
_KINDS = {
    "payments": "payment",
    "inventory": "inventory",
    "email": "email",
    "crm": "crm",
    "weather": "weather",
}
_DIALECTS = {"adyen", "mailgun", "stripe", "sendgrid"}
_CONTACTS = "/crm/services/data/v59.0/sobjects/Contact"
_REFUSALS = frozenset(
    {"circuit-open", "rate-limited", "bulkhead-full", "retry-budget-exhausted", "deadline-exceeded"}
)
_STATE_STYLE = {
    BreakerState.CLOSED: "green",
    BreakerState.HALF_OPEN: "yellow",
    BreakerState.OPEN: "bold red",
    BreakerState.FORCED_OPEN: "bold red",
    BreakerState.DISABLED: "dim",
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """How long the demo runs, when the outage starts and ends, how busy shoppers are."""

    duration: float
    outage_after: float
    outage_for: float
    rate: float
    plain: bool


@dataclass
class _Tally:
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    #: titles of the notifications the local webhook channels received
    notifications: list[str] = field(default_factory=list)

    #: every line noted, for the plain output (bounded like the demo's traffic)
    lines: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.log.append(line)
        if len(self.lines) < 100_000:
            self.lines.append(line)

    def count(self, integration: str, outcome: str) -> None:
        self.outcomes.setdefault(integration, Counter())[outcome] += 1


class _BreakerLog:
    """An event sink that writes breaker changes into the demo's log."""

    def __init__(self, tally: _Tally, started: float) -> None:
        self._tally = tally
        self._started = started

    def emit(self, event: Event) -> None:
        if isinstance(event, BreakerChanged):
            at = time.monotonic() - self._started
            self._tally.note(
                f"{at:5.1f}s  breaker {event.integration}/{event.provider}: "
                f"{event.old.value} -> {event.new.value} ({event.cause})"
            )


def demo(
    *,
    config: Annotated[Path, typer.Option("-c", "--config", help="Configuration to run.")] = Path(
        "examples/seawall.yaml"
    ),
    duration: Annotated[float, typer.Option(help="Seconds to run; 0 runs until Ctrl-C.")] = 90.0,
    outage_after: Annotated[float, typer.Option(help="Seconds before the payment outage.")] = 20.0,
    outage_for: Annotated[float, typer.Option(help="Seconds the outage lasts.")] = 30.0,
    rate: Annotated[float, typer.Option(help="Shopper requests per second (max 200).")] = 25.0,
    plain: Annotated[bool, typer.Option(help="Print lines instead of a live table.")] = False,
) -> None:
    """Run simulators, the gateway and shopper traffic, then inject a vendor outage."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        for finding in exc.findings:
            typer.echo(str(finding), err=True)
        raise typer.Exit(2) from None
    from seawall.cli._run import event_loop_runner

    plan = _Plan(duration, outage_after, outage_for, min(rate, 200.0), plain)
    try:
        with event_loop_runner() as runner, contextlib.suppress(KeyboardInterrupt):
            runner.run(_demo(config, loaded, plan))
    except OSError as exc:
        typer.echo(
            f"seawall: cannot listen: {exc.strerror or exc}; a port of {config} is taken "
            "(another seawall demo?): stop it, or give -c a copy with other ports",
            err=True,
        )
        raise typer.Exit(1) from None


async def _start_simulators(config: Config) -> dict[str, RunningSimulator]:
    simulators: dict[str, RunningSimulator] = {}
    for name, integration in config.integrations.items():
        kind = _KINDS.get(name)
        for provider in integration.providers:
            parts = urlsplit(provider.base_url)
            if kind is None or parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
                continue
            dialect = provider.name if provider.name in _DIALECTS else None
            key = f"{name}/{provider.name}"
            simulators[key] = await serve_simulator(kind, port=parts.port, dialect=dialect)
    return simulators


def _local_webhooks(config: Config) -> dict[int, str]:
    """Port -> channel name of each JSON webhook channel aimed at this machine."""
    hooks: dict[int, str] = {}
    for name, channel in config.notifications.channels.items():
        parts = urlsplit(channel.url.get_secret_value())
        if parts.scheme in ("json", "jsons") and parts.hostname == "127.0.0.1" and parts.port:
            hooks.setdefault(parts.port, name)
    return hooks


async def _start_webhooks(config: Config, tally: _Tally, started: float) -> list[web.AppRunner]:
    """Receivers for the local webhook channels; what they get goes into the demo's log."""

    def receiver(channel: str) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                payload = await request.json()
                title = str(payload.get("title", "")) if isinstance(payload, dict) else ""
                tally.note(f"{time.monotonic() - started:5.1f}s  {channel} received: {title[:100]}")
                tally.notifications.append(title)
            return web.Response(status=204)

        app = web.Application(client_max_size=256 * 1024)
        app.router.add_post("/{tail:.*}", receive)
        return app

    runners = []
    for port, channel in _local_webhooks(config).items():
        runner = web.AppRunner(receiver(channel), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        except OSError:
            await runner.cleanup()
            raise
        runners.append(runner)
    return runners


async def _demo(path: Path, config: Config, plan: _Plan) -> None:
    from seawall.service import Service

    console = Console()
    started = time.monotonic()
    tally = _Tally()
    simulators = await _start_simulators(config)
    webhooks = await _start_webhooks(config, tally, started)
    service = Service(
        path, config=config, extra_sinks=(_BreakerLog(tally, started),), alert_interval=2.0
    )
    await service.start()
    gateway = f"http://127.0.0.1:{service.gateway_port}"
    console.print(
        f"seawall demo: gateway {gateway}, admin http://127.0.0.1:{service.admin_port} "
        f"(/metrics, /api/v1), {len(simulators)} vendor simulators; Ctrl-C stops"
    )
    payment = next((sim for key, sim in simulators.items() if key.startswith("payments/")), None)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_shoppers(gateway, config, plan.rate, tally, stop)),
        asyncio.create_task(_outage(payment, plan, tally, started, stop)),
    ]
    try:
        await _watch(service, tally=tally, console=console, started=started, plan=plan, stop=stop)
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        incidents = await _incidents(service)
        await service.stop()
        for simulator in simulators.values():
            await simulator.close()
        for runner in webhooks:
            await runner.cleanup()
        _summary(console, tally, simulators)
        for line in incidents:
            console.print(line)
        if incidents:
            console.print(f"  report: seawall incident report <number> -c {path}")


async def _shoppers(
    gateway: str, config: Config, rate: float, tally: _Tally, stop: asyncio.Event
) -> None:
    """Renewals, stock checks, emails, CRM look-ups and weather at about ``rate``/s."""
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=gateway, timeout=10, limits=limits) as client:
        subscriptions: list[str] = []
        if "payments" in config.integrations:
            for i in range(10):
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.post(
                        "/payments/v1/subscriptions",
                        data={"customer": f"cus_demo{i}", "amount": 1299},
                    )
                    if response.status_code == 200:
                        subscriptions.append(response.json()["id"])
        calls = []
        if subscriptions:
            calls.append(
                (
                    "payments",
                    lambda: client.post(
                        f"/payments/v1/subscriptions/{rng.choice(subscriptions)}/renew"
                    ),
                )
            )
        if "inventory" in config.integrations:
            calls.append(
                (
                    "inventory",
                    lambda: client.get(f"/inventory/v1/inventory/SKU-100{rng.randint(1, 5)}"),
                )
            )
        if "email" in config.integrations:
            calls.append(("email", lambda: client.post("/email/v3/mail/send", json=_email(rng))))
        if "crm" in config.integrations:
            calls.append(
                (
                    "crm",
                    lambda: client.get(f"{_CONTACTS}/00300000000000{rng.randint(1, 3)}AAA"),
                )
            )
        if "weather" in config.integrations:
            calls.append(
                (
                    "weather",
                    lambda: client.get(
                        "/weather/data/2.5/weather",
                        params={"q": rng.choice(["Oslo", "Lisbon", "Austin"])},
                    ),
                )
            )
        if not calls:
            return
        pending: set[asyncio.Task[None]] = set()
        for tick in itertools.count():
            if stop.is_set() or tick >= 1_000_000:
                break
            name, make = calls[tick % len(calls)]
            task = asyncio.create_task(_one(name, make, tally))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*pending, return_exceptions=True)


def _email(rng: random.Random) -> dict[str, object]:
    return {
        "personalizations": [{"to": [{"email": f"shopper{rng.randint(1, 500)}@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": "Your order has shipped",
        "content": [{"type": "text/plain", "value": "It is on its way."}],
    }


async def _one(name: str, make: object, tally: _Tally) -> None:
    try:
        response: httpx.Response = await make()  # type: ignore[operator]
    except httpx.HTTPError:
        tally.count(name, "client-error")
        return
    if response.status_code < 400:
        tally.count(name, "ok")
    elif response.headers.get("content-type", "").startswith("application/problem+json"):
        tally.count(name, response.json().get("reason", "refused"))
    else:
        tally.count(name, f"vendor-{response.status_code}")


async def _outage(
    payment: RunningSimulator | None,
    plan: _Plan,
    tally: _Tally,
    started: float,
    stop: asyncio.Event,
) -> None:
    if payment is None:
        return
    after, lasting = plan.outage_after, plan.outage_for
    control = SimulatorControl(payment.url)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), after)
        return
    await control.add_fault(kind="error", path="/v1/*", rate=1.0, statuses=[503])
    tally.note(
        f"{time.monotonic() - started:5.1f}s  OUTAGE: the payment vendor answers 503 to everything"
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), lasting)
        return
    await control.clear_faults()
    tally.note(f"{time.monotonic() - started:5.1f}s  the payment vendor has recovered")


def _table(service: object, tally: _Tally, elapsed: float) -> Group:
    from seawall.service import Service

    assert isinstance(service, Service)
    engine = service.engine
    table = Table(title=f"seawall demo  t={elapsed:5.1f}s", title_justify="left")
    for column in (
        "integration",
        "provider",
        "breaker",
        "calls",
        "ok",
        "refused by seawall",
        "vendor errors",
        "in flight",
    ):
        table.add_column(column)
    for name, runtime in engine.integrations.items():
        outcomes = tally.outcomes.get(name, Counter())
        total = sum(outcomes.values())
        vendor = sum(v for k, v in outcomes.items() if k.startswith(("vendor-", "upstream-")))
        refused = sum(
            v
            for k, v in outcomes.items()
            if k
            in (
                "circuit-open",
                "rate-limited",
                "bulkhead-full",
                "retry-budget-exhausted",
                "deadline-exceeded",
            )
        )
        for i, provider in enumerate(runtime.providers):
            state = engine.breaker_state(name, provider.name)
            table.add_row(
                name if i == 0 else "",
                provider.name,
                Text(state.value, style=_STATE_STYLE[state]),
                str(total) if i == 0 else "",
                f"{outcomes['ok'] / total:.0%}" if total and i == 0 else "",
                str(refused) if i == 0 else "",
                str(vendor) if i == 0 else "",
                str(runtime.inflight) if i == 0 else "",
            )
    return Group(table, _alerts_line(service), Text("\n".join(tally.log) or "(events appear here)"))


async def _incidents(service: object) -> list[str]:
    """One line per incident the demo opened, for the summary."""
    from seawall.service import Service

    assert isinstance(service, Service)
    if service.store is None:
        return []
    with contextlib.suppress(SeawallError):
        found = await service.store.incidents.list(limit=10)
        return [f"\nincident #{i.id} ({i.state.value}): {i.title}" for i in found]
    return []


def _alerts_line(service: object) -> Text:
    """Firing alerts, in one line under the table."""
    from seawall.service import Service

    assert isinstance(service, Service)
    firing = [s.rule for s in service.oncall.statuses() if s.state == "firing"]
    if not firing:
        return Text("alerts: none firing", style="green")
    return Text(f"alerts FIRING: {', '.join(firing)}", style="bold red")


async def _watch(
    service: object,
    *,
    tally: _Tally,
    console: Console,
    started: float,
    plan: _Plan,
    stop: asyncio.Event,
) -> None:
    deadline = started + plan.duration if plan.duration > 0 else float("inf")
    if plan.plain:
        printed = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            for line in tally.lines[printed:]:
                console.print(line)
            printed = len(tally.lines)
        return
    with Live(_table(service, tally, 0), console=console, refresh_per_second=4) as live:
        while time.monotonic() < deadline and not stop.is_set():
            await asyncio.sleep(0.25)
            live.update(_table(service, tally, time.monotonic() - started))


def _summary(console: Console, tally: _Tally, simulators: dict[str, RunningSimulator]) -> None:
    if tally.notifications:
        console.print(f"\nnotifications the demo webhook received: {len(tally.notifications)}")
        for title in tally.notifications[-5:]:
            console.print(f"  {title}")
    console.print("\nsummary (what the shoppers saw):")
    for name, outcomes in tally.outcomes.items():
        parts = ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
        console.print(f"  {name}: {parts}")
    for key, simulator in simulators.items():
        charges = getattr(simulator.state, "charge_count", None)
        if charges is not None:
            console.print(f"  {key}: {charges} charges really made")
