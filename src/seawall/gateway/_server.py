"""The gateway's HTTP/1.1 server: asyncio protocols and llhttp, nothing per call it can skip.

aiohttp's server builds a request object, a multidict of fields, a response
object and a payload writer for every call; here a call is parsed by
:mod:`httptools` (llhttp, the parser of Node.js) straight into the engine's
:class:`~seawall.engine.Request`, and answered with one write of pre-encoded
bytes (:mod:`seawall.gateway._conn`). Run under uvloop by ``seawall run``.

One timer a second (:meth:`GatewayServer._tick`) keeps the coarse clock, the
``Date`` field and every connection's timeouts: idle keep-alive connections
close after ``idle_timeout``, and a caller gets ``header_timeout`` to send its
request line and fields (slowloris) and the same between pieces of its body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from seawall.engine import Engine
from seawall.gateway._conn import GatewayConnection
from seawall.gateway._responses import date_line
from seawall.gateway._state import ServerState

__all__ = ["GatewayServer"]

log = logging.getLogger("seawall.gateway")


class GatewayServer:
    """Serves ``/<integration>/<path>`` through the engine ``engine()`` returns (read per call).

    ``max_body`` and ``draining`` may change while it runs (a reload, a stop);
    :meth:`stop` stops accepting, lets in-flight calls finish for up to
    ``drain_timeout`` seconds and closes idle keep-alive connections at once.
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        max_body: int,
        drain_timeout: float = 10.0,
        header_timeout: float = 30.0,
        idle_timeout: float = 75.0,
        max_head: int = 64 * 1024,
    ) -> None:
        self.drain_timeout = drain_timeout
        self._state = ServerState(
            engine,
            max_body=max_body,
            max_head=max_head,
            header_timeout=header_timeout,
            idle_timeout=idle_timeout,
            now=0.0,
        )
        # timeouts are checked this often, so they hold to within a quarter of themselves
        self._interval = max(0.05, min(1.0, header_timeout / 4, idle_timeout / 4))
        self._listener: asyncio.Server | None = None
        self._ticker: asyncio.TimerHandle | None = None

    @property
    def max_body(self) -> int:
        """The largest request body accepted (``gateway.max_body``), in bytes."""
        return self._state.max_body

    @max_body.setter
    def max_body(self, value: int) -> None:
        self._state.max_body = value

    @property
    def draining(self) -> bool:
        """True once stopping: every answer then carries ``Connection: close``."""
        return self._state.draining

    @draining.setter
    def draining(self, value: bool) -> None:
        self._state.draining = value

    @property
    def connections(self) -> int:
        """Open caller connections (and closed ones whose call is still running)."""
        return len(self._state.connections)

    async def start(self, host: str, port: int, *, backlog: int = 1024) -> int:
        """Listen on ``host:port`` (0 picks a free port); the port bound."""
        loop = asyncio.get_running_loop()
        state = self._state
        state.now = loop.time()
        self._listener = await loop.create_server(
            lambda: GatewayConnection(state),
            host,
            port,
            backlog=backlog,
            reuse_address=True,
        )
        self._ticker = loop.call_later(self._interval, self._tick)
        for sock in self._listener.sockets:
            return int(sock.getsockname()[1])
        msg = "the gateway is not listening"  # pragma: no cover - create_server binds or raises
        raise RuntimeError(msg)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        state = self._state
        state.now = now = loop.time()
        state.date_line = date_line(time.time())
        for connection in list(state.connections):
            connection.expire(now)
        self._ticker = loop.call_later(self._interval, self._tick)

    async def stop(self) -> None:
        """Stop accepting, finish in-flight calls (up to ``drain_timeout``), close everything."""
        state = self._state
        state.draining = True
        if self._listener is not None:
            self._listener.close()
        for connection in list(state.connections):
            connection.close_if_idle()
        if state.connections:
            loop = asyncio.get_running_loop()
            state.on_empty = loop.create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(state.on_empty), self.drain_timeout)
        left = list(state.connections)
        if left:
            log.warning("%d gateway call(s) still running after the drain timeout", len(left))
        tasks = [c.task for c in left if c.task is not None]
        for connection in left:
            connection.abort()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._listener is not None:
            await self._listener.wait_closed()
            self._listener = None
