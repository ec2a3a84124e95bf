"""The admin API's operator actions: provider health and maintenance, the outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from seawall.config._operations import AdminToken
from seawall.service import Service
from seawall.web import AdminContext, RecentCalls, TokenBook, build_admin_app
from tests.gateway.conftest import (
    ADMIN_TOKEN,
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    echo_server,
    service_head,
    write_config,
)

pytestmark = [pytest.mark.realserver]

VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SECRET = "sk_live_do_not_show_0123456789"
MAINTENANCE = "/api/v1/integrations/pay/providers/first/maintenance"


def _config(upstream: str, store: Path) -> str:
    return f"""{service_head(store)}
    integrations:
      pay:
        providers:
          - {{name: first, base_url: {upstream}}}
          - {{name: second, role: backup, base_url: {upstream}}}
      mail:
        providers:
          - {{name: relay, base_url: {upstream}}}
        fallback: {{type: queue, max_age: 1h}}
    """


@dataclass
class Running:
    service: Service
    admin: httpx.AsyncClient
    gateway: str


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """An in-process seawall with a temporary SQLite store, in front of the echo server."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, _config(upstream, tmp_path / "state.db"))
        service = Service(path)
        await service.start()
        try:
            admin_url = f"http://127.0.0.1:{service.admin_port}"
            async with httpx.AsyncClient(base_url=admin_url, timeout=10) as admin:
                yield Running(service, admin, f"http://127.0.0.1:{service.gateway_port}")
        finally:
            await service.stop()


async def _enqueue(service: Service, integration: str = "mail", *, due: bool = False) -> str:
    """Queue a write that carries a secret header and body, due in an hour unless ``due``."""
    assert service.store is not None
    now = time.time()
    return await service.store.outbox.enqueue(
        integration,
        method="POST",
        target=f"/v3/send?api_key={SECRET}&to=ada",
        headers=[("Authorization", f"Bearer {SECRET}"), ("Content-Type", "application/json")],
        body=f'{{"card": "{SECRET}"}}'.encode(),
        now=now,
        not_before=None if due else now + 3600,
    )


async def test_integration_view_shows_current_provider_health_and_outbox(tmp_path: Path) -> None:
    """An integration shows its current provider, failovers, per-provider health and outbox depth."""
    async with running(tmp_path) as seawall:
        await _enqueue(seawall.service)
        pay = (await seawall.admin.get("/api/v1/integrations/pay", headers=VIEWER)).json()
        assert pay["current_provider"] == "first"
        assert pay["failovers"] == 0
        assert pay["outbox"] is None
        first = pay["providers"][0]
        assert first["health"] == {
            "status": "healthy",
            "ejected_until": None,
            "reason": None,
            "ejections": 0,
        }
        assert first["maintenance"] is None
        assert first["probe"] is None
        listing = (await seawall.admin.get("/api/v1/integrations", headers=VIEWER)).json()
        mail = next(i for i in listing["integrations"] if i["name"] == "mail")
        assert mail["outbox"]["depth"] == 1
        assert mail["outbox"]["oldest_seconds"] >= 0

        async with httpx.AsyncClient(base_url=seawall.gateway) as client:
            await client.get("/pay/v1/charge?status=503")
        engine = seawall.service.engine
        engine.integration("pay").board.eject("first", engine.clock.now(), seconds=60)
        seawall.service.probes.results[("pay", "second")] = False
        pay = (await seawall.admin.get("/api/v1/integrations/pay", headers=VIEWER)).json()
        assert pay["failovers"] >= 1
        assert pay["current_provider"] == "second"
        first, second = pay["providers"]
        assert first["health"]["status"] == "ejected"
        assert first["health"]["reason"] == "outlier-detection"
        assert first["health"]["ejected_until"] == pytest.approx(time.time() + 60, abs=5)
        assert second["probe"] == {"ok": False}


