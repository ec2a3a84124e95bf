"""One HTTP/1.1 connection to a vendor: an asyncio protocol around httptools' C parser.

The connection carries one exchange at a time. Its state lives on the protocol
object itself (no per-request reader, queue or message object), so a pooled
call costs one future, one timer and the response's own lists.

Response framing follows RFC 9112 section 6.3: 1xx interim responses are
skipped, 204 and 304 and answers to HEAD have no body, Content-Length and
chunked bodies end where they say, and anything else is read until the vendor
closes the connection. llhttp (inside httptools) rejects what would let a
response smuggle another (Content-Length beside Transfer-Encoding, duplicate
lengths, bad chunk sizes); it has no size limits, so this module bounds the
header block itself.
"""

from __future__ import annotations

import asyncio
import enum
import math
from typing import TYPE_CHECKING, cast

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)

from seawall._deadlines import Slot, deadlines
from seawall.transports._aiohttp import STREAM_ABOVE

if TYPE_CHECKING:
    from seawall.transports._wire_pool import Pool

__all__ = [
    "BODY",
    "DONE",
    "HEAD",
    "IDLE",
    "MAX_FIELDS",
    "MAX_HEAD",
    "Connection",
    "Failure",
    "Phase",
]

#: the largest status line plus header block accepted, across interim responses
MAX_HEAD = 64 * 1024
#: the most header fields one response may carry
MAX_FIELDS = 200
#: a timer that fires this close to the attempt's end has reached it (loop timers round to 1 ms)
_TIMER_SLACK = 0.001
#: unread streamed body above which the socket stops being read (backpressure)
HIGH_WATER = 512 * 1024


class Phase(enum.Enum):
    """Where the connection's current exchange stands."""

    IDLE = "idle"  # no request outstanding: just opened, or waiting in the pool
    HEAD = "head"  # request written; the status line and headers are still arriving
    BODY = "body"  # headers read; the body is still arriving
    DONE = "done"  # the whole response is read; reusable when keep_alive holds


#: The phases as module constants, for the per-byte and per-exchange paths: on
#: Python 3.11 ``Phase.HEAD`` passes through EnumType's ``__getattr__`` hook
#: (about 850 instructions a read, fifteen reads an exchange).
IDLE, HEAD, BODY, DONE = Phase.IDLE, Phase.HEAD, Phase.BODY, Phase.DONE


class Failure(enum.Enum):
    """Why an exchange ended without a whole response."""

    TIMEOUT = "timeout"  # nothing arrived (or drained) within the timeout
    LOST = "lost"  # the connection closed or reset before the response ended
    MALFORMED = "malformed"  # the bytes broke HTTP/1.1 framing or a size bound


class _Halt(Exception):
    """Raised inside a parser callback to stop llhttp; the reason is already recorded."""


