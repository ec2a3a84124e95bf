"""Failover, fallbacks and maintenance end to end, against the vendor simulators."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

import seawall
from seawall._events import FailedOver, MaintenanceChanged, RecordingSink
from seawall.chaos import SimulatorControl, serve_simulator
from seawall.chaos.simulators._ledger import PaymentLedger
from seawall.engine import Engine, Request
from seawall.transports import AiohttpUpstream
from tests.engine.conftest import LOOPBACK_HEAD, loopback_config

pytestmark = pytest.mark.realserver


async def test_payment_fails_over_to_adyen_through_the_adapter_without_double_charges(
    tmp_path: Path, adapters_importable: Path
) -> None:
    """Stripe down: charges are made at Adyen in its own dialect, once each despite commit-then-fail."""
    async with (
        await serve_simulator("payment") as stripe,
        await serve_simulator("payment", dialect="adyen") as adyen,
    ):
        await SimulatorControl(stripe.url).add_fault(kind="error", rate=1.0, statuses=[503])
        await SimulatorControl(adyen.url).add_fault(
            kind="commit_then_fail", path="/v71/payments", probability=0.2, seed=3
        )
        config_path = tmp_path / "seawall.yaml"
        config_path.write_text(
            f"""
{LOOPBACK_HEAD}integrations:
  payments:
    routing: failover
    providers:
      - {{name: stripe, base_url: "{stripe.url}", auth: {{type: bearer, token: sk_test}}}}
      - name: adyen
        role: backup
        base_url: "{adyen.url}"
        auth: {{type: header, name: X-API-Key, value: adyen_test}}
        adapter: seawall_adapters.payments:StripeToAdyen
    idempotency: {{generate: true}}
    policy:
      timeout: 1s
      deadline: 8s
      retry: {{attempts: 6, backoff: {{initial: 5ms, max: 20ms}}, budget: {{ratio: 100%}}}}
      circuit_breaker: {{min_calls: 5, window: {{type: count, size: 20}}, open_for: 60s}}
