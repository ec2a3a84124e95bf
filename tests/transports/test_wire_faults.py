"""WireUpstream against raw servers that misbehave: framing, drops, stalls, bounds."""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import Request, Response
from seawall.transports import WireUpstream
from tests.transports._wire_support import (
    LOOPS,
    RawServer,
    ok,
    raw_server,
    read_request,
    run,
    serve_forever,
    target,
    wire_upstream,
)

pytestmark = [pytest.mark.realserver, pytest.mark.parametrize("loop", LOOPS)]

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


def _reset(writer: Writer) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _send(url: str, method: str = "GET", body: bytes = b"") -> Response:
    async with wire_upstream() as upstream:
        return await upstream.send(target(url), Request(method, "/", body=body), timeout=2)


async def _drain(response: Response, sizes: list[int]) -> None:
    """Read a streamed body to its end, noting the size of each chunk."""
    assert response.stream is not None
    async for chunk in response.stream.chunks():
        sizes.append(len(chunk))


def test_interim_responses_are_skipped(loop: str) -> None:
    """100 Continue and 103 Early Hints before the answer are skipped; the 201 is returned."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        while await read_request(reader, state) is not None:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\nmade")
            await writer.drain()

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            first = await upstream.send(target(server.url), Request("POST", "/"), timeout=2)
            second = await upstream.send(target(server.url), Request("POST", "/"), timeout=2)
        assert (first.status, first.body) == (201, b"made")
        assert first.headers == [("Content-Length", "4"), ("X-Final", "yes")]
        assert (second.status, second.body) == (201, b"made")
        assert server.connections == 1

    run(loop, main())


def _dies_on_second_request(answer: bytes) -> object:
    """Answer the first request on each connection, then close on the second one unanswered."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        if await read_request(reader, state) is None:
            return
        writer.write(answer)
        await writer.drain()
        await read_request(reader, state)  # the request on the reused connection: dropped

    return script


def test_a_kept_alive_connection_closed_unanswered_is_retried_once(loop: str) -> None:
    """A GET on a reused connection the vendor closes before answering succeeds on a new one."""

    async def main() -> None:
        async with raw_server(_dies_on_second_request(ok())) as server, wire_upstream() as upstream:  # type: ignore[arg-type]
            first = await upstream.send(target(server.url), Request("GET", "/a"), timeout=2)
            second = await upstream.send(target(server.url), Request("GET", "/b"), timeout=2)
        assert (first.status, second.status) == (200, 200)
        assert server.connections == 2
        assert [h.split(b" ")[1] for h in server.heads] == [b"/a", b"/b", b"/b"]

    run(loop, main())


def test_a_post_on_a_dead_kept_alive_connection_is_not_resent(loop: str) -> None:
    """Without an idempotency key, the POST the vendor may have processed is not sent again."""

    async def main() -> None:
        async with raw_server(_dies_on_second_request(ok())) as server, wire_upstream() as upstream:  # type: ignore[arg-type]
            await upstream.send(target(server.url), Request("POST", "/charge"), timeout=2)
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(target(server.url), Request("POST", "/charge"), timeout=2)
            await upstream.send(target(server.url), Request("POST", "/prime"), timeout=2)
            keyed = Request("POST", "/charge", [("Idempotency-Key", "k-1")])
            retried = await upstream.send(target(server.url), keyed, timeout=2)
        assert caught.value.sent is True
        assert "dropped the connection before answering" in caught.value.message
        assert retried.status == 200
        paths = [head.split(b" ")[1] for head in server.heads]
        # answered, dropped (not resent), answered, dropped with a key, resent on a new connection
        assert paths == [b"/charge", b"/charge", b"/prime", b"/charge", b"/charge"]
        assert server.connections == 3

    run(loop, main())


def test_an_idle_connection_the_vendor_closed_is_not_reused(loop: str) -> None:
    """A connection closed by the vendor while idle leaves the pool; the next call dials afresh."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        if await read_request(reader, state) is not None:
            writer.write(ok())  # keep-alive by default, then closed anyway
            await writer.drain()

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            for _ in range(3):
                response = await upstream.send(target(server.url), Request("POST", "/"), timeout=2)
                assert response.status == 200
                await asyncio.sleep(0.05)
        assert server.connections == 3
        assert len(server.heads) == 3, "no request was lost to a dead connection"

    run(loop, main())


def test_a_reset_mid_response_is_an_error_after_sending(loop: str) -> None:
    """An RST in the middle of a buffered body is UpstreamConnectError(sent=True)."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(0.05)
        _reset(writer)

    async def main() -> None:
        async with raw_server(script) as server:
            with pytest.raises(UpstreamConnectError) as caught:
                await _send(server.url)
        assert caught.value.sent is True
        assert "broke off" in caught.value.message

    run(loop, main())


