"""From an injected vendor outage to an incident with a full timeline and a report.

Everything is real and on loopback: the payment simulators, seawall's gateway
and admin API in-process, the SQLite store, a webhook receiver for the alert
channel, and ``seawall incident report`` run as the CLI runs it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from seawall.chaos import SimulatorControl, serve_simulator
from seawall.cli import app
from seawall.incidents import IncidentState, timeline
from seawall.service import Service
from seawall.store import Store
from tests.gateway.conftest import OPERATOR_TOKEN, service_head, write_config
from tests.oncall.test_oncall_reload import receiver

pytestmark = [pytest.mark.realserver]


def _config(stripe: str, backup: str, hook_port: int, store: Path) -> str:
    return f"""{service_head(store)}
    integrations:
      payments:
        criticality: critical
        impact_per_minute: 1200
        sla: stripe-standard
        providers:
          - {{name: stripe, base_url: "{stripe}"}}
          - {{name: backup, role: backup, base_url: "{backup}"}}
        idempotency: {{generate: true}}
        outlier_detection: {{base_ejection: 1s, max_ejection: 2s, healthy_for: 0s}}
        policy:
          timeout: 1s
          deadline: 4s
          retry: {{attempts: 2, backoff: {{initial: 5ms, max: 10ms}}, budget: {{ratio: 100%}}}}
          circuit_breaker:
            window: {{type: count, size: 10}}
            min_calls: 5
            failure_rate: 50%
            open_for: 2s
            half_open_calls: 1
    slas:
      stripe-standard:
        provider: payments/stripe
        period: monthly
        objectives:
          - {{metric: availability, target: 99.9%}}
        credits:
          - {{below: 99.9%, credit: 10%}}
          - {{below: 99%, credit: 25%}}
        monthly_fee: 2000
    alerts:
      - name: stripe-errors
        integration: payments
        provider: stripe
        metric: error_rate
        above: 20%
        window: 3s
        for: 1s
        keep_firing_for: 2s
        severity: critical
    notifications:
      channels:
        oncall-hook: {{url: "json://127.0.0.1:{hook_port}/hook"}}
      routes:
        - match: {{severity: critical}}
          channels: [oncall-hook]
      group_wait: 0s
      group_interval: 1s
    """


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"{what} did not happen within {seconds:g}s")


async def _shop(gateway: str, stop: asyncio.Event) -> int:
    """Charges through the gateway every 20 ms until told to stop (bounded at 5,000)."""
    sent = 0
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        while not stop.is_set() and sent < 5000:
            await client.post(
                "/payments/v1/charges",
                data={"amount": 1000, "currency": "usd", "source": "tok_visa"},
            )
            sent += 1
            await asyncio.sleep(0.02)
    return sent


async def test_outage_to_incident_timeline_notifications_and_report(tmp_path: Path) -> None:
    store_path = tmp_path / "state.db"
    async with (
        receiver() as (hook_port, received),
        await serve_simulator("payment") as stripe,
        await serve_simulator("payment") as backup,
    ):
        path = write_config(tmp_path, _config(stripe.url, backup.url, hook_port, store_path))
        service = Service(path, alert_interval=0.2, incident_settle=1.0)
        await service.start()
        stop = asyncio.Event()
        shopper = asyncio.create_task(_shop(f"http://127.0.0.1:{service.gateway_port}", stop))
        admin = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{service.admin_port}",
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            timeout=10,
        )
        try:
            await asyncio.sleep(1.5)  # normal traffic first
            assert service.store is not None
            store = service.store
            assert await store.incidents.list() == []
            control = SimulatorControl(stripe.url)
            await control.add_fault(kind="error", rate=1.0, statuses=[503])

            async def opened() -> bool:
                return bool(await store.incidents.list()) and any(
                    "FIRING" in str(p.get("title", "")) for p in received
                )

            await _until(opened, 20, "an incident and a firing notification")
            (incident,) = await store.incidents.list()
            firing = next(p for p in received if "FIRING" in str(p.get("title", "")))
            links = re.findall(r"http://\S+/api/v1/ack/\S+", str(firing.get("message", "")))
            assert links, f"no acknowledge link in {firing}"
            assert links[0].startswith(f"http://127.0.0.1:{service.admin_port}/")
            async with httpx.AsyncClient(timeout=10) as browser:
                page = await browser.get(links[0])
            assert page.status_code == 200
            assert "<form" in page.text  # a confirmation: opening the link acknowledges nothing
            acked = await admin.post(f"/api/v1/incidents/{incident.id}/ack")
            assert acked.status_code == 200, acked.text
            assert acked.json()["acknowledged_by"] == "oncall"

            await control.clear_faults()

            async def resolved() -> bool:
                found = await store.incidents.get(incident.id)
                return found is not None and found.state is IncidentState.RESOLVED

            await _until(resolved, 30, "the incident's automatic resolution")

            async def told_resolved() -> bool:
                return any("RESOLVED" in str(p.get("title", "")) for p in received)

            await _until(told_resolved, 10, "the resolved notice")
        finally:
            stop.set()
            await shopper
            await admin.aclose()
            await service.stop()

    # one outage, one incident -- however many alerts and breaker changes it caused
    async with await Store.open(f"sqlite:///{store_path}") as store:
        incidents = await store.incidents.list()
        assert [i.id for i in incidents] == [incident.id]
        final = incidents[0]
        assert final.state is IncidentState.RESOLVED
        assert final.integrations == ("payments",)
        assert final.acknowledged_by == "oncall"
        assert final.impact_started_at <= final.opened_at < final.resolved_at  # type: ignore[operator]
        # the impact starts at the first failure seen live, not at its minute's start
        assert final.opened_at - final.impact_started_at < 5, final
        entries = await timeline(store, final, now=time.time())
    kinds = [e.kind for e in entries]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    for kind in (
        "breaker-changed",
        "failed-over",
        "alert-firing",
        "incident-opened",
        "notification-sent",
        "operator-action",
        "incident-acknowledged",
        "alert-resolved",
        "incident-resolved",
    ):
        assert kind in kinds, f"{kind} missing from the timeline: {kinds}"
    assert kinds.index("incident-opened") < kinds.index("incident-acknowledged")
    assert kinds.index("incident-acknowledged") < kinds.index("incident-resolved")

    runner = CliRunner()
    report_path = tmp_path / "incident.md"
    result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["incident", "report", str(final.id), "-c", str(path), "-o", str(report_path)],
    )
    assert result.exit_code == 0, result.output
    report = report_path.read_text()
    for expected in (
        "payments/stripe",
        "## Timeline",
        "Time to detect (MTTD)",
        "Time to recover (MTTR)",
        "| payments | critical |",
        "1,200.00",  # impact per minute, times the minutes of impact
        "stripe-standard",
        "## Root cause",
        "## Prevention",
        "Alert stripe-errors firing",
        "Notified oncall-hook (channel): firing",
    ):
        assert expected in report, f"{expected!r} missing from the report"
    html_result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["incident", "report", str(final.id), "-c", str(path), "--format", "html"],
    )
    assert html_result.exit_code == 0, html_result.output
    assert html_result.output.lstrip().lower().startswith("<!doctype html>")
