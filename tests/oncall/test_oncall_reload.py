"""A configuration reload keeps firing alerts firing without paging again."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from seawall._events import AttemptFinished
from seawall.service import Service
from tests.gateway.conftest import admin_block, write_config

pytestmark = [pytest.mark.realserver]

RULE = """
    alerts:
      - {name: pay-errors, integration: pay, provider: first, metric: error_rate,
         above: 20%, window: 10s, severity: critical}
"""


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[int, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(json.loads(await request.read()))
        return web.Response(status=204)

    application = web.Application()
    application.router.add_post("/hook", hook)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1], got
    finally:
        await runner.cleanup()


def _config(tmp_path: Path, port: int, *, rules: str, max_body: str = "1MB") -> str:
    return f"""
    version: 1
    store: "sqlite:///{tmp_path / "state.db"}"
    gateway:
      listen: 127.0.0.1:0
      max_body: {max_body}
    {admin_block()}
    integrations:
      pay:
        criticality: critical
        providers:
          - {{name: first, base_url: "http://127.0.0.1:9"}}
    {rules}
    notifications:
      channels:
        hook: {{url: "json://127.0.0.1:{port}/hook"}}
      routes:
        - {{match: {{}}, channels: [hook]}}
      group_wait: 0s
      group_interval: 0s
    """


def _failures(service: Service, count: int) -> None:
    for i in range(count):
        service.oncall.live.emit(
            AttemptFinished(
                at=time.monotonic(),
                integration="pay",
                provider="first",
                attempt=1,
                outcome="failure",
                status=503,
                duration=0.01 + i / 1000,
            )
        )


async def _delivered(got: list[dict[str, Any]], count: int) -> None:
    for _ in range(100):
        if len(got) >= count:
            return
        await asyncio.sleep(0.05)


async def test_reload_keeps_a_firing_alert_and_removing_its_rule_resolves_it(
    tmp_path: Path,
) -> None:
    async with receiver() as (port, got):
        path = write_config(tmp_path, _config(tmp_path, port, rules=RULE))
        service = Service(path, alert_interval=3600)  # ticks only when the test says
        await service.start()
        try:
            _failures(service, 20)
            await service.oncall.tick()
            await _delivered(got, 1)
            assert [p["title"] for p in got] == ["[FIRING:1] pay (critical)"]

            write_config(tmp_path, _config(tmp_path, port, rules=RULE, max_body="2MB"))
            assert await service.reload() == []
            _failures(service, 5)
            await service.oncall.tick()
            await asyncio.sleep(0.3)
            (status,) = service.oncall.statuses()
            assert status.state == "firing"
            assert len(got) == 1, "a reload must not page again for the same alert"

            write_config(tmp_path, _config(tmp_path, port, rules="", max_body="2MB"))
            assert await service.reload() == []
            assert service.oncall.statuses() == []
            assert service.store is not None
            assert await service.store.alerts.open_episodes() == []
            (episode,) = await service.store.alerts.query(0, time.time() + 60)
            assert episode.rule == "pay-errors"
            assert episode.resolved_at is not None
        finally:
            await service.stop()