def test_a_reset_mid_stream_fails_the_stream(loop: str) -> None:
    """A streamed 2xx body cut by an RST raises from chunks() with sent=True after the bytes so far."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 100_000)
        await writer.drain()
        await asyncio.sleep(0.1)
        _reset(writer)

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
            assert response.stream is not None
            sizes: list[int] = []
            with pytest.raises(UpstreamConnectError) as caught:
                await _drain(response, sizes)
            await response.stream.aclose()
        assert caught.value.sent is True
        assert sum(sizes) == 100_000

    run(loop, main())


def test_connection_refused_is_an_error_before_sending(loop: str) -> None:
    """Nothing listening: UpstreamConnectError(sent=False) naming the OS reason."""

    async def main() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(UpstreamConnectError) as caught:
            await _send(f"http://127.0.0.1:{port}")
        assert caught.value.sent is False
        assert f"cannot connect to http://127.0.0.1:{port}" in caught.value.message
        assert "refused" in caught.value.message.lower()
        assert caught.value.provider == "vendor"

    run(loop, main())


def test_a_vendor_that_never_answers_times_out(loop: str) -> None:
    """No answer within the timeout: UpstreamTimeout, and the connection is closed, not pooled."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        await reader.read()  # wait for the client to give up
        state.client_closed += 1

    async def main() -> None:
        async with raw_server(script) as server:
            upstream = WireUpstream()
            started = time.monotonic()
            try:
                with pytest.raises(UpstreamTimeout):
                    await upstream.send(target(server.url), Request("GET", "/"), timeout=0.2)
                took = time.monotonic() - started
                await asyncio.sleep(0.05)
                assert server.client_closed == 1
            finally:
                await upstream.aclose()
        assert 0.15 <= took < 1.5

    run(loop, main())


def _drip(interval: float, pieces: int, stop_after: int | None = None) -> object:
    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(f"HTTP/1.1 500 Oops\r\nContent-Length: {pieces}\r\n\r\n".encode())
        for i in range(pieces):
            if stop_after is not None and i == stop_after:
                await reader.read()
                return
            await asyncio.sleep(interval)
            writer.write(b"z")
            await writer.drain()

    return script


def test_a_buffered_answer_must_be_complete_within_the_timeout(loop: str) -> None:
    """The timeout bounds the whole attempt (the engine's per-attempt timeout): a
    steady drip that outlasts it is cut at the timeout, not only a stall."""

    async def main() -> None:
        async with raw_server(_drip(0.05, 12)) as server:  # type: ignore[arg-type]
            upstream = WireUpstream()
            started = time.monotonic()
            try:
                with pytest.raises(UpstreamTimeout, match="no complete answer"):
                    await upstream.send(target(server.url), Request("GET", "/"), timeout=0.3)
            finally:
                await upstream.aclose()
        took = time.monotonic() - started
        assert 0.28 < took < 0.5, took

    run(loop, main())


def test_a_drip_within_the_timeout_completes(loop: str) -> None:
    """The same drip answered well within the timeout is read whole."""

    async def main() -> None:
        async with raw_server(_drip(0.02, 6)) as server, wire_upstream() as upstream:  # type: ignore[arg-type]
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2.0)
        assert (response.status, response.body) == (500, b"z" * 6)

    run(loop, main())