class Connection(asyncio.Protocol):
    """A keep-alive connection; :meth:`begin` sends a request, :meth:`wait` awaits progress.

    The caller reads ``phase``, ``failure``, ``status``, ``headers`` and the body
    parts after each wait; the protocol callbacks only record and wake.
    """

    __slots__ = (
        "_deadlines",
        "_framing",
        "_halt_reparse",
        "_interim",
        "_loop",
        "_paused",
        "_timer",
        "_unsent",
        "_waiter",
        "buffered",
        "chunked",
        "exchanges",
        "failure",
        "field_bytes",
        "fields",
        "head_bytes",
        "head_only",
        "headers",
        "idle_since",
        "keep_alive",
        "last_data",
        "length",
        "open",
        "parser",
        "parts",
        "phase",
        "pool",
        "pooled",
        "reason",
        "received",
        "status",
        "streaming",
        "timeout",
        "transport",
        "until",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: Pool) -> None:
        self._loop = loop
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = HttpResponseParser(self)
        self.open = False
        self.pooled = False
        self.phase = IDLE
        self.failure: Failure | None = None
        self.reason = ""
        self.status = 0
        #: the response's fields as received (decoded only if someone reads them as text)
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None
        self.chunked = False
        self.parts: list[bytes] = []
        self.buffered = 0
        self.keep_alive = False
        self.exchanges = 0
        self.received = False
        self.head_only = False
        self.streaming = False
        self.head_bytes = 0
        self.field_bytes = 0
        self.fields = 0
        self.timeout = 0.0
        #: the loop time by which the answer must be complete (inf once it is streamed)
        self.until = math.inf
        self.last_data = 0.0
        self.idle_since = 0.0
        self._interim = False
        self._paused = False
        self._halt_reparse = False
        self._unsent = 0
        self._framing = 0
        self._waiter: asyncio.Future[None] | None = None
        #: the slot of the armed timer (see :mod:`seawall._deadlines`)
        self._timer: Slot | None = None
        self._deadlines = deadlines(loop)

    # -- the caller's side ---------------------------------------------------------

    def begin(
        self,
        head: bytes,
        body: bytes,
        *,
        head_only: bool,
        timeout: float,
        until: float = math.inf,
    ) -> None:
        """Reset the exchange state and write the request (one write when it is small).

        ``timeout`` bounds each stall; ``until`` (a loop time) bounds the whole
        answer, until its body is streamed to the caller.
        """
        self.phase = HEAD
        self.failure = None
        self.status = 0
        self.headers = []
        self.length = None
        self.chunked = False
        if self.parts:  # left by a stream closed after its end but before reading it all
            self.parts = []
        self.buffered = 0
        self.keep_alive = False
        self.received = False
        self.head_only = head_only
        self.streaming = False
        self.head_bytes = 0
        self.field_bytes = 0
        self.fields = 0
        self.timeout = timeout
        self.until = until
        self._unsent = 0
        self._framing = 0
        self.exchanges += 1
        transport = self.transport
        assert transport is not None
        try:
            if not body:
                transport.write(head)
            elif len(body) <= 64 * 1024:
                transport.write(head + body)
            else:  # a large body is not copied to prepend the head
                transport.writelines((head, body))
        except (OSError, RuntimeError) as exc:  # uvloop refuses writes on a closed handle
            self._fail(Failure.LOST, f"the request could not be written: {exc}")

    def wait(self) -> asyncio.Future[None]:
        """A future done at the next step (headers, body data, end, failure) or a timeout.

        The timer is armed once per wait; data arriving moves ``last_data`` and
        the timer, when it fires early, re-arms itself for the remainder, so a
        body that keeps arriving never times out and one that stops does. The
        connection disarms it when it wakes the waiter or closes: waiting costs
        no coroutine on the hot path.
        """
        loop = self._loop
        waiter = loop.create_future()
        self._waiter = waiter
        now = loop.time()
        self.last_data = now
        if self._timer is not None:
            self._timer.pop(self, None)
        self._timer = self._deadlines.arm(
            min(now + self.timeout, self.until), self, self._timer_fired
        )
        return waiter

    def _disarm(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.pop(self, None)

    def take_body(self) -> bytes:
        """The buffered body, joined; the parts list is emptied."""
        parts = self.parts
        if not parts:
            return b""
        self.parts = []
        self.buffered = 0
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def take_parts(self) -> list[bytes]:
        """The body parts that arrived since the last call; resumes a paused socket."""
        parts = self.parts
        self.parts = []
        self.buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return parts

    def close(self) -> None:
        """Close the connection: gracefully when idle, at once mid-response."""
        self.open = False
        self._disarm()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if self.phase is HEAD or self.phase is BODY:
                transport.abort()  # an unfinished response is never read to its end
            else:
                transport.close()

    def abort(self) -> None:
        """Drop the connection without a graceful shutdown (no TLS close_notify wait)."""
        self.open = False
        self._disarm()
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast("asyncio.Transport", transport)
        self.open = True

    def data_received(self, data: bytes) -> None:
        phase = self.phase
        if phase is not HEAD and phase is not BODY:
            # Bytes outside an exchange (a 408 sent before closing an idle
            # connection, or a body after a HEAD answer): the stream is out of step.
            self.keep_alive = False
            self.close()
            return
        self.received = True
        if self._waiter is not None:
            self.last_data = self._loop.time()
        if phase is BODY:
            self._framing += len(data)  # on_body sets it back to 0
        try:
            self.parser.feed_data(data)
        except HttpParserCallbackError as exc:
            self._halted(data, exc)
        except HttpParserUpgrade:
            self._fail(Failure.MALFORMED, "the vendor switched protocols, which seawall never asks")
        except HttpParserError as exc:
            self._fail(Failure.MALFORMED, f"malformed response: {exc}")
        else:
            if self.phase is HEAD:
                self.head_bytes += len(data)
                if self.head_bytes > MAX_HEAD:
                    self._fail(Failure.MALFORMED, _too_large(self.fields))
            elif self.phase is BODY:
                if self._framing > MAX_HEAD:
                    # chunk framing or trailers without end; llhttp would buffer a trailer whole
                    self._fail(Failure.MALFORMED, "endless chunk framing or trailer fields")
                elif self.streaming and self.buffered > HIGH_WATER and not self._paused:
                    self._paused = True
                    assert self.transport is not None
                    self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost decides what the end means

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self.phase is BODY and self.failure is None:
            if exc is None and self.length is None and not self.chunked:
                # A body without length or chunking ends where the connection does
                # (RFC 9112 section 6.3, item 8).
                self.phase = DONE
                self.keep_alive = False
            else:
                why = f": {exc}" if exc is not None else ""
                self._fail(Failure.LOST, f"the response broke off{why}")
        elif self.phase is HEAD and self.failure is None:
            why = f": {exc}" if exc is not None else ""
            self._fail(Failure.LOST, f"the connection closed before the response{why}")
        self.pool.forget(self)
        self._wake()

    def pause_writing(self) -> None:
        """The request is larger than the socket buffers; the timer watches it drain."""

    def resume_writing(self) -> None:
        self.last_data = self._loop.time()  # the vendor is reading: that is progress

    # -- httptools callbacks -------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.phase is not HEAD:
            # A second response after the first ended: the vendor is out of step.
            self.keep_alive = False
            raise _Halt

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.phase is not HEAD:
            return  # a trailer field (RFC 9112 §7.1.2): dropped, as aiohttp drops them
        size = len(name)
        self.fields += 1
        self.field_bytes += size + len(value)
        if self.fields > MAX_FIELDS or self.field_bytes > MAX_HEAD:
            self._fail(Failure.MALFORMED, _too_large(self.fields))
            raise _Halt
        if size == 14 and name.lower() == b"content-length":
            self.length = int(value)  # llhttp has checked the digits and duplicates
        elif size == 17 and name.lower() == b"transfer-encoding":
            self.chunked = value.rstrip().lower().endswith(b"chunked")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            if status == 101:
                self._fail(Failure.MALFORMED, "the vendor switched protocols (101) unasked")
                raise _Halt
            # 1xx interim response (100 Continue, 103 Early Hints): skipped
            self._interim = True
            self.headers = []
            self.length = None
            self.chunked = False
            self.fields = 0
            return
        self.status = status
        if self.head_only:
            # llhttp cannot be told the request was HEAD, so it would wait for the
            # Content-Length bytes: the answer ends here instead (RFC 9110 section 9.3.2).
            self.keep_alive = self.parser.should_keep_alive()
            self.phase = DONE
            self._halt_reparse = True
            self._wake()
            raise _Halt
        self.phase = BODY
        length = self.length
        self.streaming = 200 <= status < 300 and (length is None or length > STREAM_ABOVE)
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)
        self.buffered += len(body)
        self._framing = 0
        if self.streaming:
            self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.keep_alive = self.parser.should_keep_alive()
        self.phase = DONE
        self._wake()

    # -- internals -----------------------------------------------------------------

    def _halted(self, data: bytes, exc: HttpParserCallbackError) -> None:
        """llhttp stopped because a callback raised: finish what the callback began."""
        if self._halt_reparse:
            # The answer to HEAD ended at its blank line; llhttp is left in an error
            # state, so the next exchange gets a fresh parser -- unless more bytes
            # followed in the same read, which would mean a body nobody asked for.
            self._halt_reparse = False
            if self.keep_alive and data.endswith(b"\r\n\r\n"):
                self.parser = HttpResponseParser(self)
            else:
                self.keep_alive = False
            return
        if self.failure is not None or self.phase is DONE:
            return  # a bound was hit (already recorded), or bytes after the end
        cause = exc.__context__
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        self._fail(Failure.MALFORMED, f"unreadable response ({detail})")

    def _fail(self, failure: Failure, reason: str) -> None:
        if self.failure is None:
            self.failure = failure
            self.reason = reason
        self.keep_alive = False
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            self._disarm()
            if not waiter.done():
                waiter.set_result(None)

    def _timer_fired(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():  # answered, or the waiting call was cancelled
            return
        loop = self._loop
        now = loop.time()
        if now >= self.until - _TIMER_SLACK:
            self._fail(Failure.TIMEOUT, "no complete answer within the attempt's timeout")
            return
        remaining = self.last_data + self.timeout - now
        if remaining > 0:
            self._timer = self._deadlines.arm(
                min(now + remaining, self.until), self, self._timer_fired
            )
            return
        # A large request still draining to a vendor that reads it slowly is
        # progress too: the timeout bounds each stall, not the upload.
        unsent = self.transport.get_write_buffer_size() if self.transport is not None else 0
        if unsent and (self._unsent == 0 or unsent < self._unsent):
            self._unsent = unsent
            self.last_data = now
            self._timer = self._deadlines.arm(
                min(now + self.timeout, self.until), self, self._timer_fired
            )
            return
        self._fail(Failure.TIMEOUT, f"nothing arrived for {self.timeout:.3g}s")


def _too_large(fields: int) -> str:
    if fields > MAX_FIELDS:
        return f"the response has more than {MAX_FIELDS} header fields"
    return f"the response headers are larger than {MAX_HEAD // 1024} KiB"
