"""Keep-alive connections to one origin: where connections come from and go back to.

A :class:`Pool` serves one (scheme, host, port). It opens connections -- with
the egress guard deciding which addresses may be dialled -- keeps the idle ones
most-recently-used last (the warmest is reused first, the coldest expire
first), and closes those idle past ``keepalive`` with one timer for the whole
pool rather than one per connection.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections import deque
from collections.abc import Callable

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import ProviderTarget
from seawall.security import GuardedResolver
from seawall.transports._wire_conn import DONE, IDLE, Connection

__all__ = ["DNS_TTL", "Pool"]

#: how long a hostname's checked addresses are reused before resolving again
DNS_TTL = 10.0


class Pool:
    """Connections to one origin; ``take`` an idle one or ``connect``, then ``put`` it back."""

    __slots__ = (
        "_addresses",
        "_resolved_at",
        "_sweep",
        "closed",
        "conns",
        "guard",
        "host",
        "idle",
        "keepalive",
        "literal",
        "loop",
        "max_idle",
        "on_free",
        "port",
        "ssl",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        host: str,
        port: int,
        literal: bool,
        ssl_context: ssl.SSLContext | None,
        guard: GuardedResolver | None,
        keepalive: float,
        max_idle: int,
    ) -> None:
        self.loop = loop
        self.host = host
        self.port = port
        #: True when ``host`` is an IP literal (already checked; never resolved)
        self.literal = literal
        self.ssl = ssl_context
        self.guard = guard
        self.keepalive = keepalive
        self.max_idle = max_idle
        self.idle: deque[Connection] = deque()
        #: every open connection, idle or busy, so closing the pool reaches them all
        self.conns: set[Connection] = set()
        self.closed = False
        self._sweep: asyncio.TimerHandle | None = None
        self._addresses: list[str] = []
        self._resolved_at = 0.0
        #: told when a connection becomes idle or closes (room for a waiting call)
        self.on_free: Callable[[], None] | None = None

    def take(self) -> Connection | None:
        """The most recently used idle connection still open, or None."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            conn.pooled = False
            transport = conn.transport
            if conn.open and transport is not None and not transport.is_closing():
                return conn
        return None

    def put(self, conn: Connection) -> None:
        """Keep ``conn`` for reuse if its response ended cleanly; close it otherwise."""
        if (
            conn.keep_alive
            and conn.open
            and conn.phase is DONE
            and not self.closed
            and len(self.idle) < self.max_idle
        ):
            conn.phase = IDLE
            conn.pooled = True
            conn.idle_since = self.loop.time()
            self.idle.append(conn)
            if self._sweep is None:
                self._sweep = self.loop.call_at(conn.idle_since + self.keepalive, self._expire)
            if self.on_free is not None:
                self.on_free()
        else:
            conn.close()

    def forget(self, conn: Connection) -> None:
        """Called by a connection once it is closed."""
        self.conns.discard(conn)
        if conn.pooled:
            conn.pooled = False
            self.idle.remove(conn)
        if self.on_free is not None:
            self.on_free()

    async def connect(self, target: ProviderTarget, timeout: float) -> Connection:
        """A new connection, to an address the egress guard admitted.

        Raises :class:`UpstreamConnectError` (``sent=False``) or
        :class:`UpstreamTimeout` naming ``target``; :class:`~seawall.EgressDenied`
        passes through.
        """
        if self.closed:
            msg = "the upstream client is closed"
            raise UpstreamConnectError(msg, sent=False, provider=target.name)
        try:
            async with asyncio.timeout(timeout):
                conn = await self._dial(target, timeout)
        except TimeoutError as exc:
            msg = f"connecting to {target.base_url} timed out"
            raise UpstreamTimeout(msg, provider=target.name) from exc
        except OSError as exc:  # refused, unreachable, DNS failure, TLS verification
            msg = f"cannot connect to {target.base_url}: {_why(exc)}"
            raise UpstreamConnectError(msg, sent=False, provider=target.name) from exc
        self.conns.add(conn)
        return conn

    async def _dial(self, target: ProviderTarget, timeout: float) -> Connection:
        loop = self.loop
        last: OSError | None = None
        for address in await self._resolve():
            conn = Connection(loop, self)
            try:
                await loop.create_connection(
                    _factory(conn),
                    address,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl is not None else None,
                    ssl_handshake_timeout=timeout if self.ssl is not None else None,
                )
            except OSError as exc:
                last = exc
                continue
            if self.closed:  # aclose() ran while this one was being opened
                conn.abort()
                msg = "the upstream client is closed"
                raise UpstreamConnectError(msg, sent=False, provider=target.name)
            return conn
        assert last is not None
        raise last

    async def _resolve(self) -> list[str]:
        """Where to dial: the literal, the guard's admitted addresses, or the name itself.

        With the guard, the addresses it checked are the ones dialled, so a second
        lookup cannot swap in another answer (DNS rebinding); they are reused for
        :data:`DNS_TTL` seconds, as aiohttp's connector caches its lookups.
        """
        if self.literal or self.guard is None:
            return [self.host]  # without a guard the loop resolves and tries each address
        now = self.loop.time()
        if not self._addresses or now - self._resolved_at > DNS_TTL:
            results = await self.guard.resolve(self.host, self.port, family=socket.AF_UNSPEC)
            self._addresses = list(dict.fromkeys(r["host"] for r in results))
            self._resolved_at = now
        return self._addresses

    def _expire(self) -> None:
        """Close the connections idle past ``keepalive``; re-arm for the next one due."""
        self._sweep = None
        idle = self.idle
        deadline = self.loop.time() - self.keepalive
        while idle and idle[0].idle_since <= deadline:
            conn = idle.popleft()
            conn.pooled = False
            conn.close()
        if idle and not self.closed:
            self._sweep = self.loop.call_at(idle[0].idle_since + self.keepalive, self._expire)

    def close(self) -> None:
        """Close every connection, idle or busy; later calls are refused."""
        self.closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self.idle.clear()
        for conn in list(self.conns):
            conn.pooled = False
            if self.ssl is not None:
                conn.abort()  # no close_notify round trip on the way out
            else:
                conn.close()
        self.conns.clear()


def _why(exc: OSError) -> str:
    """The OS's own words for a failed connect (asyncio's message hides them)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror) or not exc.errno:
        return exc.strerror or str(exc)
    return os.strerror(exc.errno)


def _factory(conn: Connection) -> Callable[[], Connection]:
    return lambda: conn