def test_a_stream_that_keeps_arriving_does_not_time_out(loop: str) -> None:
    """Once a body is streamed to the caller the timeout bounds each stall only: a
    chunked body dripping for longer than the timeout is read to its end."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(8):
            writer.write(b"5\r\nhello\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server:
            upstream = WireUpstream()
            started = time.monotonic()
            try:
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=0.2)
                assert response.stream is not None
                sizes: list[int] = []
                await _drain(response, sizes)
            finally:
                await upstream.aclose()
        assert sum(sizes) == 40
        assert time.monotonic() - started > 0.3

    run(loop, main())


def test_a_body_that_stops_arriving_times_out(loop: str) -> None:
    """A body that stalls halfway raises UpstreamTimeout after the timeout of silence."""

    async def main() -> None:
        async with raw_server(_drip(0.02, 20, stop_after=5)) as server:  # type: ignore[arg-type]
            with pytest.raises(UpstreamTimeout):
                await _send(server.url)

    run(loop, main())


def test_a_stream_that_stops_arriving_times_out(loop: str) -> None:
    """A streamed body that stalls raises UpstreamTimeout from chunks()."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=0.2)
            assert response.stream is not None
            sizes: list[int] = []
            with pytest.raises(UpstreamTimeout):
                await _drain(response, sizes)
            await response.stream.aclose()
        assert sizes == [5]

    run(loop, main())


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"HTTP/1.1 abc Nope\r\n\r\n", "malformed response"),
        (b"SMTP ready\r\n\r\n", "malformed response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi", "Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nhi",
            "Transfer-Encoding",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed response"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "switched protocols"),
    ],
    ids=["status-line", "not-http", "two-lengths", "length-and-chunked", "bad-chunk", "101"],
)
def test_a_malformed_response_is_a_clear_error(loop: str, answer: bytes, says: str) -> None:
    """Unparsable or ambiguous framing is UpstreamConnectError(sent=True) saying why, never a crash."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(answer)
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server:
            with pytest.raises(UpstreamConnectError) as caught:
                await _send(server.url)
        assert caught.value.sent is True
        assert "cannot read" in caught.value.message
        assert says in caught.value.message

    run(loop, main())


@pytest.mark.parametrize(
    "head",
    [
        b"X-Big: " + b"a" * 100_000 + b"\r\n",
        b"".join(b"X-Field-%d: v\r\n" % i for i in range(300)),
        b"X-Endless: " + b"a" * 200_000,  # never finished: must not be buffered forever
    ],
    ids=["one-huge-field", "too-many-fields", "endless-field"],
)
def test_oversized_headers_are_refused(loop: str, head: bytes) -> None:
    """A header block past 64 KiB or 200 fields is an error, not unbounded memory."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for start in range(0, len(head), 16_384):
            writer.write(head[start : start + 16_384])
            await writer.drain()
            await asyncio.sleep(0.001)
        if head.endswith(b"\r\n"):
            writer.write(b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server:
            with pytest.raises(UpstreamConnectError) as caught:
                await _send(server.url)
        assert caught.value.sent is True
        assert "64 KiB" in caught.value.message or "200 header fields" in caught.value.message

    run(loop, main())


def test_a_body_read_until_close_is_streamed_whole(loop: str) -> None:
    """A 2xx body without length or chunking ends at the close and streams; the connection is not reused."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        for i in range(3):
            writer.write(b"line %d\n" % i)
            await writer.drain()
            await asyncio.sleep(0.01)

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
            assert response.stream is not None
            body = await response.read_all()
            again = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
            assert await again.read_all() == body
        assert body == b"line 0\nline 1\nline 2\n"
        assert server.connections == 2

    run(loop, main())


def test_an_http10_answer_is_read_and_not_reused(loop: str) -> None:
    """An HTTP/1.0 answer without keep-alive is read, and its connection is closed after."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(
            reader, writer, state, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        )

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            for _ in range(2):
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
                assert response.body == b"hi"
        assert server.connections == 2

    run(loop, main())


def test_bytes_after_the_response_discard_the_connection(loop: str) -> None:
    """Extra bytes after a complete answer mean the stream is out of step: not reused."""
    answer = ok(b"fine") + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(reader, writer, state, answer)

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            for _ in range(2):
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
                assert response.body == b"fine"
        assert server.connections == 2

    run(loop, main())


def test_response_fields_are_decoded_as_latin1(loop: str) -> None:
    """Bytes above 0x7F in a field value come back latin-1 decoded, as the gateway relays them."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(reader, writer, state, ok(b"", "X-Name: caf\xe9"))

    async def main() -> None:
        async with raw_server(script) as server:
            response = await _send(server.url)
        assert response.header("X-Name") == "café"

    run(loop, main())


@pytest.mark.parametrize(
    "headers",
    [[("X-Evil", "a\r\nInjected: yes")], [("X-Evil\r\nInjected", "yes")], [("X-Cr", "a\rb")]],
    ids=["value", "name", "bare-cr"],
)
def test_a_header_with_a_line_break_is_never_sent(
    loop: str, headers: list[tuple[str, str]]
) -> None:
    """A field that would split the request is refused with sent=False; the server sees nothing."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(reader, writer, state, ok())

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(target(server.url), Request("GET", "/", headers), timeout=2)
        assert caught.value.sent is False
        assert "line break" in caught.value.message
        assert server.heads == []

    run(loop, main())


