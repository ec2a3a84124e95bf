"""WireUpstream against real aiohttp servers and the vendor simulators over loopback."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import json
import socket

import pytest
from aiohttp import web

from seawall._errors import EgressDenied, UpstreamConnectError, UpstreamTimeout
from seawall.chaos import SimulatorControl, serve_simulator
from seawall.engine import Request
from seawall.security import EgressPolicy
from seawall.transports import WireUpstream
from tests.transports._wire_support import (
    LOOPS,
    RawServer,
    app_server,
    ok,
    raw_server,
    run,
    serve_forever,
    target,
    wire_upstream,
)

pytestmark = [pytest.mark.realserver, pytest.mark.parametrize("loop", LOOPS)]

LOOPBACK = EgressPolicy(
    allow=(ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
)


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path_qs,
            "body": body.decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
        }
    )


def test_get_and_post_carry_path_query_and_body(loop: str) -> None:
    """A GET and a POST arrive with their path, query and body; the echo comes back buffered."""

    async def main() -> None:
        async with app_server(echo) as server, wire_upstream() as upstream:
            got = await upstream.send(
                target(server.url), Request("GET", "/v1/things?a=1&b=2"), timeout=5
            )
            posted = await upstream.send(
                target(server.url),
                Request("POST", "/v1/charges", [("Content-Type", "text/plain")], b"amount=5"),
                timeout=5,
            )
        assert (got.status, got.stream) == (200, None)
        seen = json.loads(got.body)
        assert seen["method"] == "GET"
        assert seen["path"] == "/v1/things?a=1&b=2"
        assert "Content-Length" not in dict(seen["headers"]), "a bodiless GET declares no length"
        seen = json.loads(posted.body)
        assert (seen["method"], seen["body"]) == ("POST", "amount=5")
        assert dict(seen["headers"])["Content-Length"] == "8"

    run(loop, main())


def test_request_headers_keep_order_and_repeats_drop_hop_by_hop_and_carry_auth(loop: str) -> None:
    """Caller headers go out in order with repeats; hop-by-hop ones are dropped; auth is injected."""

    async def main() -> list[list[str]]:
        caller = [
            ("X-B", "1"),
            ("X-A", "2"),
            ("X-B", "3"),
            ("Connection", "close, X-Private"),
            ("X-Private", "secret"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("Authorization", "Bearer caller-chose-this"),
            ("Host", "evil.example"),
        ]
        async with app_server(echo) as server:
            async with wire_upstream() as upstream:
                vendor = target(
                    server.url + "/api",
                    headers=(("Authorization", "Bearer sk_test_vendor"),),
                    query=(("key", "k1"),),
                )
                response = await upstream.send(vendor, Request("GET", "/x?q=1", caller), timeout=5)
            port = server.url.rsplit(":", 1)[1]
        seen = json.loads(response.body)
        assert seen["path"] == "/api/x?q=1&key=k1"
        assert seen["headers"] == [
            ["Host", f"127.0.0.1:{port}"],
            ["X-B", "1"],
            ["X-A", "2"],
            ["X-B", "3"],
            ["Authorization", "Bearer sk_test_vendor"],
        ]
        return seen["headers"]

    run(loop, main())


def test_response_headers_keep_order_and_repeats(loop: str) -> None:
    """Response fields come back as (name, value) pairs in wire order, repeats kept."""

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(body=b"{}")
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("X-Z", "z")
        response.headers.add("Set-Cookie", "b=2")
        return response

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
        named = [(k, v) for k, v in response.headers if k in ("Set-Cookie", "X-Z")]
        assert named == [("Set-Cookie", "a=1"), ("X-Z", "z"), ("Set-Cookie", "b=2")]

    run(loop, main())


def test_keep_alive_reuses_one_connection(loop: str) -> None:
    """Sequential calls share one kept-alive connection; concurrent ones open one each, then reuse."""

    async def main() -> None:
        async with app_server(echo) as server, wire_upstream() as upstream:
            for _ in range(20):
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                assert response.status == 200
            assert server.connections == 1
            for _ in range(3):
                await asyncio.gather(
                    *(
                        upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                        for _ in range(8)
                    )
                )
            assert server.connections <= 8, "concurrent rounds reuse the pooled connections"

    run(loop, main())


def test_connection_close_is_honoured(loop: str) -> None:
    """A response saying ``Connection: close`` is not followed by a reuse of that connection."""

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(text="bye")
        response.force_close()
        return response

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            for _ in range(3):
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                assert (response.status, response.body) == (200, b"bye")
        assert server.connections == 3

    run(loop, main())


def test_chunked_response_is_streamed_then_the_connection_reused(loop: str) -> None:
    """A 2xx chunked body of unknown length is relayed as it arrives; the connection then returns."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(5):
            await response.write(f"part{i};".encode())
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            assert response.stream is not None
            chunks = [chunk async for chunk in response.stream.chunks()]
            await response.stream.aclose()
            again = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            body = await again.read_all()
        assert b"".join(chunks) == b"part0;part1;part2;part3;part4;"
        assert len(chunks) > 1
        assert body == b"part0;part1;part2;part3;part4;"
        assert server.connections == 1

    run(loop, main())


