"""Black-box tests: ``seawall run`` as a subprocess, real HTTP over loopback."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import (
    ADMIN_TOKEN,
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    admin_block,
    echo_server,
    run_gateway,
    write_config,
)

pytestmark = [pytest.mark.realserver, pytest.mark.slow]


def gateway_config(
    upstream: str, *, allow: str = "[127.0.0.1/32]", max_body: str = "1KB", extra: str = ""
) -> str:
    return f"""
    version: 1
    gateway:
      listen: 127.0.0.1:0
      max_body: {max_body}
      drain_timeout: 10s
      egress: {{allow: {allow}}}
    {admin_block()}
    defaults:
      policy:
        timeout: 3s
        deadline: 5s
        retry: {{attempts: 2, backoff: {{initial: 10ms, max: 20ms}}}}
    integrations:
      echo:
        providers:
          - name: local
            base_url: {upstream}
            auth: {{type: bearer, token: sk_from_config}}
      down:
        providers:
          - {{name: nowhere, base_url: "http://127.0.0.1:9"}}
    {extra}
    """


async def test_forwarding_headers_auth_and_problems(tmp_path: Path) -> None:
    """Method, path, query and body reach the provider; hop-by-hop headers and the caller's auth do not."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream))
        async with run_gateway(path) as gw, httpx.AsyncClient(base_url=gw.url) as client:
            response = await client.post(
                "/echo/v1/things/42?a=1&b=%20x",
                content=b"hello",
                headers={
                    "Authorization": "Bearer caller-should-not-pass",
                    "X-Custom": "kept",
                    "Connection": "keep-alive, X-Private",
                    "X-Private": "connection-scoped",
                    "Keep-Alive": "timeout=5",
                    "TE": "trailers",
                    "Proxy-Authorization": "Basic eA==",
                },
            )
            assert response.status_code == 200
            seen = response.json()
            assert seen["method"] == "POST"
            assert seen["path"] == "/v1/things/42"
            assert seen["query"] == "a=1&b=%20x"
            assert seen["body"] == "hello"
            headers = {k.lower(): v for k, v in seen["headers"]}
            assert headers["authorization"] == "Bearer sk_from_config"
            assert headers["x-custom"] == "kept"
            for hop in ("keep-alive", "te", "proxy-authorization", "x-private"):
                assert hop not in headers, hop
            assert response.headers["X-Seawall-Provider"] == "local"
            assert response.headers["X-Seawall-Attempts"] == "1"
            assert response.headers["X-Upstream"] == "echo"

            unknown = await client.get("/nope/v1")
            assert unknown.status_code == 404
            assert unknown.headers["Content-Type"] == "application/problem+json"
            assert unknown.json()["reason"] == "unknown-integration"

            down = await client.get("/down/v1/x")
            assert down.status_code == 502
            problem = down.json()
            assert problem["reason"] == "upstream-connect-error"
            assert problem["integration"] == "down"
            assert problem["attempts"] == 2

            redirect = await client.get("/echo/go?redirect=1&status=302")
            assert redirect.status_code == 302, "redirects are passed back, never followed"

            big = await client.post("/echo/upload", content=b"x" * 2000)
            assert big.status_code == 413
            assert big.json()["reason"] == "body-too-large"

            fine = await client.post("/echo/upload", content=b"x" * 900)
            assert fine.status_code == 200


async def test_large_bodies_stream_through(tmp_path: Path) -> None:
    """A body of unknown length is relayed as it arrives, intact, to the gateway's caller."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream))
        async with (
            run_gateway(path) as gw,
            httpx.AsyncClient(base_url=gw.url, timeout=30) as client,
        ):
            response = await client.get("/echo/download?size=3000000")
            assert response.status_code == 200
            assert response.headers["X-Seawall-Provider"] == "local"
            assert len(response.content) == 3_000_000
            block = bytes(range(256)) * 256
            assert response.content[: len(block)] == block
            assert (
                response.content[-10:]
                == block[(3_000_000 % len(block)) - 10 : 3_000_000 % len(block)]
            )


async def test_egress_guard_refuses_loopback_without_allow(tmp_path: Path) -> None:
    """A provider on 127.0.0.1 is refused unless gateway.egress.allow admits it."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream, allow="[]"))
        async with run_gateway(path) as gw, httpx.AsyncClient(base_url=gw.url) as client:
            response = await client.get("/echo/v1/x")
            assert response.status_code == 502
            assert response.json()["reason"] == "egress-denied"
            assert "gateway.egress.allow" in response.json()["detail"]


