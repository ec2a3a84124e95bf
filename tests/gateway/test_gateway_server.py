"""GatewayServer over real loopback: forwarding, header hygiene, problems, bodies, drain.

Each scenario runs on the stdlib event loop and on uvloop (which ``seawall run``
uses): their transports differ in pause/resume, writelines and EOF details.
The raw-socket cases (framing, malformed input, timeouts) are in
``test_gateway_server_wire.py``; the helpers here serve both.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web

from seawall._states import BreakerState
from seawall.chaos import SimulatorControl, serve_simulator
from seawall.config import Config, check_text
from seawall.engine import Engine
from seawall.gateway import GatewayServer
from seawall.security import EgressPolicy
from seawall.transports import AiohttpUpstream
from tests.gateway.conftest import echo_server

pytestmark = pytest.mark.realserver

_T = TypeVar("_T")

LOOPS = ["asyncio", "uvloop"]


def run(loop: str, main: Coroutine[Any, Any, _T], limit: float = 30.0) -> _T:
    """Run ``main`` on a fresh loop of the named kind; a hang fails after ``limit`` seconds."""

    async def bounded() -> _T:
        async with asyncio.timeout(limit):
            return await main

    if loop == "uvloop":
        import uvloop

        return uvloop.run(bounded())
    return asyncio.run(bounded())


def make_config(upstream: str, *, max_body: str = "1KB", extra: str = "") -> Config:
    """``echo`` on ``upstream``, ``down`` on a closed port; ``extra`` adds integrations."""
    text = f"""
    version: 1
    gateway:
      listen: 127.0.0.1:0
      max_body: {max_body}
      drain_timeout: 2s
      egress: {{allow: [127.0.0.1/32]}}
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
    """
    text = textwrap.dedent(text) + textwrap.indent(textwrap.dedent(extra), "  ")
    config, findings = check_text(text, env={})
    assert not findings, [str(f) for f in findings]
    assert config is not None
    return config


@dataclass
class Running:
    server: GatewayServer
    engine: Engine
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def gateway(config: Config, **options: Any) -> AsyncIterator[Running]:
    """A GatewayServer on a free port over an engine built from ``config``."""
    upstream = AiohttpUpstream(egress=EgressPolicy.from_config(config.gateway.egress))
    engine = Engine(config, upstream=upstream)
    options.setdefault("drain_timeout", config.gateway.drain_timeout)
    server = GatewayServer(lambda: engine, max_body=config.gateway.max_body, **options)
    port = await server.start("127.0.0.1", 0)
    try:
        yield Running(server, engine, port)
    finally:
        await server.stop()
        await engine.aclose()


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    interim: list[int] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


async def read_response(reader: asyncio.StreamReader, *, head: bool = False) -> RawResponse:
    """One HTTP/1.1 response off the wire, framed by its own fields (1xx collected)."""
    interim: list[int] = []
    while True:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [
            (k, v.strip()) for k, _, v in (line.partition(":") for line in lines[1:] if line)
        ]
        if status >= 200:
            break
        interim.append(status)
    response = RawResponse(status, headers, interim=interim)
    if head or status in (204, 304):
        return response
    if (response.header("Transfer-Encoding") or "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            assert await reader.readexactly(2) == b"\r\n"
        response.body = b"".join(parts)
    elif (length := response.header("Content-Length")) is not None:
        response.body = await reader.readexactly(int(length))
    else:
        response.body = await reader.read()
    return response


async def closed_by_peer(reader: asyncio.StreamReader, within: float = 3.0) -> bool:
    """True when the other side closes (EOF or reset) within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while data := await reader.read(65536):
                del data  # whatever is still in flight before the close
            return True
    except ConnectionError:
        return True
    except TimeoutError:
        return False


