"""Response heads as bytes: status lines, header blocks and problem details.

Everything a response head is made of that does not change per call is
encoded once here (status lines, ``Server``, framing fields), so answering a
call costs one join of a few byte strings and one write.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Iterable
from email.utils import formatdate

from aiohttp import web

from seawall._errors import SeawallError
from seawall.engine import Response
from seawall.gateway._problems import error_response, problem_response
from seawall.transports import HOP_BY_HOP, octets

__all__ = [
    "CHUNKED",
    "CLOSE",
    "CONTINUE",
    "KEEP_ALIVE",
    "LAST_CHUNK",
    "STATUS_LINES",
    "Problem",
    "as_problem",
    "content_length",
    "date_line",
    "error_problem",
    "header_block",
    "problem",
    "status_line",
    "vendor_block",
]

#: response fields the server sets itself, or that describe the upstream connection
_RESPONSE_DROP = HOP_BY_HOP | {"date", "server"}
_RESPONSE_DROP_RAW = frozenset(name.encode("ascii") for name in _RESPONSE_DROP)

log = logging.getLogger("seawall.gateway")

#: status, header block (each field ending in CRLF), body
Problem = tuple[int, bytes, bytes]

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
CLOSE = b"Connection: close\r\n"
#: an HTTP/1.0 caller keeps its connection only when the answer says so
KEEP_ALIVE = b"Connection: keep-alive\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n"
LAST_CHUNK = b"0\r\n\r\n"

#: always HTTP/1.1, whatever the caller spoke: RFC 9110 §2.5 (a server sends its
#: highest minor version); an HTTP/1.0 caller gets no 1.1-only framing from us
STATUS_LINES: dict[int, bytes] = {
    int(s): f"HTTP/1.1 {int(s)} {s.phrase}\r\n".encode("ascii") for s in http.HTTPStatus
}


def status_line(status: int) -> bytes:
    """``HTTP/1.1 200 OK\\r\\n``; an unregistered code gets an empty reason phrase (RFC 9112 §4)."""
    line = STATUS_LINES.get(status)
    if line is None:
        line = b"HTTP/1.1 %d \r\n" % status
    return line


def content_length(size: int) -> bytes:
    return b"Content-Length: %d\r\n" % size


def date_line(now: float) -> bytes:
    """``Server`` and ``Date`` fields, rebuilt once a second by the server's clock."""
    return f"Server: seawall\r\nDate: {formatdate(now, usegmt=True)}\r\n".encode("ascii")


def header_block(headers: Iterable[tuple[str, str]]) -> bytes:
    """``Name: value\\r\\n`` for each field; a field holding CR or LF is dropped.

    A bare CR or LF in a value would let a vendor (or an adapter) split the
    response and smuggle a second one to the caller (RFC 9110 §5.5).
    """
    pairs = list(headers)
    text = "".join([f"{k}: {v}\r\n" for k, v in pairs])
    if text.count("\n") != len(pairs) or text.count("\r") != len(pairs):
        kept = [(k, v) for k, v in pairs if not _has_line_break(k) and not _has_line_break(v)]
        log.warning("dropped %d response field(s) holding CR or LF", len(pairs) - len(kept))
        text = "".join([f"{k}: {v}\r\n" for k, v in kept])
    return octets(text)


def _has_line_break(text: str) -> bool:
    return "\r" in text or "\n" in text


def vendor_block(result: Response) -> bytes:
    """The vendor's fields minus hop-by-hop, ``Date`` and ``Server``, plus seawall's own."""
    # One pass over bytes (this runs for every answer): the fields as the vendor sent
    # them when nobody decoded them, else their text as bytes. header_block is the
    # careful path, taken only when a line break shows up somewhere.
    raw = result.raw
    fields = raw if raw is not None else [(octets(k), octets(v)) for k, v in result.headers]
    lines = [b"%s: %s\r\n" % (k, v) for k, v in fields if k.lower() not in _RESPONSE_DROP_RAW]
    count = len(lines) + 2
    lines.append(
        b"X-Seawall-Provider: %s\r\nX-Seawall-Attempts: %d\r\n"
        % (octets(result.provider), result.attempts)
    )
    if result.stale is not None:
        lines.append(b"X-Seawall-Stale: %.0f\r\n" % result.stale)
        count += 1
    block = b"".join(lines)
    if block.count(b"\n") == count and block.count(b"\r") == count:
        return block
    kept = [(k, v) for k, v in result.headers if k.lower() not in _RESPONSE_DROP]
    kept.append(("X-Seawall-Provider", result.provider))
    kept.append(("X-Seawall-Attempts", str(result.attempts)))
    if result.stale is not None:
        kept.append(("X-Seawall-Stale", f"{result.stale:.0f}"))
    return header_block(kept)


def as_problem(response: web.Response) -> Problem:
    """The wire form of a problem response built by :mod:`seawall.gateway._problems`."""
    body = response.body
    if not isinstance(body, bytes):  # pragma: no cover - the builders always give bytes
        body = b""
    fields = [(k, v) for k, v in response.headers.items() if k.lower() not in _RESPONSE_DROP]
    return response.status, header_block(fields), body


def problem(reason: str, detail: str, *, integration: str | None = None) -> Problem:
    """A problem (RFC 9457) the gateway itself decides on: bad target, unknown integration."""
    return as_problem(problem_response(reason, detail, integration=integration))


def error_problem(exc: SeawallError) -> Problem:
    """The problem for a call the engine refused or gave up on."""
    return as_problem(error_response(exc))