BIG = bytes(range(256)) * (5 * 1024 * 4)  # 5 MiB


async def big_body(request: web.Request) -> web.Response:
    status = int(request.query.get("status", "200"))
    return web.Response(body=BIG, status=status, content_type="application/octet-stream")


def test_large_body_is_streamed_in_chunks(loop: str) -> None:
    """A 5 MiB body is relayed in many chunks, intact, and its connection is reused after."""

    async def main() -> None:
        async with app_server(big_body) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            assert response.stream is not None
            assert response.body == b""
            digest = hashlib.sha256()
            sizes = []
            async for chunk in response.stream.chunks():
                sizes.append(len(chunk))
                digest.update(chunk)
            await response.stream.aclose()
            await (
                await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            ).discard()
        assert sum(sizes) == len(BIG)
        assert digest.digest() == hashlib.sha256(BIG).digest()
        assert len(sizes) > 4
        assert server.connections == 1

    run(loop, main())


def test_closing_a_stream_early_discards_its_connection(loop: str) -> None:
    """Closing a stream before its end drops the connection; the next call opens a new one."""

    async def main() -> None:
        async with app_server(big_body) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            assert response.stream is not None
            async for _chunk in response.stream.chunks():
                break
            await response.stream.aclose()
            again = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            assert len(await again.read_all()) == len(BIG)
        assert server.connections == 2

    run(loop, main())


def test_a_large_error_body_is_buffered(loop: str) -> None:
    """Only 2xx answers stream: a large 500 body is read whole, as AiohttpUpstream does."""

    async def main() -> None:
        async with app_server(big_body) as server, wire_upstream() as upstream:
            response = await upstream.send(
                target(server.url), Request("GET", "/?status=500"), timeout=5
            )
        assert response.stream is None
        assert response.status == 500
        assert response.body == BIG

    run(loop, main())


def test_head_has_no_body_and_keeps_the_connection(loop: str) -> None:
    """HEAD returns the headers only (with the vendor's Content-Length), and the connection is reused."""

    async def main() -> None:
        async with app_server(big_body) as server, wire_upstream() as upstream:
            head = await upstream.send(target(server.url), Request("HEAD", "/"), timeout=5)
            again = await upstream.send(target(server.url), Request("HEAD", "/"), timeout=5)
            small = await upstream.send(
                target(server.url), Request("GET", "/?status=404"), timeout=5
            )
        assert (head.status, head.body, head.stream) == (200, b"", None)
        assert head.header("Content-Length") == str(len(BIG))
        assert (again.status, again.body) == (200, b"")
        assert (small.status, small.body) == (404, BIG)
        assert server.connections == 1

    run(loop, main())


def test_no_content_and_not_modified_have_no_body(loop: str) -> None:
    """204 and 304 answers end at their headers and leave the connection reusable."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=int(request.query["status"]))

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            for status in (204, 304, 204):
                response = await upstream.send(
                    target(server.url), Request("GET", f"/?status={status}"), timeout=5
                )
                assert (response.status, response.body, response.stream) == (status, b"", None)
        assert server.connections == 1

    run(loop, main())


def test_redirects_are_returned_not_followed(loop: str) -> None:
    """A 302 goes back to the caller as a response; its Location is never dialled."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://169.254.169.254/latest"})

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream(egress=LOOPBACK) as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
        assert response.status == 302
        assert response.header("Location") == "http://169.254.169.254/latest"

    run(loop, main())


def test_compressed_bodies_pass_through_untouched(loop: str) -> None:
    """A gzip body keeps its Content-Encoding and its bytes: nothing is decompressed."""
    packed = gzip.compress(b'{"ok": true}')

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=packed, headers={"Content-Encoding": "gzip"})

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            response = await upstream.send(
                target(server.url),
                Request("GET", "/", [("Accept-Encoding", "gzip")]),
                timeout=5,
            )
        assert response.header("Content-Encoding") == "gzip"
        assert response.body == packed
        assert server.requests[0].headers["Accept-Encoding"] == "gzip"

    run(loop, main())


def test_egress_refuses_loopback_without_an_allow_entry(loop: str) -> None:
    """With the default policy, neither 127.0.0.1 nor localhost is dialled; the server sees nothing."""

    async def main() -> None:
        async with app_server(echo) as server:
            upstream = WireUpstream(egress=EgressPolicy())
            port = server.url.rsplit(":", 1)[1]
            try:
                with pytest.raises(EgressDenied, match=r"egress to 127\.0\.0\.1 refused"):
                    await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                with pytest.raises(EgressDenied, match="egress to localhost refused"):
                    await upstream.send(
                        target(f"http://localhost:{port}"), Request("GET", "/"), timeout=5
                    )
            finally:
                await upstream.aclose()
        assert server.peers == []

    run(loop, main())