"""
        )
        config = seawall.load_config(config_path)
        sink = RecordingSink()
        transport = seawall.Transport("payments", config=config, sink=sink)
        outcomes: Counter[str] = Counter()
        charges: list[dict[str, object]] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://payments") as client:
            for i in range(40):
                try:
                    response = await client.post(
                        "/v1/charges",
                        data={
                            "amount": 1000 + i,
                            "currency": "usd",
                            "source": "tok_visa",
                            "customer": f"cus_{i}",
                        },
                    )
                except seawall.SeawallError as exc:
                    outcomes[exc.reason] += 1
                    continue
                outcomes[str(response.status_code)] += 1
                assert response.extensions["seawall"].provider == "adyen"
                charges.append(response.json())
        assert outcomes == {"200": 40}, outcomes
        assert all(c["object"] == "charge" and c["status"] == "succeeded" for c in charges)
        ledger = adyen.state
        assert isinstance(ledger, PaymentLedger)
        assert ledger.charge_count == 40, "one charge per call, commit-then-fail notwithstanding"
        assert sorted(c.amount for c in ledger.charges) == list(range(1000, 1040))
        stripe_ledger = stripe.state
        assert isinstance(stripe_ledger, PaymentLedger)
        assert stripe_ledger.charge_count == 0
        assert sink.of(FailedOver), "the move to the backup is reported"
        fired = {f["kind"]: f["fired"] for f in await SimulatorControl(adyen.url).faults()}
        assert fired["commit_then_fail"] >= 3, "the ambiguous failure really happened"


async def test_inventory_outage_serves_stale_answers_marked_as_such() -> None:
    """With the vendor down, the last good answer comes back with X-Seawall-Stale, until max_age."""
    async with await serve_simulator("inventory") as warehouse:
        control = SimulatorControl(warehouse.url)
        config = loopback_config(
            f"""
            integrations:
              inventory:
                providers: [{{name: wh, base_url: "{warehouse.url}"}}]
                fallback: {{type: cached, max_age: 1500ms}}
                policy: {{retry: {{attempts: 2, backoff: {{initial: 1ms, max: 2ms}}}}}}
            """
        )
        async with httpx.AsyncClient(
            transport=seawall.Transport("inventory", config=config)
        ) as client:
            fresh = await client.get("http://inventory/v1/inventory/SKU-1001")
            assert fresh.status_code == 200
            assert "X-Seawall-Stale" not in fresh.headers
            await control.add_fault(kind="error", rate=1.0, statuses=[503])
            stale = await client.get("http://inventory/v1/inventory/SKU-1001")
            assert stale.status_code == 200
            assert stale.json() == fresh.json()
            assert int(stale.headers["X-Seawall-Stale"]) >= 0
            never_seen = await client.get("http://inventory/v1/inventory/SKU-1002")
            assert never_seen.status_code == 503, "nothing cached: the vendor's answer stands"
            await asyncio.sleep(1.6)
            expired = await client.get("http://inventory/v1/inventory/SKU-1001")
            assert expired.status_code == 503, "past max_age nothing stale is served"
            await control.clear_faults()
            back = await client.get("http://inventory/v1/inventory/SKU-1001")
            assert back.status_code == 200
            assert "X-Seawall-Stale" not in back.headers


async def test_static_fallback_and_none() -> None:
    """A static fallback answers with the configured body; `none` leaves the clear error."""
    config = loopback_config(
        """
        integrations:
          weather:
            providers: [{name: ow, base_url: "http://127.0.0.1:9"}]
            fallback: {type: static, status: 200, body: {adjustment_days: 0}}
            policy: {retry: {attempts: 1}}
          payments:
            providers: [{name: st, base_url: "http://127.0.0.1:9"}]
            policy: {retry: {attempts: 1}}
        """
    )
    engine = Engine(config, upstream=AiohttpUpstream(egress=None))
    try:
        answer = await engine.call("weather", Request("GET", "/data/2.5/weather?q=Oslo"))
        assert answer.status == 200
        assert answer.body == b'{"adjustment_days": 0}'
        assert ("X-Seawall-Fallback", "static") in answer.headers
        with pytest.raises(seawall.UpstreamConnectError):
            await engine.call("payments", Request("POST", "/v1/charges"))
    finally:
        await engine.aclose()


async def test_fallback_never_answers_for_a_write_that_may_have_happened() -> None:
    """A POST that timed out at the vendor raises; a static fallback must not hide it."""
    async with await serve_simulator("weather") as vendor:
        await SimulatorControl(vendor.url).add_fault(kind="hang", max_seconds=5)
        config = loopback_config(
            f"""
            integrations:
              weather:
                providers: [{{name: ow, base_url: "{vendor.url}"}}]
                fallback: {{type: static, status: 200, body: {{ok: true}}}}
                policy: {{timeout: 200ms, retry: {{attempts: 1}}}}
            """
        )
        engine = Engine(config, upstream=AiohttpUpstream())
        try:
            with pytest.raises(seawall.UpstreamTimeout):
                await engine.call("weather", Request("POST", "/data/2.5/report", body=b"{}"))
            answer = await engine.call("weather", Request("GET", "/data/2.5/weather?q=Oslo"))
            assert ("X-Seawall-Fallback", "static") in answer.headers, "a read may fall back"
        finally:
            await engine.aclose()


async def test_maintenance_window_moves_traffic_before_it_opens_and_back_after() -> None:
    """Traffic drains to the backup before a cron window opens and returns after it closes, no call failing."""
    async with (
        await serve_simulator("weather") as primary,
        await serve_simulator("weather") as backup,
    ):
        config = loopback_config(
            f"""
            integrations:
              weather:
                providers:
                  - {{name: primary, base_url: "{primary.url}"}}
                  - {{name: backup, role: backup, base_url: "{backup.url}"}}
                maintenance:
                  - {{provider: primary, cron: "0 3 * * *", duration: 30m, drain_before: 2m}}
            """
        )
        # 2026-11-29 02:55 UTC, then step through the window.
        wall = [1795748100.0]
        sink = RecordingSink()
        engine = Engine(config, upstream=AiohttpUpstream(), sink=sink, wall_clock=lambda: wall[0])
        seen: list[tuple[str, str]] = []
        try:
            for label, offset in (
                ("before", 0),
                ("draining", 4 * 60),
                ("open", 10 * 60),
                ("late in window", 33 * 60),
                ("after", 36 * 60),
            ):
                wall[0] = 1795748100.0 + offset
                engine.observe()
                for _ in range(5):
                    answer = await engine.call(
                        "weather", Request("GET", "/data/2.5/weather?q=Oslo")
                    )
                    assert answer.status == 200
                    seen.append((label, answer.provider))
        finally:
            await engine.aclose()
        by_phase = {label: {p for lab, p in seen if lab == label} for label, _ in seen}
        assert by_phase == {
            "before": {"primary"},
            "draining": {"backup"},
            "open": {"backup"},
            "late in window": {"backup"},
            "after": {"primary"},
        }
        phases = [e.phase for e in sink.of(MaintenanceChanged)]
        assert phases == ["draining", "closed"]


async def test_in_process_transport_queues_and_delivers_later(tmp_path: Path) -> None:
    """seawall.Transport accepts a write with 202 while the vendor is down and delivers it after."""
    async with await serve_simulator("email") as sendgrid:
        control = SimulatorControl(sendgrid.url)
        outage = await control.add_fault(kind="error", rate=1.0, statuses=[503])
        config = loopback_config(
            f"""
            store: sqlite:///{tmp_path}/state.db
            integrations:
              email:
                providers: [{{name: sendgrid, base_url: "{sendgrid.url}"}}]
                fallback: {{type: queue, max_age: 1h}}
                policy: {{retry: {{attempts: 1}}, circuit_breaker: {{enabled: false}}}}
            """
        )
        message = {
            "personalizations": [{"to": [{"email": "ana@example.com"}]}],
            "from": {"email": "shop@example.com"},
            "subject": "Your order",
            "content": [{"type": "text/plain", "value": "shipped"}],
        }
        async with httpx.AsyncClient(transport=seawall.Transport("email", config=config)) as client:
            accepted = await client.post("http://email/v3/mail/send", json=message)
            assert accepted.status_code == 202
            assert accepted.headers["X-Seawall-Queued"]
            await control.remove_fault(outage)
            async with asyncio.timeout(20):
                while sendgrid.state.message_count < 1:  # type: ignore[attr-defined]
                    await asyncio.sleep(0.05)
        assert sendgrid.state.message_count == 1  # type: ignore[attr-defined]
