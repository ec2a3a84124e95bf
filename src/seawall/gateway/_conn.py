"""One caller's connection: HTTP/1.1 parsed by llhttp, each request one engine call.

The protocol is driven by :mod:`httptools` callbacks. A request is collected
whole (the engine holds the body to resend it on retry and failover) and
answered by one task; a caller that pipelines is answered in order, reading
paused while a request waits. Problems decided from the head alone (unknown
integration, bad target, a declared body over ``gateway.max_body``) are
answered without an engine call.

A caller that goes away mid-call does not cancel it: the engine finishes (a
vendor write is never left half-done) and the answer is discarded.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from typing import cast

import httptools

from seawall.engine import Engine, Request
from seawall.gateway._responses import CONTINUE, Problem, problem
from seawall.gateway._state import ServerState
from seawall.gateway._writer import LINGER_BYTES, ResponseWriter

__all__ = ["GatewayConnection", "Reading"]

log = logging.getLogger("seawall.gateway")

#: the longest request target accepted (the aiohttp-based handler's limit too)
MAX_TARGET = 8192


class Reading(enum.Enum):
    """Where the parser is in the caller's next request."""

    #: between requests: nothing of the next one has arrived (the idle timeout runs)
    IDLE = 1
    #: the request line and fields are arriving (the header timeout runs from the first byte)
    HEAD = 2
    #: the body is arriving (the header timeout runs from the last piece)
    BODY = 3


_IDLE = Reading.IDLE
_HEAD = Reading.HEAD
_BODY = Reading.BODY


class _Stop(Exception):
    """Raised from a parser callback to stop parsing: the connection is answered and done."""


#: a request ready to answer: engine, integration, request, keep-alive, HTTP/1.0, refusal
_Job = tuple[Engine | None, str, Request | None, bool, bool, Problem | None]


