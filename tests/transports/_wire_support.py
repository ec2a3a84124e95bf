"""Loopback servers and a two-loop runner for the WireUpstream tests.

Every scenario runs on the stdlib event loop and on uvloop (which the service
uses): their transports differ in the details a hand-written client touches
(writelines, EOF, pause and resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from seawall.engine import ProviderTarget
from seawall.transports import WireUpstream

_T = TypeVar("_T")

LOOPS = ["asyncio"] if sys.platform == "win32" else ["asyncio", "uvloop"]

#: the longest any one scenario may run before it is failed (a hang is a bug)
SCENARIO_LIMIT = 30.0


def run(loop: str, main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` on a new loop of the named kind, bounded by :data:`SCENARIO_LIMIT`."""

    async def bounded() -> _T:
        async with asyncio.timeout(SCENARIO_LIMIT):
            return await main

    if loop == "uvloop":
        import uvloop

        return uvloop.run(bounded())
    return asyncio.run(bounded())


def target(
    url: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    query: tuple[tuple[str, str], ...] = (),
) -> ProviderTarget:
    return ProviderTarget(
        integration="payments", name="vendor", base_url=url, headers=headers, query=query
    )


@dataclass
class AppServer:
    """An aiohttp server; ``peers`` holds the client port of every request, in order."""

    url: str
    peers: list[int] = field(default_factory=list)
    requests: list[web.Request] = field(default_factory=list)

    @property
    def connections(self) -> int:
        return len(set(self.peers))


@asynccontextmanager
async def app_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    *,
    host: str = "127.0.0.1",
) -> AsyncIterator[AppServer]:
    """A real aiohttp server on loopback sending every request to ``handler``."""
    server = AppServer(url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        server.peers.append(peer[1] if peer else -1)
        server.requests.append(request)
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@dataclass
class RawServer:
    """A raw asyncio server; ``heads`` has every request head read by :func:`read_request`."""

    port: int
    url: str
    connections: int = 0
    #: connections on which the client closed first (EOF seen by the server)
    client_closed: int = 0
    heads: list[bytes] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, RawServer], Awaitable[None]]


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[RawServer]:
    """Run ``script`` for each connection; it reads and writes bytes as it likes."""
    tasks: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()
    state = RawServer(port=0, url="")

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        writers.add(writer)
        state.connections += 1
        try:
            await script(reader, writer, state)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            tasks.discard(task)
            writers.discard(writer)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{state.port}"
    try:
        yield state
    finally:
        server.close()
        for writer in list(writers):
            writer.transport.abort()  # a script waiting on a read sees the end and returns
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2)
            for task in pending:  # a script stuck elsewhere (a sleep) is stopped
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader, state: RawServer) -> bytes | None:
    """One request head (and its Content-Length body), or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        state.client_closed += 1
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    state.heads.append(head)
    state.bodies.append(body)
    return head


async def serve_forever(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: RawServer, answer: bytes
) -> None:
    """Answer every request on the connection with ``answer`` until the client closes."""
    while await read_request(reader, state) is not None:
        writer.write(answer)
        await writer.drain()


def ok(body: bytes = b"ok", *extra: str) -> bytes:
    """A 200 response with Content-Length and any extra header lines."""
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@asynccontextmanager
async def wire_upstream(**options: Any) -> AsyncIterator[WireUpstream]:
    """A WireUpstream closed when the scenario ends, however it ends."""
    upstream = WireUpstream(**options)
    try:
        yield upstream
    finally:
        await upstream.aclose()