async def test_maintenance_moves_traffic_and_stop_brings_it_back(tmp_path: Path) -> None:
    """An operator's maintenance window moves the current provider to the backup; stopping it moves it back."""
    async with running(tmp_path) as seawall:
        body = {"duration": "30m", "reason": "vendor upgrade"}
        viewer = await seawall.admin.post(MAINTENANCE, json=body, headers=VIEWER)
        assert viewer.status_code == 403
        started = await seawall.admin.post(MAINTENANCE, json=body, headers=OPERATOR)
        assert started.status_code == 201, started.text
        result = started.json()
        assert result["current_provider"] == "second"
        window = result["maintenance"]
        assert window["phase"] == "open"
        assert window["reason"] == "vendor upgrade"
        assert window["end"] - window["start"] == pytest.approx(1800)

        pay = (await seawall.admin.get("/api/v1/integrations/pay", headers=VIEWER)).json()
        assert pay["current_provider"] == "second"
        assert pay["providers"][0]["maintenance"]["phase"] == "open"
        async with httpx.AsyncClient(base_url=seawall.gateway) as client:
            routed = await client.get("/pay/v1/x")
        assert routed.headers["X-Seawall-Provider"] == "second"

        stopped = await seawall.admin.delete(MAINTENANCE, headers=OPERATOR)
        assert stopped.status_code == 200
        assert stopped.json()["ended"]["reason"] == "vendor upgrade"
        assert stopped.json()["maintenance"] is None
        pay = (await seawall.admin.get("/api/v1/integrations/pay", headers=VIEWER)).json()
        assert pay["current_provider"] == "first"
        assert pay["providers"][0]["maintenance"] is None

        seconds = await seawall.admin.post(MAINTENANCE, json={"duration": 90}, headers=ADMIN)
        window = seconds.json()["maintenance"]
        assert window["end"] - window["start"] == pytest.approx(90)


@pytest.mark.parametrize(
    "body",
    [
        {"duration": "0s"},
        {"duration": "soon"},
        {"duration": -5},
        {"duration": True},
        {"duration": "60d"},
        {"reason": "no duration"},
        {"duration": "5m", "reason": "x" * 201},
        {"duration": "5m", "reason": "line\nbreak"},
        {"duration": "5m", "extra": 1},
        ["5m"],
    ],
)
async def test_maintenance_refuses_bad_input(tmp_path: Path, body: object) -> None:
    """A bad duration, reason or shape is a 400 problem and starts nothing."""
    async with running(tmp_path) as seawall:
        response = await seawall.admin.post(MAINTENANCE, json=body, headers=OPERATOR)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert seawall.service.engine.maintenance("pay", "first") is None


async def test_maintenance_unknown_names_and_non_json(tmp_path: Path) -> None:
    """Unknown integrations and providers are 404; a body that is not JSON is 400."""
    async with running(tmp_path) as seawall:
        for path in (
            "/api/v1/integrations/nope/providers/first/maintenance",
            "/api/v1/integrations/pay/providers/nope/maintenance",
        ):
            missing = await seawall.admin.post(path, json={"duration": "5m"}, headers=OPERATOR)
            assert missing.status_code == 404
            assert (await seawall.admin.delete(path, headers=OPERATOR)).status_code == 404
        garbage = await seawall.admin.post(MAINTENANCE, content=b"{not json", headers=OPERATOR)
        assert garbage.status_code == 400


async def test_outbox_list_and_show_never_reveal_secrets(tmp_path: Path) -> None:
    """Listing and showing messages gives header names and body size, never values or bodies."""
    async with running(tmp_path) as seawall:
        first = await _enqueue(seawall.service)
        second = await _enqueue(seawall.service, "ghost")
        listing = await seawall.admin.get("/api/v1/outbox", headers=VIEWER)
        assert listing.status_code == 200
        assert SECRET not in listing.text
        assert [m["id"] for m in listing.json()["messages"]] == [first, second]
        only_mail = await seawall.admin.get(
            "/api/v1/outbox", params={"integration": "mail", "state": "pending"}, headers=VIEWER
        )
        assert [m["id"] for m in only_mail.json()["messages"]] == [first]
        shown = await seawall.admin.get(f"/api/v1/outbox/{first.upper()}", headers=VIEWER)
        assert shown.status_code == 200
        assert SECRET not in shown.text
        message = shown.json()
        assert message["header_names"] == ["Authorization", "Content-Type"]
        assert message["body_bytes"] == len(f'{{"card": "{SECRET}"}}')
        assert message["target"] == "/v3/send?api_key=***&to=***"
        assert "body" not in message
        assert "headers" not in message


async def test_outbox_bad_input_and_unknown_ids(tmp_path: Path) -> None:
    """Filters and ids are checked (400), unknown ids are 404, and the outbox needs a token."""
    async with running(tmp_path) as seawall:
        for params in ({"limit": "0"}, {"limit": "501"}, {"state": "lost"}, {"integration": "A!"}):
            bad = await seawall.admin.get("/api/v1/outbox", params=params, headers=VIEWER)
            assert bad.status_code == 400, params
        assert (await seawall.admin.get("/api/v1/outbox")).status_code == 401
        assert (
            await seawall.admin.get("/api/v1/outbox/not-a-uuid", headers=VIEWER)
        ).status_code == 400
        unknown = "01900000-0000-7000-8000-000000000000"
        assert (
            await seawall.admin.get(f"/api/v1/outbox/{unknown}", headers=VIEWER)
        ).status_code == 404
        assert (
            await seawall.admin.post(f"/api/v1/outbox/{unknown}/retry", headers=OPERATOR)
        ).status_code == 404
        assert (
            await seawall.admin.delete(f"/api/v1/outbox/{unknown}", headers=OPERATOR)
        ).status_code == 404


