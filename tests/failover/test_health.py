"""Active probes and passive outlier detection steer traffic, and fail back without flapping."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from seawall._events import ProbeFinished, ProviderHealthChanged, RecordingSink
from seawall.chaos import SimulatorControl, serve_simulator
from seawall.engine import Engine, Request
from seawall.probes import ProbeScheduler
from seawall.transports import AiohttpUpstream
from tests.engine.conftest import loopback_config

pytestmark = pytest.mark.realserver


async def _providers(engine: Engine, calls: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for _ in range(calls):
        answer = await engine.call("weather", Request("GET", "/data/2.5/weather?q=Oslo"))
        assert answer.status == 200
        seen[answer.provider] += 1
    return seen


async def test_failing_probes_eject_and_passing_probes_restore_after_healthy_period() -> None:
    """Probes failing twice take the primary out; it returns only after healthy_for of passing probes."""
    async with (
        await serve_simulator("weather") as primary,
        await serve_simulator("weather") as backup,
    ):
        config = loopback_config(
            f"""
            integrations:
              weather:
                providers:
                  - name: primary
                    base_url: "{primary.url}"
                    health: {{path: /healthcheck, interval: 100ms, timeout: 500ms, expect: {{status: 200, json_path: "$.status", json_equals: ok}}}}
                  - {{name: backup, role: backup, base_url: "{backup.url}"}}
                outlier_detection: {{healthy_for: 1s}}
            """
        )
        sink = RecordingSink()
        engine = Engine(config, upstream=AiohttpUpstream(), sink=sink)
        probes = ProbeScheduler(lambda: engine, sink)
        probes.start()
        try:
            assert await _providers(engine, 5) == {"primary": 5}
            fault = await SimulatorControl(primary.url).add_fault(
                kind="error", path="/healthcheck", rate=1.0, statuses=[500]
            )
            async with asyncio.timeout(5):
                while engine.current_provider("weather") != "backup":
                    await asyncio.sleep(0.05)
            assert await _providers(engine, 5) == {"backup": 5}
            await SimulatorControl(primary.url).remove_fault(fault)
            healthy_again = time.monotonic()
            async with asyncio.timeout(5):
                while engine.current_provider("weather") != "primary":
                    await asyncio.sleep(0.05)
            assert time.monotonic() - healthy_again >= 0.9, "failback waited for healthy_for"
            assert await _providers(engine, 5) == {"primary": 5}
        finally:
            await probes.stop()
            await engine.aclose()
        reasons = [e.reason for e in sink.of(ProviderHealthChanged)]
        assert "probe-failed" in reasons
        assert reasons[-1] in ("healthy-period-passed", "probe-recovered")
        probes_seen = sink.of(ProbeFinished)
        assert any(not p.ok for p in probes_seen)
        assert any(p.ok for p in probes_seen)


async def test_consecutive_failures_eject_from_real_traffic() -> None:
    """Five failures in a row from real calls eject a provider; the backup serves meanwhile."""
    async with (
        await serve_simulator("weather") as primary,
        await serve_simulator("weather") as backup,
    ):
        await SimulatorControl(primary.url).add_fault(kind="error", rate=1.0, statuses=[503])
        config = loopback_config(
            f"""
            integrations:
              weather:
                providers:
                  - {{name: primary, base_url: "{primary.url}"}}
                  - {{name: backup, role: backup, base_url: "{backup.url}"}}
                outlier_detection: {{consecutive_failures: 3, base_ejection: 30s}}
                policy:
                  retry: {{attempts: 2, backoff: {{initial: 1ms, max: 2ms}}}}
                  circuit_breaker: {{enabled: false}}
            """
        )
        sink = RecordingSink()
        engine = Engine(config, upstream=AiohttpUpstream(), sink=sink)
        try:
            seen = await _providers(engine, 10)
        finally:
            await engine.aclose()
        assert seen == {"backup": 10}, "every call still answered, by the backup"
        primary_hits = [
            e
            for e in sink.events
            if getattr(e, "provider", None) == "primary" and type(e).__name__ == "AttemptFinished"
        ]
        assert len(primary_hits) == 3, "after three failures the primary is no longer tried"
        assert [e.reason for e in sink.of(ProviderHealthChanged)] == ["consecutive-failures"]


async def test_weighted_routing_spreads_calls_by_weight() -> None:
    """Weighted routing sends calls in proportion to the providers' weights."""
    async with (
        await serve_simulator("weather") as heavy,
        await serve_simulator("weather") as light,
    ):
        config = loopback_config(
            f"""
            integrations:
              weather:
                routing: weighted
                providers:
                  - {{name: heavy, base_url: "{heavy.url}", weight: 3}}
                  - {{name: light, base_url: "{light.url}", weight: 1}}
            """
        )
        engine = Engine(config, upstream=AiohttpUpstream())
        try:
            seen = await _providers(engine, 40)
        finally:
            await engine.aclose()
        assert seen == {"heavy": 30, "light": 10}
