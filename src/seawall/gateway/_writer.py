"""The answering half of a gateway connection: the engine call and the bytes sent back.

A buffered answer is one ``transport.write`` of pre-encoded parts; a streamed
vendor body is relayed chunk by chunk (``Content-Length`` when the vendor gave
one, chunked otherwise), waiting whenever the transport's buffer is full.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from seawall._errors import SeawallError
from seawall.engine import Engine, Request, Response
from seawall.gateway._responses import (
    CHUNKED,
    CLOSE,
    KEEP_ALIVE,
    LAST_CHUNK,
    STATUS_LINES,
    content_length,
    error_problem,
    problem,
    status_line,
    vendor_block,
)
from seawall.gateway._state import ServerState

__all__ = ["LINGER_BYTES", "ResponseWriter"]

log = logging.getLogger("seawall.gateway")

#: after a refusal that leaves request bytes unread: seconds of silence, and bytes,
#: to read and drop before closing (RFC 9112 §9.6)
LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * 1024 * 1024


class ResponseWriter(asyncio.Protocol):
    """Writes answers to one caller, minding the transport's back-pressure.

    The reading half (:class:`~seawall.gateway._conn.GatewayConnection`)
    overrides :meth:`_flow_changed` and :meth:`_writable`.
    """

    __slots__ = (
        "_closed",
        "_closing",
        "_drain",
        "_limit",
        "_lingering",
        "_loop",
        "_read_paused",
        "_since",
        "_state",
        "_transport",
        "_write_paused",
        "_write_paused_at",
    )

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        #: when the current phase began, and how long it may last (see ``expire``)
        self._since = state.now
        self._limit = state.header_timeout
        self._closing = False  # we closed, or are closing, the connection
        self._closed = False  # connection_lost has run
        self._read_paused = False
        self._write_paused = False
        self._write_paused_at = 0.0
        self._drain: asyncio.Future[None] | None = None
        self._lingering = 0  # bytes dropped while lingering, plus one

    def _flow_changed(self) -> None:
        """Hook: reading may need pausing or resuming."""

    def _writable(self) -> None:
        """Hook: the write buffer drained below its low mark."""

    def pause_writing(self) -> None:
        self._write_paused = True
        self._write_paused_at = self._state.now
        self._flow_changed()

    def resume_writing(self) -> None:
        self._write_paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)
        self._flow_changed()
        self._writable()

    def _answered(self, keep_alive: bool) -> None:
        """Hook: one answer is out (or failed); whether the connection may stay open."""

    async def _respond(
        self, engine: Engine, integration: str, request: Request, keep_alive: bool, v10: bool
    ) -> None:
        """Call the engine, send its answer, then hand over to :meth:`_answered`.

        One coroutine per request: the caller's task runs this directly.
        """
        head = request.method == "HEAD"
        try:
            try:
                result = await engine.call(integration, request)
            except SeawallError as exc:
                status, block, body = error_problem(exc)
                keep_alive = self._write(status, block, body, keep_alive, v10, head=head)
            except Exception:
                log.exception("the gateway failed on a call to %s", integration)
                status, block, body = problem(
                    "internal-error",
                    "the gateway failed on this call; its log has the details",
                    integration=integration,
                )
                keep_alive = self._write(status, block, body, False, v10, head=head)
            else:
                if result.stream is not None:
                    keep_alive = await self._relay(result, keep_alive, v10, head=head)
                else:  # the vendor's buffered answer
                    status = result.status
                    keep_alive = self._write(
                        status,
                        vendor_block(result),
                        result.body,
                        keep_alive,
                        v10,
                        head=head,
                        length=(
                            result.header("Content-Length")
                            if head or status < 200 or status in (204, 304)
                            else None
                        ),
                    )
        except Exception:
            # past the engine call: the answer may be half written, so cut the connection
            log.exception("the gateway failed answering a call to %s", integration)
            keep_alive = False
        except BaseException:  # cancelled by stop() after the drain timeout
            keep_alive = False
            raise
        finally:
            self._answered(keep_alive)

    def _write(
        self,
        status: int,
        block: bytes,
        body: bytes,
        keep_alive: bool,
        v10: bool,
        *,
        head: bool,
        length: str | None = None,
    ) -> bool:
        """Send one whole answer in one write; whether the connection stays open after."""
        transport = self._transport
        if self._closing or transport is None:
            return False
        if head or status < 200 or status in (204, 304):
            # No body (RFC 9110 §6.4.1); HEAD and 304 keep the length the vendor gave.
            body = b""
            known = length is not None and length.isdigit() and status != 204
            framing = content_length(int(length)) if known and length else b""
        else:
            framing = b"Content-Length: %d\r\n" % len(body)  # content_length(), inlined
        state = self._state
        transport.write(
            b"".join(
                (
                    STATUS_LINES.get(status) or status_line(status),
                    block,
                    state.date_line,
                    framing,
                    b""
                    if keep_alive and not v10 and not state.draining
                    else self._connection_field(keep_alive, v10),
                    b"\r\n",
                    body,
                )
            )
        )
        return keep_alive and not state.draining

    def _connection_field(self, keep_alive: bool, v10: bool) -> bytes:
        if not keep_alive or self._state.draining:
            return CLOSE
        return KEEP_ALIVE if v10 else b""

    async def _relay(self, result: Response, keep_alive: bool, v10: bool, *, head: bool) -> bool:
        """Stream a large vendor body as it arrives, holding none of it; always close it."""
        stream = result.stream
        assert stream is not None
        length = result.header("Content-Length")
        declared = int(length) if length is not None and length.isdigit() else None
        status = result.status
        chunks: AsyncIterator[bytes] | None = None
        try:
            if head or status < 200 or status in (204, 304):
                return self._write(
                    status, vendor_block(result), b"", keep_alive, v10, head=head, length=length
                )
            if declared is not None:
                framing = content_length(declared)
            elif not v10:
                framing = CHUNKED
            else:
                framing = b""  # HTTP/1.0: the end of the body is the end of the connection
                keep_alive = False
            transport = self._transport
            if self._closing or transport is None:
                return False
            transport.write(
                b"".join(
                    (
                        status_line(status),
                        vendor_block(result),
                        self._state.date_line,
                        framing,
                        self._connection_field(keep_alive, v10),
                        b"\r\n",
                    )
                )
            )
            chunked = framing is CHUNKED
            sent = 0
            chunks = stream.chunks()
            async for chunk in chunks:
                if transport.is_closing():
                    return False  # the caller left: stop reading the vendor
                if not chunk:
                    continue
                sent += len(chunk)
                if declared is not None and sent > declared:
                    return False  # more than the vendor declared: cut, never overrun
                if chunked:
                    transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
                else:
                    transport.write(chunk)
                if self._write_paused:
                    await self._drained()
            if transport.is_closing():
                return False
            if chunked:
                transport.write(LAST_CHUNK)
            complete = declared is None or sent == declared
            return keep_alive and complete and not self._state.draining
        except (ConnectionError, SeawallError):
            # The caller went away or the vendor broke off mid-body: the status is
            # already sent, so the only honest signal left is a cut connection.
            return False
        except Exception:
            log.exception("relaying the body of %s failed", result.provider or "the vendor")
            return False
        finally:
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()
            await stream.aclose()

    async def _drained(self) -> None:
        """Wait until the transport's write buffer drains below its low mark (or it closes)."""
        if not self._write_paused or self._closing:
            return
        drain = self._loop.create_future()
        self._drain = drain
        try:
            await drain
        finally:
            self._drain = None

    def _close(self, *, linger: bool = False) -> None:
        """Close the connection; ``linger`` when the caller may still be sending."""
        transport = self._transport
        if self._closing or transport is None:
            return
        self._closing = True
        if linger and transport.can_write_eof():
            # Closing with the caller's bytes unread makes the kernel send a reset,
            # which can destroy the answer before the caller reads it: half-close,
            # then read and drop what still arrives, for a while (RFC 9112 §9.6).
            self._lingering = 1
            self._since = self._state.now
            self._limit = LINGER_SECONDS
            transport.write_eof()
            if self._read_paused:
                self._read_paused = False
                transport.resume_reading()
            return
        transport.close()