def test_egress_admits_loopback_with_an_allow_entry(loop: str) -> None:
    """With 127.0.0.1/32 and ::1/128 allowed, the literal and the hostname both get through."""

    async def main() -> None:
        async with app_server(echo) as server:
            upstream = WireUpstream(egress=LOOPBACK)
            port = server.url.rsplit(":", 1)[1]
            try:
                literal = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
                named = await upstream.send(
                    target(f"http://localhost:{port}"), Request("GET", "/"), timeout=5
                )
            finally:
                await upstream.aclose()
        assert (literal.status, named.status) == (200, 200)
        host = dict(json.loads(named.body)["headers"])["Host"]
        assert host == f"localhost:{port}"

    run(loop, main())


def test_aclose_closes_connections_and_refuses_later_calls(loop: str) -> None:
    """After aclose the pooled connection is closed (the server sees EOF) and a send fails sent=False."""

    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: RawServer
    ) -> None:
        await serve_forever(reader, writer, state, ok())

    async def main() -> None:
        async with raw_server(script) as server:
            upstream = WireUpstream()
            await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
            await upstream.aclose()
            for _ in range(100):
                if server.client_closed:
                    break
                await asyncio.sleep(0.01)
            assert server.client_closed == 1
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
        assert caught.value.sent is False
        assert "closed" in caught.value.message

    run(loop, main())


def test_payment_simulator_charges_once_per_call(loop: str) -> None:
    """Against the payment simulator: a form POST makes one charge and a GET reads it back."""

    async def main() -> None:
        async with await serve_simulator("payment") as sim:
            upstream = WireUpstream(egress=LOOPBACK)
            vendor = target(sim.url, headers=(("Authorization", "Bearer sk_test_x"),))
            form = [("Content-Type", "application/x-www-form-urlencoded")]
            try:
                made = await upstream.send(
                    vendor,
                    Request("POST", "/v1/charges", form, b"amount=500&currency=usd&customer=c1"),
                    timeout=5,
                )
                charge = json.loads(made.body)
                read = await upstream.send(
                    vendor, Request("GET", f"/v1/charges/{charge['id']}"), timeout=5
                )
            finally:
                await upstream.aclose()
            assert made.status == 200, made.body
            assert read.status == 200
            assert json.loads(read.body)["id"] == charge["id"]
            assert sim.state.charge_count == 1  # type: ignore[attr-defined]

    run(loop, main())


def test_simulator_faults_map_to_clear_errors(loop: str) -> None:
    """A simulator's connection reset is sent=True; a hang is an UpstreamTimeout; then all is well."""

    async def main() -> None:
        async with await serve_simulator("weather") as sim:
            control = SimulatorControl(sim.url)
            upstream = WireUpstream(egress=LOOPBACK)
            path = "/data/2.5/weather?q=Oslo"
            try:
                await control.add_fault(kind="reset", path="/data/*", first=1)
                with pytest.raises(UpstreamConnectError) as caught:
                    await upstream.send(target(sim.url), Request("GET", path), timeout=5)
                assert caught.value.sent is True
                await control.clear_faults()
                await control.add_fault(kind="hang", path="/data/*", first=1)
                with pytest.raises(UpstreamTimeout):
                    await upstream.send(target(sim.url), Request("GET", path), timeout=0.3)
                fine = await upstream.send(target(sim.url), Request("GET", path), timeout=5)
            finally:
                await upstream.aclose()
        assert fine.status == 200

    run(loop, main())


def test_a_large_request_body_arrives_intact(loop: str) -> None:
    """A 3 MiB POST body (written without copying it behind the head) reaches the vendor whole."""
    upload = bytes(range(256)) * 4 * 1024 * 3

    async def handler(request: web.Request) -> web.Response:
        body = await request.content.read()  # past aiohttp's client_max_size for read()
        return web.Response(text=f"{len(body)} {hashlib.sha256(body).hexdigest()}")

    async def main() -> None:
        async with app_server(handler) as server, wire_upstream() as upstream:
            response = await upstream.send(
                target(server.url), Request("PUT", "/blob", body=upload), timeout=5
            )
            again = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
        assert response.body.decode() == f"{len(upload)} {hashlib.sha256(upload).hexdigest()}"
        assert again.body.decode().startswith("0 ")
        assert server.connections == 1

    run(loop, main())


def test_an_ipv6_literal_host_is_dialled_and_named_in_brackets(loop: str) -> None:
    """http://[::1]:port reaches the vendor with a bracketed Host, through the egress check."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")

    async def main() -> None:
        async with (
            app_server(echo, host="::1") as server,
            wire_upstream(egress=LOOPBACK) as upstream,
        ):
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=5)
        port = server.url.rsplit(":", 1)[1]
        assert dict(json.loads(response.body)["headers"])["Host"] == f"[::1]:{port}"

    run(loop, main())