class GatewayConnection(ResponseWriter):
    """HTTP/1.1 from one caller, answered through the engine, one request at a time."""

    __slots__ = (
        "_body",
        "_busy",
        "_chunked",
        "_continue_pending",
        "_engine",
        "_expect",
        "_head_bytes",
        "_headers",
        "_integration",
        "_keep_alive",
        "_length",
        "_linger",
        "_method",
        "_parser",
        "_phase",
        "_queue",
        "_refusal",
        "_size",
        "_stopped",
        "_target",
        "_task",
        "_url",
        "_v10",
    )

    def __init__(self, state: ServerState) -> None:
        super().__init__(state)
        self._parser = httptools.HttpRequestParser(self)
        self._phase = _IDLE  # a fresh connection has header_timeout to start its request
        self._head_bytes = 0
        self._busy = False  # a request is being answered
        self._stopped = False  # parsing is over: the connection ends after what is queued
        self._queue: deque[_Job] = deque()
        self._task: asyncio.Task[None] | None = None
        self._continue_pending = False
        self._linger = False  # close by lingering: request bytes may be left unread
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._length: int | None = None
        self._chunked = False
        self._expect = False
        self._refusal: Problem | None = None
        self._method = "GET"
        self._target = "/"
        self._integration = ""
        self._engine: Engine | None = None
        self._keep_alive = True
        self._v10 = False

    # -- transport callbacks ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike
        self._transport = cast("asyncio.Transport", transport)
        self._state.connections.add(self)
        if self._state.draining:
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._closing = True
        self._stopped = True
        self._queue.clear()
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)
        if not self._busy:
            self._state.forget(self)

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            if self._lingering:
                self._lingering += len(data)
                if self._lingering > LINGER_BYTES and self._transport is not None:
                    self._transport.close()
            return
        if self._phase is not _BODY:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The request asked to switch protocols; it was answered (or queued) as
            # plain HTTP, and what follows is not HTTP: read no more.
            self._stop_reading()
            return
        except httptools.HttpParserError as exc:
            if not self._stopped:
                log.debug("malformed request: %s", exc)
                self._refuse_now(problem("bad-request", f"the request is malformed: {exc}"))
            return
        if self._phase is _HEAD and self._head_bytes > self._state.max_head:
            self._refuse_now(problem("head-too-large", self._head_too_large()))

    def _head_size(self) -> int:
        """The size of the head just parsed (counted only when the bytes read exceed the cap)."""
        return len(self._url) + sum(len(k) + len(v) + 4 for k, v in self._headers)

    def _head_too_large(self) -> str:
        return f"the request line and fields are larger than {self._state.max_head} bytes"

    def eof_received(self) -> bool | None:
        # A half-closed caller may still read the answer to what it sent; then we close.
        self._stopped = True
        return self._busy or bool(self._queue)

    def _writable(self) -> None:
        if not self._busy and self._queue:
            self._next()

    # -- parser callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._phase = _HEAD
        self._since = self._state.now
        self._limit = self._state.header_timeout

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if len(name) in (6, 14, 17):
            lower = name.lower()
            if lower == b"content-length":
                self._length = int(value)
            elif lower == b"expect":
                self._expect = value.lower() == b"100-continue"
            elif lower == b"transfer-encoding":
                self._chunked = True

    def on_headers_complete(self) -> None:
        state = self._state
        self._phase = _BODY
        self._since = state.now
        if self._head_bytes > state.max_head and self._head_size() > state.max_head:
            self._refuse_now(problem("head-too-large", self._head_too_large()))
            raise _Stop
        self._head_bytes = 0
        parser = self._parser
        self._keep_alive = parser.should_keep_alive()
        self._v10 = parser.get_http_version() == "1.0"
        self._method = parser.get_method().decode("ascii")
        refusal, close = self._route(state)
        if parser.should_upgrade():
            # Upgrade is hop-by-hop: the call is answered as plain HTTP, then the
            # connection closes; llhttp does not read a body after an upgrade request.
            self._keep_alive = False
            if refusal is None and (self._chunked or self._length):
                refusal = problem("bad-request", "the gateway does not switch protocols")
            close = True
        length = self._length
        if length is not None and length > state.max_body:
            refusal = refusal or self._too_large()
            close = True  # the body is not read
        if refusal is not None:
            if close or self._expect:
                self._refuse_now(refusal)
                raise _Stop
            self._refusal = refusal  # answered once the body is read and dropped
        elif self._expect and not self._v10:
            if self._busy or self._queue:
                self._continue_pending = True
            elif self._transport is not None:
                self._transport.write(CONTINUE)

    def _route(self, state: ServerState) -> tuple[Problem | None, bool]:
        """Split ``/<integration>/<rest>``; a refusal when the target or name is wrong."""
        raw = self._url.decode("utf-8", "surrogateescape")
        if not raw.startswith("/") or len(raw) > MAX_TARGET:
            detail = "the request target must be /<integration>/<path>"
            return problem("bad-request", detail), len(raw) > MAX_TARGET
        slash = raw.find("/", 1)
        query = raw.find("?", 1)
        if slash == -1:
            cut = len(raw) if query == -1 else query
        else:
            cut = slash if query == -1 or slash < query else query
        integration = raw[1:cut]
        target = raw[cut:] or "/"
        if target[0] == "?":
            target = "/" + target
        engine = state.engine()
        if integration not in engine.integrations:
            known = ", ".join(sorted(engine.integrations)) or "none"
            refusal = problem(
                "unknown-integration",
                f"no integration named '{integration}'; configured: {known}",
                integration=integration or None,
            )
            return refusal, False
        self._engine = engine
        self._integration = integration
        self._target = target
        return None, False

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        self._since = self._state.now
        if self._size > self._state.max_body:
            self._refuse_now(self._refusal or self._too_large())
            raise _Stop
        if self._refusal is None:
            self._body.append(body)

    def on_message_complete(self) -> None:
        self._phase = _IDLE
        self._since = self._state.now
        refusal = self._refusal
        if refusal is None:
            body = self._body
            request = Request(
                self._method,
                self._target,
                self._headers,
                (body[0] if len(body) == 1 else b"".join(body)) if body else b"",
            )
            job: _Job = (
                self._engine,
                self._integration,
                request,
                self._keep_alive,
                self._v10,
                None,
            )
        else:
            job = (None, "", None, self._keep_alive, self._v10, refusal)
        self._reset()
        if self._busy or self._queue:
            self._queue.append(job)
            self._sync_reading()
        else:
            self._start(job)

    # -- answering --------------------------------------------------------------------

    def _too_large(self) -> Problem:
        max_body = self._state.max_body
        return problem(
            "body-too-large",
            f"the body is larger than gateway.max_body ({max_body} bytes)",
            integration=self._integration or None,
        )

    def _refuse_now(self, refusal: Problem) -> None:
        """Answer ``refusal`` (after anything queued) and close: the rest is not read."""
        self._stopped = True
        self._linger = True
        job: _Job = (None, "", None, False, self._v10, refusal)
        if self._busy or self._queue:
            self._queue.append(job)
            self._stop_reading()
        else:
            self._start(job)

    def _start(self, job: _Job) -> None:
        engine, integration, request, keep_alive, v10, refusal = job
        if refusal is not None or engine is None or request is None:
            assert refusal is not None
            status, block, body = refusal
            self._finish(self._write(status, block, body, keep_alive, v10, head=False))
            return
        self._busy = True
        self._task = self._loop.create_task(
            self._respond(engine, integration, request, keep_alive, v10)
        )

    def _answered(self, keep_alive: bool) -> None:
        self._task = None
        self._busy = False
        self._finish(keep_alive)

    def _finish(self, keep_alive: bool) -> None:
        """One answer is out: close, or go on to the next request."""
        if self._closed:
            self._state.forget(self)
            return
        if not keep_alive or self._state.draining or (self._stopped and not self._queue):
            self._close(linger=self._linger)
            return
        self._since = self._state.now
        if self._phase is _IDLE:
            self._limit = self._state.idle_timeout
        if self._queue:
            if not self._write_paused:
                self._next()
            return
        self._sync_reading()
        if self._continue_pending:
            self._continue_pending = False
            if self._transport is not None:
                self._transport.write(CONTINUE)

    def _next(self) -> None:
        job = self._queue.popleft()
        self._sync_reading()
        self._start(job)

    # -- flow control and closing -----------------------------------------------------

    def _flow_changed(self) -> None:
        self._sync_reading()

    def _sync_reading(self) -> None:
        """Read while nothing waits: pause for a queued request or a full write buffer."""
        transport = self._transport
        if transport is None or self._closing:
            return
        pause = (self._stopped and not self._lingering) or bool(self._queue) or self._write_paused
        if pause is not self._read_paused:
            self._read_paused = pause
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _stop_reading(self) -> None:
        self._stopped = True
        self._sync_reading()

    # -- for the server ---------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Close a connection idle, or slow to send its request, past its timeout."""
        if self._lingering:
            if now - self._since > self._limit and self._transport is not None:
                self._transport.close()
            return
        if self._closing:
            return
        if self._busy or self._queue:
            if self._write_paused and now - self._write_paused_at > self._state.idle_timeout:
                self.abort()  # the caller stopped reading its answer
            return
        if now - self._since > self._limit:
            self._close()

    def close_if_idle(self) -> None:
        """While draining: close now unless a request is arriving or being answered."""
        if self._lingering and self._transport is not None:
            self._transport.close()
        elif not self._busy and not self._queue and self._phase is _IDLE:
            self._close()

    def abort(self) -> None:
        """Drop the connection and cancel its call (the drain timeout ran out)."""
        self._closing = True
        if self._transport is not None:
            self._transport.abort()
        if self._task is not None:
            self._task.cancel()

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task