async def test_admin_tokens_roles_and_breaker_control(tmp_path: Path) -> None:
    """401 without a token, 403 for a low role; an operator forces a breaker open and the gateway refuses."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream))
        async with run_gateway(path) as gw, httpx.AsyncClient(base_url=gw.admin) as admin:
            assert (await admin.get("/api/v1/integrations")).status_code == 401
            wrong = await admin.get(
                "/api/v1/integrations", headers={"Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
            listing = await admin.get(
                "/api/v1/integrations", headers={"Authorization": f"Bearer {VIEWER_TOKEN}"}
            )
            assert listing.status_code == 200
            names = [i["name"] for i in listing.json()["integrations"]]
            assert names == ["echo", "down"]
            breaker_url = "/api/v1/integrations/echo/providers/local/breaker"
            viewer = await admin.put(
                breaker_url,
                json={"state": "forced_open"},
                headers={"Authorization": f"Bearer {VIEWER_TOKEN}"},
            )
            assert viewer.status_code == 403
            forced = await admin.put(
                breaker_url,
                json={"state": "forced_open"},
                headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            )
            assert forced.status_code == 200
            assert forced.json()["breaker"] == "forced_open"
            async with httpx.AsyncClient(base_url=gw.url) as client:
                refused = await client.get("/echo/v1/x")
            assert refused.status_code == 503
            assert refused.json()["reason"] == "circuit-open"
            closed = await admin.put(
                breaker_url,
                json={"state": "closed"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert closed.json()["breaker"] == "closed"
            bad = await admin.put(
                breaker_url,
                json={"state": "open"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert bad.status_code == 400
            reload_by_operator = await admin.post(
                "/api/v1/reload", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            )
            assert reload_by_operator.status_code == 403
            spec = await admin.get("/api/v1/openapi.json")
            assert spec.json()["openapi"].startswith("3.")
            metrics = await admin.get("/metrics")
            assert "seawall_requests_total" in metrics.text
            assert 'seawall_circuit_state{integration="echo",provider="local"} 0.0' in metrics.text
        log = "".join(gw.stderr)
        for token in (ADMIN_TOKEN, OPERATOR_TOKEN, VIEWER_TOKEN, "sk_from_config"):
            assert token not in log


async def test_reload_keeps_old_config_when_invalid_and_applies_valid(tmp_path: Path) -> None:
    """An invalid reload is refused (422) and traffic goes on; a valid one (SIGHUP) adds integrations."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream))
        async with run_gateway(path) as gw, httpx.AsyncClient(base_url=gw.url) as client:
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            path.write_text(path.read_text().replace("version: 1", "version: 1\nbogus_key: 1"))
            refused = await client.post(f"{gw.admin}/api/v1/reload", headers=auth)
            assert refused.status_code == 422
            assert refused.json()["findings"][0]["code"] == "unknown-key"
            assert (await client.get("/echo/still")).status_code == 200
            extra = f"  second:\n    providers:\n      - {{name: again, base_url: {upstream}}}\n"
            path.write_text(
                write_config(tmp_path, gateway_config(upstream), name="fresh.yaml").read_text()
                + extra
            )
            gw.process.send_signal(signal.SIGHUP)
            for _ in range(100):
                response = await client.get("/second/v1/x")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.05)
            assert response.status_code == 200
            assert response.headers["X-Seawall-Provider"] == "again"


async def test_sigterm_drains_in_flight_calls(tmp_path: Path) -> None:
    """On SIGTERM the gateway stops accepting, finishes in-flight calls, and exits 0."""
    async with echo_server() as upstream:
        path = write_config(tmp_path, gateway_config(upstream))
        async with (
            run_gateway(path) as gw,
            httpx.AsyncClient(base_url=gw.url, timeout=10) as client,
        ):
            slow = [asyncio.create_task(client.get(f"/echo/slow?delay=1&i={i}")) for i in range(5)]
            await asyncio.sleep(0.3)
            gw.process.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*slow)
            assert [r.status_code for r in responses] == [200] * 5
            assert await asyncio.wait_for(gw.process.wait(), 15) == 0
            with pytest.raises(httpx.ConnectError):
                await client.get("/echo/after")
