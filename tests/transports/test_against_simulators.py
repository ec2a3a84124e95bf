"""seawall.Transport against the real vendor simulators over loopback."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest

import seawall
from seawall._events import AttemptFinished, RecordingSink
from seawall.chaos import SimulatorControl, serve_simulator
from seawall.chaos.simulators._ledger import PaymentLedger
from tests.engine.conftest import loopback_config

pytestmark = pytest.mark.realserver


def payment_config(url: str, *, extra_policy: str = "") -> seawall.Config:
    return loopback_config(
        f"""
        integrations:
          payments:
            providers:
              - {{name: stripe, base_url: "{url}", auth: {{type: bearer, token: sk_test_x}}}}
            idempotency: {{generate: true}}
            policy:
              timeout: 300ms
              deadline: 6s
              retry:
                attempts: 10
                backoff: {{initial: 100ms, max: 1s}}
                on: [connect-error, timeout, 409, 429, 502, 503, 504]
                budget: {{ratio: 100%, min_per_second: 200}}
              circuit_breaker: {{enabled: false}}
        {extra_policy}
        """
    )


async def test_renewals_under_commit_then_fail_and_timeouts_never_double_charge() -> None:
    """2,000 renewals with 30% commit-then-fail or slow commits: no double charge, no silent loss."""
    async with await serve_simulator("payment") as sim:
        control = SimulatorControl(sim.url)
        ledger = sim.state
        assert isinstance(ledger, PaymentLedger)
        transport = seawall.Transport("payments", config=payment_config(sim.url))
        async with httpx.AsyncClient(transport=transport, base_url="http://payments") as client:
            subscriptions = []
            for i in range(100):
                response = await client.post(
                    "/v1/subscriptions", data={"customer": f"cus_{i}", "amount": 999}
                )
                assert response.status_code == 200, response.text
                subscriptions.append(response.json()["id"])
            initial_charges = ledger.charge_count
            renew = "/v1/subscriptions/*/renew"
            await control.add_fault(kind="commit_then_fail", path=renew, probability=0.15, seed=7)
            await control.add_fault(
                kind="latency", path=renew, ms=700, phase="processing", probability=0.15, seed=11
            )
            limit = asyncio.Semaphore(64)
            outcomes: Counter[str] = Counter()
            charge_ids: list[str] = []

            async def renewal(subscription: str) -> None:
                async with limit:
                    try:
                        response = await client.post(f"/v1/subscriptions/{subscription}/renew")
                    except seawall.SeawallError as exc:
                        outcomes[f"error:{exc.reason}"] += 1
                        return
                    if response.status_code != 200:
                        # The vendor's own last word, e.g. 409 "key still in flight"
                        # when every retry came while the slow commit was running.
                        assert response.status_code == 409, response.text
                        outcomes["vendor:409-in-flight"] += 1
                        return
                    outcomes["ok"] += 1
                    charge_ids.append(response.json()["id"])

            await asyncio.gather(*(renewal(subscriptions[i % 100]) for i in range(2000)))
        faults = {f["kind"]: f["fired"] for f in await control.faults()}

    renewal_charges = ledger.charges[initial_charges:]
    keys = Counter(charge.idempotency_key for charge in renewal_charges)
    assert None not in keys, "every renewal carries a generated idempotency key"
    assert max(keys.values()) == 1, "one renewal call charged twice"
    assert sum(outcomes.values()) == 2000
    clear_errors = {
        "error:deadline-exceeded",
        "error:upstream-timeout",
        "error:upstream-connect-error",
        "error:retry-budget-exhausted",
        "vendor:409-in-flight",
    }
    assert set(outcomes) <= {"ok", *clear_errors}, outcomes
    assert len(set(charge_ids)) == outcomes["ok"], "each success names its own charge"
    ledger_ids = {charge.id for charge in renewal_charges}
    assert set(charge_ids) <= ledger_ids
    # Succeeded renewals were charged once; failed ones at most once (the commit may have landed).
    assert outcomes["ok"] <= len(renewal_charges) <= 2000
    assert faults["commit_then_fail"] > 200
    assert faults["latency"] > 200
    # Most renewals get through; the rest fail clearly (a loaded machine turns more
    # slow commits into timeouts, and the retry budget then says no).
    assert outcomes["ok"] >= 1800, outcomes


async def test_without_idempotency_key_commit_then_fail_is_not_retried() -> None:
    """A charge POST without a key is never resent after an ambiguous failure."""
    async with await serve_simulator("payment") as sim:
        control = SimulatorControl(sim.url)
        config = loopback_config(
            f"""
            integrations:
              payments:
                providers: [{{name: stripe, base_url: "{sim.url}"}}]
                policy: {{retry: {{attempts: 3, backoff: {{initial: 1ms, max: 1ms}}}}}}
            """
        )
        await control.add_fault(kind="commit_then_fail", path="/v1/charges", first=1)
        async with httpx.AsyncClient(
            transport=seawall.Transport("payments", config=config)
        ) as client:
            with pytest.raises(seawall.UpstreamConnectError) as caught:
                await client.post(
                    "http://payments/v1/charges",
                    data={"amount": 500, "currency": "usd", "customer": "cus_1"},
                )
        assert caught.value.attempts == 1
        ledger = sim.state
        assert isinstance(ledger, PaymentLedger)
        assert ledger.charge_count == 1


async def test_retry_after_is_honoured_and_rate_never_exceeded() -> None:
    """429 with Retry-After makes the client wait as told; the token bucket caps the rate."""
    async with await serve_simulator("weather") as sim:
        control = SimulatorControl(sim.url)
        sink = RecordingSink()
        config = loopback_config(
            f"""
            integrations:
              weather:
                providers: [{{name: ow, base_url: "{sim.url}"}}]
                policy:
                  deadline: 10s
                  retry: {{attempts: 4, backoff: {{initial: 1ms, max: 1ms}}}}
                  rate_limit: {{rate: 20/s, burst: 5}}
            """
        )
        await control.add_fault(kind="rate_limit", path="/data/*", retry_after=1, first=1)
        transport = seawall.Transport("weather", config=config, sink=sink)
        async with httpx.AsyncClient(transport=transport) as client:
            started = time.monotonic()
            first = await client.get("http://weather/data/2.5/weather", params={"q": "Oslo"})
            waited = time.monotonic() - started
            assert first.status_code == 200
            assert first.extensions["seawall"].attempts == 2
            assert waited >= 1.0
            sink.events.clear()
            burst_started = time.monotonic()
            responses = await asyncio.gather(
                *(
                    client.get("http://weather/data/2.5/weather", params={"q": f"c{i}"})
                    for i in range(45)
                )
            )
            elapsed = time.monotonic() - burst_started
        assert all(r.status_code == 200 for r in responses)
        starts = sorted(e.at - e.duration for e in sink.of(AttemptFinished))
        assert len(starts) == 45
        # tokens: 5 at once (bucket holds 4 after the first call's refill), then 20/s
        assert elapsed >= (45 - 5) / 20 - 0.05
        for i, start in enumerate(starts):
            within = [s for s in starts[i:] if s - start < 1.0]
            assert len(within) <= 20 + 5, "more calls in one second than rate + burst"


async def test_sync_transport_against_simulator() -> None:
    """SyncTransport gives httpx.Client the same protection from a thread."""
    async with await serve_simulator("inventory") as sim:
        config = loopback_config(
            f"""
            integrations:
              inventory:
                providers: [{{name: wh, base_url: "{sim.url}"}}]
            """
        )
        control = SimulatorControl(sim.url)
        await control.add_fault(
            kind="error", path="/v1/inventory/*", rate=1.0, statuses=[503], first=1
        )

        def run() -> dict[str, Any]:
            with httpx.Client(
                transport=seawall.SyncTransport("inventory", config=config)
            ) as client:
                response = client.get("http://inventory/v1/inventory", params={"sku": "SKU-1"})
                return {
                    "status": response.status_code,
                    "attempts": response.extensions["seawall"].attempts,
                }

        result = await asyncio.to_thread(run)
        assert result["status"] in (200, 404)
        assert result["attempts"] in (1, 2)


async def test_transport_streams_large_bodies() -> None:
    """seawall.Transport relays a large body chunk by chunk to httpx's streaming API."""
    from tests.gateway.conftest import echo_server

    async with echo_server() as upstream:
        config = loopback_config(
            f"""
            integrations:
              files:
                providers: [{{name: store, base_url: "{upstream}"}}]
            """
        )
        async with httpx.AsyncClient(transport=seawall.Transport("files", config=config)) as client:
            async with client.stream("GET", "http://files/blob?size=2000000") as response:
                assert response.status_code == 200
                sizes = [len(chunk) async for chunk in response.aiter_raw()]
            assert sum(sizes) == 2_000_000
            assert len(sizes) > 1, "the body arrived in pieces, not as one buffer"
            small = await client.get("http://files/x")
            assert small.status_code == 200
