"""GatewayServer on the wire: HTTP/1.0, Expect, HEAD, pipelining, malformed input, timeouts.

Raw sockets, so every byte the server writes (and when it closes) is seen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.gateway.conftest import echo_server
from tests.gateway.test_gateway_server import (
    LOOPS,
    closed_by_peer,
    gateway,
    make_config,
    read_response,
    run,
)

pytestmark = pytest.mark.realserver

GET = b"GET /echo/x HTTP/1.1\r\nHost: gw\r\n\r\n"


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, limit=1024 * 1024)


async def answers_next_caller(port: int) -> bool:
    reader, writer = await connect(port)
    writer.write(GET)
    response = await read_response(reader)
    writer.close()
    return response.status == 200


@pytest.mark.parametrize("loop", LOOPS)
def test_http10_closes_unless_keep_alive_is_asked(loop: str) -> None:
    """HTTP/1.0 gets Connection: close and EOF; with keep-alive asked, the connection stays."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(b"GET /echo/old HTTP/1.0\r\n\r\n")
            response = await read_response(reader)
            assert response.status == 200
            assert response.header("Connection") == "close"
            assert await closed_by_peer(reader)
            writer.close()

            reader, writer = await connect(gw.port)
            for i in range(2):
                writer.write(f"GET /echo/{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
                response = await read_response(reader)
                assert response.header("Connection") == "keep-alive"
                assert json.loads(response.body)["path"] == f"/{i}"
            writer.close()

            # a streamed body to an HTTP/1.0 caller: no chunked framing, EOF ends it
            reader, writer = await connect(gw.port)
            writer.write(b"GET /echo/d?size=300000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            streamed = await read_response(reader)
            assert streamed.header("Transfer-Encoding") is None
            assert streamed.header("Connection") == "close"
            assert len(streamed.body) == 300_000
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_expect_100_continue_is_answered_and_refused_bodies_are_not_asked_for(loop: str) -> None:
    """Expect: 100-continue gets 100 before the body; a body over max_body gets 413 instead."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(
                b"POST /echo/up HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n"
                b"Content-Length: 5\r\n\r\n"
            )
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            response = await read_response(reader)
            assert response.status == 200
            assert json.loads(response.body)["body"] == "hello"
            writer.close()

            reader, writer = await connect(gw.port)
            writer.write(
                b"POST /echo/up HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n"
                b"Content-Length: 5000\r\n\r\n"
            )
            refused = await read_response(reader)
            assert refused.status == 413
            assert refused.interim == []
            assert refused.header("Connection") == "close"
            assert await closed_by_peer(reader)
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_declared_body_over_max_body_is_refused_without_reading_it(loop: str) -> None:
    """A Content-Length over max_body is answered 413 at once, before any body byte is sent."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(b"POST /echo/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 2000\r\n\r\n")
            response = await read_response(reader)
            assert response.status == 413
            assert json.loads(response.body)["reason"] == "body-too-large"
            assert await closed_by_peer(reader)
            writer.close()

            # an unknown integration is still the first thing a caller hears about
            reader, writer = await connect(gw.port)
            writer.write(b"POST /nope/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 2000\r\n\r\n")
            response = await read_response(reader)
            assert response.status == 404
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_head_answers_without_a_body_and_keeps_the_connection(loop: str) -> None:
    """HEAD carries the vendor's Content-Length and no body; the next call reads cleanly."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(b"HEAD /echo/x HTTP/1.1\r\nHost: gw\r\n\r\n")
            head = await read_response(reader, head=True)
            assert head.status == 200
            assert int(head.header("Content-Length") or "0") > 0
            writer.write(GET)
            response = await read_response(reader)
            assert json.loads(response.body)["method"] == "GET"
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_request_fields_reach_the_vendor_in_order(loop: str) -> None:
    """The caller's fields are passed on as they came, repeated names included."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(
                b"GET /echo/x HTTP/1.1\r\nHost: gw\r\nX-B: 1\r\nX-A: 2\r\nX-B: 3\r\n"
                b"X-Latin: caf\xe9\r\n\r\n"
            )
            response = await read_response(reader)
            seen = [(k, v) for k, v in json.loads(response.body)["headers"] if k.startswith("X-")]
            assert seen == [("X-B", "1"), ("X-A", "2"), ("X-B", "3"), ("X-Latin", "caf\xe9")]
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_pipelined_requests_are_answered_in_order(loop: str) -> None:
    """Requests sent back to back are answered one by one, in order, refusals included."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(
                b"GET /echo/slow?delay=0.2 HTTP/1.1\r\nHost: gw\r\n\r\n"
                b"POST /echo/p HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\nabc"
                b"GET /nope/x HTTP/1.1\r\nHost: gw\r\n\r\n"
                b"GET /echo/last HTTP/1.1\r\nHost: gw\r\n\r\n"
            )
            first, second, third, fourth = [await read_response(reader) for _ in range(4)]
            assert json.loads(first.body)["path"] == "/slow"
            assert json.loads(second.body)["body"] == "abc"
            assert third.status == 404
            assert json.loads(fourth.body)["path"] == "/last"

            # a refusal decided while an earlier call runs waits its turn, then closes
            writer.write(
                b"GET /echo/slow?delay=0.2 HTTP/1.1\r\nHost: gw\r\n\r\n"
                b"POST /echo/big HTTP/1.1\r\nHost: gw\r\nContent-Length: 9999\r\n\r\n"
            )
            slow = await read_response(reader)
            assert slow.status == 200
            refused = await read_response(reader)
            assert refused.status == 413
            assert await closed_by_peer(reader)
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_a_caller_that_does_not_read_is_held_by_back_pressure(loop: str) -> None:
    """A caller that stops reading stalls its own answers, and gets them all once it reads."""

    async def main() -> None:
        size = 5 * 1024 * 1024
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(f"GET /echo/d?size={size} HTTP/1.1\r\nHost: gw\r\n\r\n".encode())
            await asyncio.sleep(0.5)  # the server's write buffer fills and it pauses
            response = await read_response(reader)
            assert len(response.body) == size

            writer.write(
                b"".join(f"GET /echo/{i} HTTP/1.1\r\nHost: gw\r\n\r\n".encode() for i in range(200))
            )
            await asyncio.sleep(0.3)
            for i in range(200):
                answer = await read_response(reader)
                assert json.loads(answer.body)["path"] == f"/{i}"
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x00\x01\x02garbage\r\n\r\n", id="garbage"),
        pytest.param(b"FOO /echo/x HTTP/1.1\r\nHost: gw\r\n\r\n", id="bad-method"),
        pytest.param(b"GET /echo/x HTTP/9.9\r\nHost: gw\r\n\r\n", id="bad-version"),
        pytest.param(b"GET /echo/x HTTP/1.1\r\nBad Name: x\r\n\r\n", id="bad-field-name"),
        pytest.param(
            b"POST /echo/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            id="length-and-chunked",
        ),
        pytest.param(
            b"POST /echo/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            id="bad-chunk",
        ),
        pytest.param(b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: gw\r\n\r\n", id="long-target"),
        pytest.param(b"CONNECT vendor:443 HTTP/1.1\r\nHost: vendor:443\r\n\r\n", id="connect"),
    ],
)
def test_malformed_requests_get_400_and_close_and_the_server_goes_on(loop: str, raw: bytes) -> None:
    """Whatever arrives, the caller gets a 400 problem and a closed connection; others are served."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(raw)
            response = await read_response(reader)
            assert response.status == 400
            assert response.header("Content-Type") == "application/problem+json"
            assert json.loads(response.body)["reason"] == "bad-request"
            assert await closed_by_peer(reader)
            writer.close()
            assert await answers_next_caller(gw.port)

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_a_huge_header_gets_431_and_close_and_the_server_goes_on(loop: str) -> None:
    """Header fields past the head limit are refused with 431 (RFC 6585), not read on."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(
                b"GET /echo/x HTTP/1.1\r\nHost: gw\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
            )
            response = await read_response(reader)
            assert response.status == 431
            assert json.loads(response.body)["reason"] == "head-too-large"
            assert await closed_by_peer(reader)
            writer.close()
            assert await answers_next_caller(gw.port)

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_upgrade_requests_are_answered_as_plain_http_then_closed(loop: str) -> None:
    """Upgrade is hop-by-hop: the call is answered over HTTP/1.1 and the connection ends."""

    async def main() -> None:
        async with echo_server() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(
                b"GET /echo/ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\n"
                b"Upgrade: websocket\r\n\r\n\x81\x05hello"
            )
            response = await read_response(reader)
            assert response.status == 200
            assert response.header("Connection") == "close"
            assert await closed_by_peer(reader)
            writer.close()

    run(loop, main())


@pytest.mark.parametrize("loop", LOOPS)
def test_slow_request_heads_and_idle_connections_time_out(loop: str) -> None:
    """A head dribbled past header_timeout, a silent connection and an idle keep-alive all close."""

    async def main() -> None:
        async with (
            echo_server() as upstream,
            gateway(make_config(upstream), header_timeout=0.4, idle_timeout=0.6) as gw,
        ):
            loop = asyncio.get_running_loop()
            slowloris, slow_writer = await connect(gw.port)
            silent, silent_writer = await connect(gw.port)
            idle, idle_writer = await connect(gw.port)
            idle_writer.write(GET)
            assert (await read_response(idle)).status == 200
            started = loop.time()
            slow_writer.write(b"GET /echo/x HTTP/1.1\r\n")
            cut_at = None
            for i in range(40):
                try:
                    slow_writer.write(f"X-{i}: y\r\n".encode())
                    await slow_writer.drain()
                except ConnectionError:
                    break
                if slowloris.at_eof() or await closed_by_peer(slowloris, within=0.05):
                    cut_at = loop.time() - started
                    break
            assert cut_at is not None, "the slow head was never cut"
            assert 0.35 < cut_at < 1.5
            assert await closed_by_peer(silent, within=1.0)
            assert await closed_by_peer(idle, within=1.5)
            for w in (slow_writer, silent_writer, idle_writer):
                w.close()
            assert gw.server.connections == 0

    run(loop, main())


async def _cut_short(request: web.Request) -> web.StreamResponse:
    """Send part of a body of unknown length, then drop the connection."""
    response = web.StreamResponse()
    await response.prepare(request)
    await response.write(b"z" * 100_000)
    assert request.transport is not None
    request.transport.abort()
    return response


async def _no_content(request: web.Request) -> web.Response:
    return web.Response(status=204, headers={"X-Done": "yes"})


@asynccontextmanager
async def odd_vendor() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/cut", _cut_short)
    app.router.add_get("/empty", _no_content)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("loop", LOOPS)
def test_a_vendor_body_that_breaks_off_cuts_the_callers_connection(loop: str) -> None:
    """Status already sent, body cut: the caller sees a chunked body without its last chunk."""

    async def main() -> None:
        async with odd_vendor() as upstream, gateway(make_config(upstream)) as gw:
            reader, writer = await connect(gw.port)
            writer.write(b"GET /echo/cut HTTP/1.1\r\nHost: gw\r\n\r\n")
            with pytest.raises(asyncio.IncompleteReadError):
                await read_response(reader)
            writer.close()
            reader, writer = await connect(gw.port)
            writer.write(b"GET /echo/empty HTTP/1.1\r\nHost: gw\r\n\r\n")
            empty = await read_response(reader)
            assert empty.status == 204
            assert empty.header("X-Done") == "yes"
            assert empty.header("Content-Length") is None
            assert empty.header("Transfer-Encoding") is None
            writer.write(b"GET /echo/empty HTTP/1.1\r\nHost: gw\r\n\r\n")
            assert (await read_response(reader)).status == 204
            writer.close()

    run(loop, main())