def test_an_unsafe_request_target_is_percent_encoded(loop: str) -> None:
    """Spaces, control characters and non-ASCII in the path are escaped, never written raw."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(reader, writer, state, ok())

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            request = Request("GET", "/a b/é?x=1\r\nX: y")
            await upstream.send(target(server.url), request, timeout=2)
        assert server.heads[0].split(b"\r\n")[0] == b"GET /a%20b/%C3%A9?x=1%0D%0AX:%20y HTTP/1.1"

    run(loop, main())


def test_a_cancelled_call_discards_its_connection(loop: str) -> None:
    """A call cancelled mid-exchange (the engine's deadline) closes that connection."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        while (head := await read_request(reader, state)) is not None:
            if b"/slow" in head:
                await asyncio.sleep(0.5)
            writer.write(ok())
            await writer.drain()

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await upstream.send(target(server.url), Request("GET", "/slow"), timeout=2)
            response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
        assert response.body == b"ok"
        assert server.connections == 2

    run(loop, main())


def test_idle_connections_expire_and_the_idle_pool_is_bounded(loop: str) -> None:
    """Past max_idle_per_host extra connections close at once; the rest close after the idle timeout."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        while await read_request(reader, state) is not None:
            await asyncio.sleep(0.05)  # long enough for all five calls to overlap
            writer.write(ok())
            await writer.drain()

    async def main() -> None:
        async with (
            raw_server(script) as server,
            wire_upstream(keepalive_timeout=0.3, max_idle_per_host=2) as upstream,
        ):
            await asyncio.gather(
                *(
                    upstream.send(target(server.url), Request("GET", "/"), timeout=2)
                    for _ in range(5)
                )
            )
            await asyncio.sleep(0.1)
            assert server.connections == 5
            assert server.client_closed == 3, "only two idle connections are kept"
            await asyncio.sleep(0.5)
            assert server.client_closed == 5, "the kept ones expire after keepalive_timeout"

    run(loop, main())


def test_the_keep_alive_retry_happens_only_once(loop: str) -> None:
    """When the new connection dies unanswered too, the GET fails (sent=True) after one retry."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        if await read_request(reader, state) is None:
            return
        if state.connections == 1:  # only the first connection ever answers
            writer.write(ok())
            await writer.drain()
            await read_request(reader, state)

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
        assert caught.value.sent is True
        assert len(server.heads) == 3
        assert server.connections == 2

    run(loop, main())


#: larger than loopback's socket buffers, so most of it waits in the client's own buffer
UPLOAD = bytes(range(256)) * 4 * 1024 * 32  # 32 MiB


def test_a_large_upload_to_a_slow_reader_is_bounded_by_the_timeout(loop: str) -> None:
    """A body the vendor reads slowly is sent whole within a timeout that fits it, and
    cut with UpstreamTimeout by one that does not: the timeout bounds the attempt."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        state.heads.append(head)
        received = 0
        while received < len(UPLOAD):
            chunk = await reader.read(1024 * 1024)
            if not chunk:
                return
            received += len(chunk)
            if received < len(UPLOAD) // 2:  # slow while most of it still waits client-side
                await asyncio.sleep(0.015)
        writer.write(ok(str(received).encode()))
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            response = await upstream.send(
                target(server.url), Request("POST", "/", body=UPLOAD), timeout=10.0
            )
            assert response.body == str(len(UPLOAD)).encode()
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout):
                await upstream.send(
                    target(server.url), Request("POST", "/", body=UPLOAD), timeout=0.1
                )
            assert time.monotonic() - started < 0.5

    run(loop, main())


def test_an_upload_the_vendor_stops_reading_times_out(loop: str) -> None:
    """A vendor that stops reading the body and never answers is a timeout, not a hang."""

    release = asyncio.Event()

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        state.heads.append(await reader.readuntil(b"\r\n\r\n"))
        await release.wait()

    async def main() -> None:
        async with raw_server(script) as server:
            upstream = WireUpstream()
            started = time.monotonic()
            try:
                with pytest.raises(UpstreamTimeout):
                    await upstream.send(
                        target(server.url), Request("POST", "/", body=UPLOAD), timeout=0.2
                    )
                assert time.monotonic() - started < 2
            finally:
                release.set()
                await upstream.aclose()

    run(loop, main())


def test_trailer_fields_are_dropped_and_the_connection_kept(loop: str) -> None:
    """Fields after the last chunk are not merged into the headers; the connection is reused."""
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
    )

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await serve_forever(reader, writer, state, answer)

    async def main() -> None:
        async with raw_server(script) as server, wire_upstream() as upstream:
            for _ in range(2):
                response = await upstream.send(target(server.url), Request("GET", "/"), timeout=2)
                assert await response.read_all() == b"hello world"
                assert response.headers == [("Transfer-Encoding", "chunked")]
        assert server.connections == 1

    run(loop, main())


def test_endless_trailer_fields_are_refused(loop: str) -> None:
    """A trailer that never ends is an error, not memory growing without bound."""

    async def script(reader: Reader, writer: Writer, state: RawServer) -> None:
        await read_request(reader, state)
        writer.write(b"HTTP/1.1 500 No\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: ")
        for _ in range(20):
            writer.write(b"a" * 16_384)
            await writer.drain()
            await asyncio.sleep(0.001)
        await reader.read()

    async def main() -> None:
        async with raw_server(script) as server:
            with pytest.raises(UpstreamConnectError) as caught:
                await _send(server.url)
        assert caught.value.sent is True
        assert "endless" in caught.value.message

    run(loop, main())