async def test_outbox_retry_and_drop(tmp_path: Path) -> None:
    """A dead message is retried (then delivered by the worker); a live one is 409; drop removes one."""
    async with running(tmp_path) as seawall:
        store = seawall.service.store
        assert store is not None
        pending = await _enqueue(seawall.service)
        dead = await _enqueue(seawall.service)
        assert await store.outbox.mark_dead(dead, reason="vendor refused", now=time.time())

        viewer = await seawall.admin.post(f"/api/v1/outbox/{dead}/retry", headers=VIEWER)
        assert viewer.status_code == 403
        conflict = await seawall.admin.post(f"/api/v1/outbox/{pending}/retry", headers=OPERATOR)
        assert conflict.status_code == 409
        assert "pending" in conflict.json()["detail"]
        retried = await seawall.admin.post(f"/api/v1/outbox/{dead}/retry", headers=OPERATOR)
        assert retried.status_code == 200
        assert retried.json()["state"] in ("pending", "delivering", "delivered")
        assert SECRET not in retried.text
        for _ in range(100):
            message = await store.outbox.get(dead)
            if message is not None and message.state.value == "delivered":
                break
            await asyncio.sleep(0.05)
        assert message is not None
        assert message.state.value == "delivered"

        assert (
            await seawall.admin.delete(f"/api/v1/outbox/{pending}", headers=VIEWER)
        ).status_code == 403
        dropped = await seawall.admin.delete(f"/api/v1/outbox/{pending}", headers=OPERATOR)
        assert dropped.status_code == 204
        assert await store.outbox.get(pending) is None
        again = await seawall.admin.delete(f"/api/v1/outbox/{pending}", headers=OPERATOR)
        assert again.status_code == 404


async def test_operator_actions_land_on_the_timeline_with_who_did_them(tmp_path: Path) -> None:
    async with running(tmp_path) as run:
        breaker = "/api/v1/integrations/pay/providers/first/breaker"
        answer = await run.admin.put(breaker, json={"state": "forced_open"}, headers=OPERATOR)
        assert answer.status_code == 200
        answer = await run.admin.post(MAINTENANCE, json={"duration": "5m"}, headers=OPERATOR)
        assert answer.status_code == 201
        answer = await run.admin.delete(MAINTENANCE, headers=OPERATOR)
        assert answer.status_code == 200
        refused = await run.admin.put(breaker, json={"state": "sideways"}, headers=OPERATOR)
        assert refused.status_code == 400
        assert run.service.store is not None
        events = await run.service.store.events.query(
            since=0, until=time.time() + 60, kinds=["operator-action"]
        )
    actions = [(e.data["action"], e.integration, e.provider, e.data["by"]) for e in events]
    assert actions == [
        ("breaker-set", "pay", "first", "oncall"),
        ("maintenance-started", "pay", "first", "oncall"),
        ("maintenance-stopped", "pay", "first", "oncall"),
    ]
    assert events[0].data["state"] == "forced_open"


async def test_an_absurd_maintenance_duration_is_a_400_not_a_crash(tmp_path: Path) -> None:
    async with running(tmp_path) as run:
        answer = await run.admin.post(
            MAINTENANCE,
            content=b'{"duration": 1' + b"0" * 400 + b"}",
            headers={**OPERATOR, "Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "a maintenance window lasts from 1s to 30d"


async def test_a_bug_in_a_handler_is_a_problem_response_and_a_logged_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Any:
        raise RuntimeError("engine exploded")

    async def reload() -> list[Any]:
        return []

    ctx = AdminContext(
        engine=broken,
        tokens=lambda: TokenBook([AdminToken(name="ops", token=ADMIN_TOKEN, role="admin")]),
        recent=RecentCalls(),
        metrics=lambda accept: (b"", "text/plain"),
        reload=reload,
        version="test",
    )
    runner = web.AppRunner(build_admin_app(ctx), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.get("/api/v1/integrations", headers=ADMIN)
    finally:
        await runner.cleanup()
    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "engine exploded" not in answer.text  # internals stay in the log
    assert any("engine exploded" in (r.exc_text or "") for r in caplog.records)
