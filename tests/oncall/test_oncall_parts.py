"""The on-call part's own pieces: maintenance inhibition and the evidence a vendor is sent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seawall.notify import AlertView, GroupView
from seawall.oncall import evidence_text
from seawall.service import Service
from seawall.store import RollupRow, Store
from tests.gateway.conftest import admin_block, write_config
from tests.oncall.test_oncall_reload import RULE, _failures, receiver

pytestmark = [pytest.mark.realserver]


def _config(tmp_path: Path, port: int) -> str:
    return f"""
    version: 1
    store: "sqlite:///{tmp_path / "state.db"}"
    gateway: {{listen: 127.0.0.1:0}}
    {admin_block()}
    integrations:
      pay:
        providers:
          - {{name: first, base_url: "http://127.0.0.1:9"}}
    {RULE}
    notifications:
      channels:
        hook: {{url: "json://127.0.0.1:{port}/hook"}}
      routes:
        - {{match: {{}}, channels: [hook]}}
      group_wait: 0s
    """


async def test_alerts_about_a_provider_in_maintenance_are_inhibited(tmp_path: Path) -> None:
    async with receiver() as (port, got):
        service = Service(write_config(tmp_path, _config(tmp_path, port)), alert_interval=3600)
        await service.start()
        try:
            service.engine.start_maintenance("pay", "first", duration=600, reason="vendor upgrade")
            _failures(service, 20)
            await service.oncall.tick()
            (group,) = service.oncall.notifications().groups
            (alert,) = group.alerts
            assert alert.state == "firing"
            assert alert.muted == "inhibited: maintenance window on pay/first (vendor upgrade)"
            assert group.first_sent_at is None, "nothing was sent during the window"

            service.engine.stop_maintenance("pay", "first")
            _failures(service, 5)
            await service.oncall.tick()
            (group,) = service.oncall.notifications().groups
            assert group.alerts[0].muted is None
            assert group.first_sent_at is not None, "the window over, the alert is announced"
        finally:
            await service.stop()
    assert [p["title"] for p in got] == ["[FIRING:1] pay (critical)"]


async def test_evidence_names_failures_by_kind_and_what_seawall_did(tmp_path: Path) -> None:
    now = time.time()
    minute = int(now // 60 * 60) - 60
    async with await Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        await store.rollups.add(
            [
                RollupRow(
                    integration="pay",
                    provider="first",
                    start=minute,
                    width=60,
                    attempts=40,
                    success=28,
                    failure=6,
                    timeout=4,
                    connect_error=2,
                    calls=40,
                )
            ]
        )
        await store.events.append(
            "breaker-changed",
            at=now - 30,
            integration="pay",
            provider="first",
            data={"old": "closed", "new": "open", "reason": "failure-rate"},
        )
        group = GroupView(
            key="route0/integration=pay",
            route=0,
            labels={"integration": "pay"},
            alerts=(
                AlertView(
                    fingerprint="0123456789abcdef",
                    rule="pay-errors",
                    labels={"alertname": "pay-errors", "integration": "pay"},
                    state="firing",
                    summary="pay error rate 30% is above 20%",
                    severity="critical",
                    value=0.3,
                    threshold=0.2,
                    since=now - 120,
                    fired_at=now - 60,
                ),
            ),
            created_at=now - 60,
        )
        text = await evidence_text(store, group, now=now)
    assert "pay-errors" in text
    assert (
        "- first: 40 requests, 12 failed (30.0%): 6 error responses, 4 timeouts, "
        "2 connection errors; 0 throttled; 28 answered"
    ) in text
    assert "breaker-changed pay/first" in text
    assert "new=open" in text


async def test_evidence_for_one_vendor_leaves_out_the_other_vendors(tmp_path: Path) -> None:
    now = time.time()
    minute = int(now // 60 * 60) - 60
    async with await Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        await store.rollups.add(
            [
                RollupRow(integration="pay", provider=p, start=minute, width=60, attempts=10,
                          success=5, failure=5, calls=10)
                for p in ("stripe", "adyen")
            ]
        )  # fmt: skip
        await store.events.append(
            "failed-over", at=now - 10, integration="pay", provider="adyen", data={"to": "x"}
        )
        labels = {"alertname": "stripe-errors", "integration": "pay", "provider": "stripe"}
        group = GroupView(
            key="route0/integration=pay",
            route=0,
            labels={"integration": "pay"},
            alerts=(
                AlertView(
                    fingerprint="0123456789abcdef",
                    rule="stripe-errors",
                    labels=labels,
                    state="firing",
                    summary="stripe error rate 50%",
                    severity="critical",
                    value=0.5,
                    threshold=0.2,
                    since=now - 120,
                    fired_at=now - 60,
                ),
            ),
            created_at=now - 60,
        )
        text = await evidence_text(store, group, now=now)
    assert "- stripe: 10 requests" in text
    assert "adyen" not in text
