"""Email platform down: accepted emails are queued durably and delivered exactly once, in order,
even when the gateway is killed with SIGKILL in the middle of delivering them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from seawall.chaos import SimulatorControl, serve_simulator
from seawall.chaos.simulators._deliveries import DeliveryLog
from tests.gateway.conftest import ADMIN_TOKEN, run_gateway, write_config

pytestmark = [pytest.mark.realserver, pytest.mark.slow]

RECIPIENTS = ("ana@example.com", "bo@example.com", "cy@example.com")


def email(recipient: str, number: int) -> dict[str, object]:
    return {
        "personalizations": [{"to": [{"email": recipient}]}],
        "from": {"email": "shop@example.com"},
        "subject": f"{recipient} #{number}",
        "content": [{"type": "text/plain", "value": "hello"}],
    }


async def test_queued_emails_survive_kill_9_and_arrive_once_in_order(tmp_path: Path) -> None:
    """30 emails accepted with 202 while the vendor is down arrive exactly once, in order per recipient."""
    async with await serve_simulator("email") as sendgrid:
        control = SimulatorControl(sendgrid.url)
        log = sendgrid.state
        assert isinstance(log, DeliveryLog)
        config = write_config(
            tmp_path,
            f"""
            version: 1
            store: sqlite:///{tmp_path}/state.db
            gateway:
              listen: 127.0.0.1:0
              egress: {{allow: [127.0.0.1/32]}}
            admin:
              listen: 127.0.0.1:0
              tokens: [{{name: ops, token: "{ADMIN_TOKEN}", role: admin}}]
            integrations:
              email:
                providers: [{{name: sendgrid, base_url: "{sendgrid.url}", auth: {{type: bearer, token: SG.x}}}}]
                idempotency: {{generate: true}}
                fallback: {{type: queue, max_age: 1h, key: "$.personalizations[0].to[0].email", lease: 2s}}
                policy:
                  timeout: 2s
                  retry: {{attempts: 2, backoff: {{initial: 5ms, max: 10ms}}}}
                  circuit_breaker: {{enabled: false}}
            """,
        )
        outage = await control.add_fault(kind="error", rate=1.0, statuses=[503])
        queued: list[str] = []
        async with (
            run_gateway(config) as gateway,
            httpx.AsyncClient(base_url=gateway.url) as client,
        ):
            for number in range(10):
                for recipient in RECIPIENTS:
                    response = await client.post(
                        "/email/v3/mail/send", json=email(recipient, number)
                    )
                    assert response.status_code == 202, response.text
                    assert response.headers["X-Seawall-Fallback"] == "queue"
                    queued.append(response.headers["X-Seawall-Queued"])
            assert log.message_count == 0
            # The vendor recovers, but slowly: each delivery takes 300 ms inside the vendor.
            await control.remove_fault(outage)
            await control.add_fault(kind="latency", ms=300, phase="processing")
            async with asyncio.timeout(20):
                while log.message_count < 4:
                    await asyncio.sleep(0.05)
            gateway.process.kill()  # SIGKILL: no drain, deliveries cut off mid-flight
            await gateway.process.wait()
        delivered_before_restart = log.message_count
        assert delivered_before_restart < 30
        async with run_gateway(config):
            async with asyncio.timeout(45):
                while log.message_count < 30:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(2.5)  # a lease expiring now must not produce a second delivery
    assert len(set(queued)) == 30
    subjects = [m.subject for m in log.messages]
    assert len(subjects) == 30, "each accepted email delivered exactly once"
    assert len(set(subjects)) == 30
    per_recipient: dict[str, list[int]] = defaultdict(list)
    for message in log.messages:
        per_recipient[message.recipient].append(int(message.subject.rsplit("#", 1)[1]))
    for recipient in RECIPIENTS:
        assert per_recipient[recipient] == list(range(10)), f"{recipient} got them out of order"
    keys = [m.idempotency_key for m in log.messages]
    assert None not in keys
    assert len(set(keys)) == 30