# -- forwarding and hygiene ---------------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_forwards_method_path_query_body_and_injects_auth(loop: str) -> None:
    """Method, path, query and body reach the vendor; hop-by-hop fields and the caller's auth do not."""

    async def main() -> None:
        async with (
            echo_server() as upstream,
            gateway(make_config(upstream)) as gw,
            httpx.AsyncClient(base_url=gw.url) as client,
        ):
            response = await client.post(
                "/echo/v1/things/42?a=1&b=%20x",
                content=b"hello",
                headers={
                    "Authorization": "Bearer caller-should-not-pass",
                    "X-Custom": "kept",
                    "Connection": "keep-alive, X-Private",
                    "X-Private": "connection-scoped",
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
            for hop in ("te", "proxy-authorization", "x-private"):
                assert hop not in headers, hop
            assert response.headers["X-Seawall-Provider"] == "local"
            assert response.headers["X-Seawall-Attempts"] == "1"
            assert response.headers["X-Upstream"] == "echo"

            bare = await client.get("/echo?only=query")
            assert bare.json()["path"] == "/"
            assert bare.json()["query"] == "only=query"

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_response_fields_are_the_vendors_minus_hop_by_hop_plus_seawalls(loop: str) -> None:
    """One Date, Server: seawall, no vendor Connection field, the vendor's own fields in order."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"GET /echo/x HTTP/1.1\r\nHost: gw\r\n\r\n")
            response = await read_response(reader)
            writer.close()
            assert response.status == 200
            assert response.all("Server") == ["seawall"]
            [date] = response.all("Date")
            assert date.endswith(" GMT")
            assert response.all("Connection") == []  # HTTP/1.1 keep-alive needs no field
            assert response.all("Content-Length") == [str(len(response.body))]
            assert response.header("Content-Type") == "application/json"
            names = [k.lower() for k, _ in response.headers]
            assert names.index("x-upstream") < names.index("x-seawall-provider")
            assert json.loads(response.body)["path"] == "/x"

    run(loop, main())


# -- problems -----------------------------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_problems_for_unknown_integration_bad_target_and_failed_calls(loop: str) -> None:
    """The gateway's own refusals and the engine's failures are RFC 9457 problems."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            async with httpx.AsyncClient(base_url=gw.url) as client:
                unknown = await client.get("/nope/v1")
                assert unknown.status_code == 404
                assert unknown.headers["Content-Type"] == "application/problem+json"
                problem = unknown.json()
                assert problem["reason"] == "unknown-integration"
                assert problem["integration"] == "nope"
                assert "configured: down, echo" in problem["detail"]

                root = await client.get("/")
                assert root.status_code == 404
                assert "integration" not in root.json()

                down = await client.get("/down/v1/x")
                assert down.status_code == 502
                assert down.json()["reason"] == "upstream-connect-error"
                assert down.json()["attempts"] == 2

                gw.engine.set_breaker("echo", "local", BreakerState.FORCED_OPEN)
                refused = await client.get("/echo/v1/x")
                assert refused.status_code == 503
                assert refused.json()["reason"] == "circuit-open"
                assert refused.headers["Cache-Control"] == "no-store"

                # a problem leaves the connection usable
                gw.engine.set_breaker("echo", "local", BreakerState.CLOSED)
                assert (await client.get("/echo/v1/x")).status_code == 200
            assert gw.server.connections == 1

            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"GET http://elsewhere/x HTTP/1.1\r\nHost: gw\r\n\r\n")
            absolute = await read_response(reader)
            assert absolute.status == 400
            assert json.loads(absolute.body)["reason"] == "bad-request"
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_vendor_that_hangs_is_an_upstream_timeout_problem(loop: str) -> None:
    """A simulator that never answers gives 504 upstream-timeout within the policy's timeout."""

    async def main() -> None:
        async with await serve_simulator("weather") as sim:
            extra = f"""
              weather:
                policy: {{timeout: 200ms, retry: {{attempts: 1}}}}
                providers:
                  - {{name: sim, base_url: "{sim.url}"}}
            """
            config = make_config("http://127.0.0.1:9", extra=extra)
            async with gateway(config) as gw, httpx.AsyncClient(base_url=gw.url) as client:
                ok = await client.get("/weather/data/2.5/weather?q=Oslo")
                assert ok.status_code == 200
                assert ok.json()["name"] == "Oslo"
                await SimulatorControl(sim.url).add_fault(kind="hang", path="/data/2.5/weather")
                slow = await client.get("/weather/data/2.5/weather?q=Oslo")
                assert slow.status_code == 504
                assert slow.json()["reason"] == "upstream-timeout"
                assert slow.json()["integration"] == "weather"

    run(loop, main())


# -- request bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_max_body_by_declared_length_and_by_chunked_growth(loop: str) -> None:
    """413 for a Content-Length over max_body and for a chunked body that grows past it."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            async with httpx.AsyncClient(base_url=gw.url) as client:
                big = await client.post("/echo/upload", content=b"x" * 2000)
                assert big.status_code == 413
                assert big.json()["reason"] == "body-too-large"
                assert big.json()["integration"] == "echo"
                assert big.headers["Connection"] == "close"

                fine = await client.post("/echo/upload", content=b"x" * 900)
                assert fine.json()["body"] == "x" * 900

                async def pieces(n: int) -> AsyncIterator[bytes]:
                    for _ in range(n):
                        yield b"y" * 300

                chunked = await client.post("/echo/upload", content=pieces(3))
                assert chunked.json()["body"] == "y" * 900
                grown = await client.post("/echo/upload", content=pieces(5))
                assert grown.status_code == 413
                assert grown.json()["reason"] == "body-too-large"

            gw.server.max_body = 4096  # a reload raises the limit
            async with httpx.AsyncClient(base_url=gw.url) as client:
                assert (await client.post("/echo/upload", content=b"x" * 2000)).status_code == 200

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_large_vendor_body_streams_through_intact(loop: str) -> None:
    """A 5 MiB body of unknown length is relayed chunked, byte for byte."""

    async def main() -> None:
        size = 5 * 1024 * 1024
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=30) as client:
                async with client.stream("GET", f"/echo/download?size={size}") as response:
                    assert response.status_code == 200
                    assert response.headers["Transfer-Encoding"] == "chunked"
                    assert response.headers["X-Seawall-Provider"] == "local"
                    body = b"".join([chunk async for chunk in response.aiter_raw()])
                assert len(body) == size
                block = bytes(range(256)) * 256
                assert body == block * (size // len(block))
                # the connection is reusable after a chunked relay
                assert (await client.get("/echo/after")).status_code == 200
            assert gw.server.connections == 1

    run(loop, main())


# -- keep-alive, draining and stopping ----------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_keep_alive_reuses_one_connection_and_draining_closes_it(loop: str) -> None:
    """Sequential calls share a connection; once draining, answers say Connection: close."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            for i in range(5):
                writer.write(f"GET /echo/n/{i} HTTP/1.1\r\nHost: gw\r\n\r\n".encode())
                response = await read_response(reader)
                assert json.loads(response.body)["path"] == f"/n/{i}"
            assert gw.server.connections == 1
            gw.server.draining = True
            writer.write(b"GET /echo/last HTTP/1.1\r\nHost: gw\r\n\r\n")
            last = await read_response(reader)
            assert last.status == 200
            assert last.header("Connection") == "close"
            assert await closed_by_peer(reader)
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_stop_finishes_in_flight_calls_and_refuses_new_ones(loop: str) -> None:
    """stop() closes idle connections at once, lets a running call answer, then stops listening."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", gw.port)
            idle_writer.write(b"GET /echo/warm HTTP/1.1\r\nHost: gw\r\n\r\n")
            assert (await read_response(idle_reader)).status == 200

            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"GET /echo/slow?delay=0.5 HTTP/1.1\r\nHost: gw\r\n\r\n")
            await asyncio.sleep(0.2)
            stopping = asyncio.create_task(gw.server.stop())
            assert await closed_by_peer(idle_reader, within=1.0), "idle keep-alive closed at once"
            response = await read_response(reader)
            assert response.status == 200
            assert response.header("Connection") == "close"
            await stopping
            writer.close()
            idle_writer.close()
            with pytest.raises(OSError):
                await asyncio.open_connection("127.0.0.1", gw.port)

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_stop_cuts_calls_longer_than_drain_timeout(loop: str) -> None:
    """A call still running when drain_timeout ends is cut, and stop() returns."""

    async def main() -> None:
        async with (
            echo_server() as upstream,
            gateway(make_config(upstream), drain_timeout=0.3) as gw,
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"GET /echo/slow?delay=3 HTTP/1.1\r\nHost: gw\r\n\r\n")
            await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            await gw.server.stop()
            assert asyncio.get_running_loop().time() - started < 1.5
            assert await closed_by_peer(reader)
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_caller_leaving_mid_call_lets_the_call_finish(loop: str) -> None:
    """A caller that hangs up does not cancel its call: the vendor still sees it through."""

    async def main() -> None:
        finished: list[str] = []

        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(0.3)
            finished.append(await request.text())
            return web.Response(text="done")

        app = web.Application()
        app.router.add_post("/{tail:.*}", slow)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        upstream = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with gateway(make_config(upstream)) as gw:
                _, writer = await asyncio.open_connection("127.0.0.1", gw.port)
                writer.write(
                    b"POST /echo/charge HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello"
                )
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.close()
                async with asyncio.timeout(3):
                    while not finished:
                        await asyncio.sleep(0.02)
                assert finished == ["hello"]
                async with httpx.AsyncClient(base_url=gw.url) as client:
                    assert (await client.post("/echo/again", content=b"x")).text == "done"
                await asyncio.sleep(0.05)
                assert gw.server.connections <= 1
        finally:
            await runner.cleanup()

    run(loop, main())
