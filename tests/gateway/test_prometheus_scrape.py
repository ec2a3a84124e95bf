"""A real Prometheus (Debian's package) scrapes seawall's /metrics."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest

from seawall.service import Service
from tests.gateway.conftest import echo_server, write_config
from tests.gateway.test_gateway_blackbox import gateway_config

pytestmark = [pytest.mark.realserver, pytest.mark.slow]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install prometheus (.ci/run does this)")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_promtool_accepts_the_exposition(tmp_path: Path) -> None:
    """promtool check metrics finds no problem in what /metrics serves."""
    promtool = _tool("promtool")
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, gateway_config(upstream)))
        await service.start()
        try:
            async with httpx.AsyncClient() as client:
                await client.get(f"http://127.0.0.1:{service.gateway_port}/echo/v1/x")
                await client.get(f"http://127.0.0.1:{service.gateway_port}/down/v1/x")
                body = (await client.get(f"http://127.0.0.1:{service.admin_port}/metrics")).content
        finally:
            await service.stop()
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


async def test_prometheus_scrapes_request_counts(tmp_path: Path) -> None:
    """Prometheus scrapes the admin port and sees the calls that went through the gateway."""
    prometheus = _tool("prometheus")
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, gateway_config(upstream)))
        await service.start()
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            textwrap.dedent(
                f"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: seawall
                    static_configs:
                      - targets: ["127.0.0.1:{service.admin_port}"]
                """
            )
        )
        process = await asyncio.create_subprocess_exec(
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(7):
                    ok = await client.get(f"http://127.0.0.1:{service.gateway_port}/echo/v1/x")
                    assert ok.status_code == 200
                failed = await client.get(f"http://127.0.0.1:{service.gateway_port}/down/v1/x")
                assert failed.status_code == 502
                query = f"http://127.0.0.1:{port}/api/v1/query"
                samples: dict[str, float] = {}
                async with asyncio.timeout(30):
                    while len(samples) < 2:
                        await asyncio.sleep(0.5)
                        try:
                            answer = await client.get(
                                query, params={"query": "seawall_requests_total"}
                            )
                        except httpx.TransportError:
                            continue
                        for row in answer.json().get("data", {}).get("result", []):
                            labels = row["metric"]
                            samples[f"{labels['integration']}/{labels['outcome']}"] = float(
                                row["value"][1]
                            )
                up = await client.get(query, params={"query": 'up{job="seawall"}'})
                circuit = await client.get(query, params={"query": "seawall_circuit_state"})
        finally:
            process.terminate()
            await process.wait()
            await service.stop()
    assert samples["echo/success"] == 7.0
    assert samples["down/upstream-connect-error"] == 1.0
    assert up.json()["data"]["result"][0]["value"][1] == "1"
    states = {r["metric"]["provider"]: r["value"][1] for r in circuit.json()["data"]["result"]}
    assert states == {"local": "0", "nowhere": "0"}
