"""The lean upstream client: HTTP/1.1 on asyncio protocols and httptools' C parser.

aiohttp's client builds a request object, a response object, a stream reader,
timer contexts and a connection wrapper for every call; behind a proxy that is
most of the time a loopback call takes. :class:`WireUpstream` keeps what can be
kept per provider (origin, ``Host`` line, pool), writes each request as one
buffer on a pooled keep-alive connection, and parses the answer with llhttp
straight into the engine's :class:`~seawall.engine.Response`.

Outwardly it behaves as :class:`~seawall.transports.AiohttpUpstream`: the same
URL and header hygiene, no redirects followed, no decompression, the same
egress guard, the same rule for when a body is streamed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import resource
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from seawall._errors import UpstreamConnectError, UpstreamError, UpstreamTimeout
from seawall.engine import ProviderTarget, Request, Response
from seawall.security import EgressPolicy, GuardedResolver, check_url_host
from seawall.transports._headers import octets, outbound_headers, outbound_url
from seawall.transports._wire_conn import BODY, DONE, HEAD, Connection, Failure
from seawall.transports._wire_pool import Pool

if TYPE_CHECKING:
    from seawall.engine import Upstream

__all__ = ["WireUpstream"]

#: methods whose requests carry no Content-Length when bodiless, as aiohttp sends them
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
#: methods safe to send again after a kept-alive connection died unanswered (RFC 9110 §9.2.2)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
#: headers that make any request safe to resend, as Go's net/http honours them
_IDEMPOTENCY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})
#: an HTTP method is a token (RFC 9110 §9.1)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: every visible ASCII character may stand in a request target as it is
_PATH_SAFE = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
#: how many base URLs keep their prepared route before the cache starts over
_ROUTE_CACHE = 1024


class _Route:
    """What one ``base_url`` needs per call, prepared once."""

    __slots__ = ("host_line", "origin_len", "pool")

    def __init__(self, origin_len: int, host_line: str, pool: Pool) -> None:
        #: ``len("scheme://netloc")``: the request target starts there in the URL
        self.origin_len = origin_len
        self.host_line = host_line
        self.pool = pool


class _Stale(Exception):
    """A kept-alive connection closed before any byte of the answer arrived."""


class WireUpstream:
    """Pooled HTTP/1.1 keep-alive connections per origin; created lazily in the running loop.

    Each ``send`` ends within its ``timeout`` (waiting for room under the
    connection cap, connecting and the answer's head and buffered body
    together), raising :class:`~seawall.UpstreamTimeout`: ``bounds_attempts``
    tells the engine it need not arm a timer of its own.

    ``keepalive_timeout`` closes connections idle that long; at most
    ``max_idle_per_host`` idle ones are kept per origin. The number of busy
    connections is not capped: the bulkhead already bounds concurrent calls per
    integration, and a second cap here would only queue calls invisibly.

    With ``egress`` set, IP-literal hosts are checked before the first
    connection and hostnames are resolved through :class:`GuardedResolver`,
    whose admitted addresses are the ones dialled (no DNS rebinding gap).
    ``ssl_context`` replaces ``ssl.create_default_context()`` for https (a test
    CA, client certificates); verification and SNI stay on by default.

    Open connections are capped at ``max_connections`` (default: half the
    process's open-file limit, less a reserve), so that answering callers never
    runs the process out of descriptors: a call past the cap waits, within its
    timeout, for a connection to come free, and an idle connection to another
    origin is closed to make room.

    A kept-alive connection the vendor closed before answering is retried once
    on a new connection when the request is safe to resend (an idempotent
    method or an ``Idempotency-Key``), as RFC 9112 §9.3.1 allows; otherwise the
    error says the request may have been sent.
    """

    #: ``send`` raises UpstreamTimeout by itself once ``timeout`` has passed
    bounds_attempts = True

    def __init__(
        self,
        *,
        egress: EgressPolicy | None = None,
        keepalive_timeout: float = 30.0,
        max_idle_per_host: int = 256,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int | None = None,
    ) -> None:
        if max_connections is not None and max_connections < 1:
            msg = f"max_connections must be at least 1, not {max_connections}"
            raise ValueError(msg)
        self._max_connections = max_connections or _descriptor_share()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._dialling = 0
        self._egress = egress
        self._guard = GuardedResolver(policy=egress) if egress is not None else None
        self._keepalive = keepalive_timeout
        self._max_idle = max_idle_per_host
        self._ssl = ssl_context
        self._routes: dict[str, _Route] = {}
        self._pools: dict[tuple[str, str, int], Pool] = {}
        self._methods: set[str] = set()
        self._closed = False

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        if self._closed:
            msg = "the upstream client is closed"
            raise UpstreamConnectError(msg, sent=False, provider=target.name)
        route = self._routes.get(target.base_url)
        if route is None:
            route = self._route(target)
        head = self._head(request, target, route)
        body = request.body
        head_only = request.method == "HEAD"
        pool = route.pool
        loop = pool.loop  # not asyncio.get_running_loop(): a getpid() system call per use
        until = loop.time() + timeout  # the whole attempt, connecting included
        conn = pool.take()
        if conn is not None:
            try:
                return await _exchange(conn, pool, target, head, body, head_only, timeout, until)
            except _Stale:
                if not _replayable(request):
                    msg = f"{target.base_url} dropped the connection before answering"
                    raise UpstreamConnectError(msg, sent=True, provider=target.name) from None
        conn = await self._room(pool, target, until)
        if conn is None:
            self._dialling += 1  # counted against the cap while it connects
            try:
                conn = await pool.connect(target, until - loop.time())
            finally:
                self._dialling -= 1
                self._wake()
        try:
            return await _exchange(conn, pool, target, head, body, head_only, timeout, until)
        except _Stale:  # pragma: no cover - a new connection is never stale
            msg = f"{target.base_url} dropped the connection before answering"
            raise UpstreamConnectError(msg, sent=True, provider=target.name) from None

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or busy, to every origin, and those connecting."""
        return self._dialling + sum(len(pool.conns) for pool in self._pools.values())

    async def _room(self, pool: Pool, target: ProviderTarget, until: float) -> Connection | None:
        """Wait until a new connection fits under the cap; an idle one of ``pool`` if one
        comes free meanwhile. Raises UpstreamTimeout when nothing frees up by ``until``."""
        if self.open_connections < self._max_connections:
            return None
        loop = asyncio.get_running_loop()
        timeout = until - loop.time()
        while self.open_connections >= self._max_connections:
            conn = pool.take()
            if conn is not None:
                return conn
            self._close_an_idle()  # its descriptor is free once it is lost, which wakes us
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(until):
                    await waiter
            except TimeoutError:
                msg = (
                    f"no connection to {target.base_url} came free in {timeout:g}s: "
                    f"{self._max_connections} are open (the open-file limit's share)"
                )
                raise UpstreamTimeout(msg, provider=target.name) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return pool.take()

    def _close_an_idle(self) -> None:
        """Close the longest-idle connection of any origin, if there is one."""
        oldest: Pool | None = None
        for candidate in self._pools.values():
            if candidate.idle and (
                oldest is None or candidate.idle[0].idle_since < oldest.idle[0].idle_since
            ):
                oldest = candidate
        if oldest is not None:
            conn = oldest.idle.popleft()
            conn.pooled = False
            conn.close()

    def _wake(self) -> None:
        """A connection came free: let the longest-waiting call try again."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _head(self, request: Request, target: ProviderTarget, route: _Route) -> bytes:
        """The request line and header block, encoded; refuses what would split it."""
        method = request.method
        path = outbound_url(target, request.target)[route.origin_len :]
        if method not in self._methods:
            if not _TOKEN.fullmatch(method):
                msg = f"{method!r} is not an HTTP method"
                raise UpstreamConnectError(msg, sent=False, provider=target.name)
            if len(self._methods) < 64:  # the usual few; odd ones are checked every time
                self._methods.add(method)
        if not (path.isascii() and path.isprintable()) or " " in path:
            path = quote(path, safe=_PATH_SAFE)  # controls, spaces, non-ASCII: percent-encoded
        fields = outbound_headers(request.headers, target)
        lines = [f"{method} {path} HTTP/1.1\r\n{route.host_line}"]
        lines += [f"{key}: {value}\r\n" for key, value in fields]
        if body := request.body:
            lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        elif method not in _BODILESS:
            lines.append("Content-Length: 0\r\n\r\n")
        else:
            lines.append("\r\n")
        text = "".join(lines)
        # request line, Host, one per field, then Content-Length and/or the blank line
        breaks = len(fields) + (3 if lines[-1] == "\r\n" else 4)
        if text.count("\n") != breaks or text.count("\r") != breaks:
            raise _split_refused(fields, target)
        return octets(text)  # the inverse of how the gateway decoded them

    def _route(self, target: ProviderTarget) -> _Route:
        """Parse ``target.base_url`` once: origin, Host line, pool; check a literal host."""
        parts = urlsplit(target.base_url)
        host = parts.hostname or ""
        if parts.username is not None or parts.password is not None:
            msg = f"{target.base_url}: credentials in base_url are not sent; configure auth instead"
            raise UpstreamConnectError(msg, sent=False, provider=target.name)
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as exc:
                msg = f"{target.base_url}: the host is not a valid internationalised name"
                raise UpstreamConnectError(msg, sent=False, provider=target.name) from exc
        https = parts.scheme == "https"
        default_port = 443 if https else 80
        port = parts.port or default_port
        if self._egress is not None:
            check_url_host(self._egress, host)  # hostnames are judged when resolved
        try:
            ipaddress.ip_address(host)
        except ValueError:
            literal = False
        else:
            literal = True
        shown = f"[{host}]" if ":" in host else host
        if port != default_port:
            shown = f"{shown}:{port}"
        key = (parts.scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Pool(
                asyncio.get_running_loop(),
                host=host,
                port=port,
                literal=literal,
                ssl_context=(self._ssl or _default_context()) if https else None,
                guard=self._guard,
                keepalive=self._keepalive,
                max_idle=self._max_idle,
            )
            pool.on_free = self._wake
        if len(self._routes) >= _ROUTE_CACHE:
            self._routes.clear()
        route = _Route(len(parts.scheme) + 3 + len(parts.netloc), f"Host: {shown}\r\n", pool)
        self._routes[target.base_url] = route
        return route

    async def aclose(self) -> None:
        self._closed = True
        pools, self._pools = self._pools, {}
        self._routes.clear()
        for pool in pools.values():
            pool.close()
        if pools:
            await asyncio.sleep(0)  # let the transports deliver connection_lost
        if self._guard is not None:
            await self._guard.close()


class _WireStream:
    """A response body relayed as it arrives; the connection is reused once it is read."""

    __slots__ = ("_conn", "_open", "_pool", "_target")

    def __init__(self, conn: Connection, pool: Pool, target: ProviderTarget) -> None:
        self._conn = conn
        self._pool = pool
        self._target = target
        self._open = True

    async def chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while self._open:  # once closed, the connection may already carry another call
            if conn.parts:
                for part in conn.take_parts():
                    yield part
            elif conn.phase is DONE:
                await self.aclose()
            elif conn.failure is not None:
                raise _failed(conn, self._target, streaming=True)
            else:
                await conn.wait()

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            if self._conn.phase is DONE:
                self._pool.put(self._conn)
            else:
                self._conn.close()  # the rest of the body is not wanted: discard the connection


async def _exchange(  # noqa: PLR0917 - the hot path passes positionally
    conn: Connection,
    pool: Pool,
    target: ProviderTarget,
    head: bytes,
    body: bytes,
    head_only: bool,
    timeout: float,
    until: float,
) -> Response:
    """Send on ``conn`` and read the answer: buffered, or streamed when large or open-ended.

    The answer's head (and a buffered body) must be complete by ``until``; a
    streamed body is bounded per stall only, as the caller reads it.
    """
    try:
        conn.begin(head, body, head_only=head_only, timeout=timeout, until=until)
        while conn.phase is HEAD and conn.failure is None:
            await conn.wait()
        if conn.phase is BODY and conn.streaming and conn.failure is None:
            conn.until = math.inf
            stream = _WireStream(conn, pool, target)
            return Response(status=conn.status, stream=stream, raw=conn.headers)
        while conn.phase is BODY and conn.failure is None:
            await conn.wait()
        if conn.failure is not None:
            raise _failed(conn, target, streaming=False)
    except BaseException:
        conn.close()  # an exchange left unfinished never goes back to the pool
        raise
    response = Response(status=conn.status, body=conn.take_body(), raw=conn.headers)
    pool.put(conn)
    return response


def _failed(conn: Connection, target: ProviderTarget, *, streaming: bool) -> Exception:
    """The error for a failed exchange, in seawall's tree (or :class:`_Stale` to retry)."""
    where, provider = target.base_url, target.name
    error: UpstreamError
    if conn.failure is Failure.TIMEOUT:
        error = UpstreamTimeout(f"{where} timed out ({conn.reason})", provider=provider)
    elif conn.failure is Failure.MALFORMED:
        msg = f"{where} sent a response seawall cannot read: {conn.reason}"
        error = UpstreamConnectError(msg, sent=True, provider=provider)
    elif not conn.received and conn.exchanges > 1:
        return _Stale()
    elif streaming or conn.phase is BODY:
        msg = f"the vendor's response broke off: {conn.reason}"
        error = UpstreamConnectError(msg, sent=True, provider=provider)
    else:
        msg = f"{where} dropped the connection before answering ({conn.reason})"
        error = UpstreamConnectError(msg, sent=True, provider=provider)
    return error


def _replayable(request: Request) -> bool:
    """Safe to send again: an idempotent method, or a request carrying an idempotency key."""
    if request.method in _IDEMPOTENT:
        return True
    return any(key.lower() in _IDEMPOTENCY_HEADERS for key, _ in request.headers)


def _split_refused(fields: list[tuple[str, str]], target: ProviderTarget) -> UpstreamConnectError:
    bad = [key for key, value in fields if any(c in key + value for c in "\r\n")]
    where = f"header {bad[0]!r}" if bad else "the request line"
    msg = f"{where} holds a line break, which would split the request; not sent"
    return UpstreamConnectError(msg, sent=False, provider=target.name)


_CONTEXT: list[ssl.SSLContext] = []


def _default_context() -> ssl.SSLContext:
    """One verifying context for every pool: building one loads the CA bundle (~ms)."""
    if not _CONTEXT:
        _CONTEXT.append(ssl.create_default_context())
    return _CONTEXT[0]


if TYPE_CHECKING:

    def _conforms(upstream: WireUpstream) -> Upstream:
        """mypy checks here that WireUpstream satisfies the engine's Upstream protocol."""
        return upstream


def _descriptor_share(reserve: int = 128) -> int:
    """Half the open-file limit less a reserve: the other half answers the callers."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):  # pragma: no cover - every POSIX system has it
        return 4096
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(64, soft // 2 - reserve)
