"""The gateway's response heads as bytes: status lines, field hygiene, problems."""

from __future__ import annotations

import json

from seawall._errors import BulkheadFull, CircuitOpen
from seawall.engine import Response
from seawall.gateway._responses import (
    error_problem,
    header_block,
    problem,
    status_line,
    vendor_block,
)


def test_status_lines_are_http11_with_the_registered_phrase() -> None:
    """Known codes carry their reason phrase; an unregistered one an empty phrase."""
    assert status_line(200) == b"HTTP/1.1 200 OK\r\n"
    assert status_line(503) == b"HTTP/1.1 503 Service Unavailable\r\n"
    assert status_line(599) == b"HTTP/1.1 599 \r\n"


def test_vendor_fields_lose_hop_by_hop_date_and_server_and_gain_seawalls() -> None:
    """Connection-scoped fields, Date and Server are dropped; provider, attempts and staleness added."""
    result = Response(
        status=200,
        headers=[
            ("Content-Type", "application/json"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "12"),
            ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("Server", "vendor/1.0"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
        provider="primary",
        attempts=2,
        stale=41.6,
    )
    assert vendor_block(result) == (
        b"Content-Type: application/json\r\n"
        b"Set-Cookie: a=1\r\n"
        b"Set-Cookie: b=2\r\n"
        b"X-Seawall-Provider: primary\r\n"
        b"X-Seawall-Attempts: 2\r\n"
        b"X-Seawall-Stale: 42\r\n"
    )


RAW_FIELDS = [
    (b"Content-Type", b"application/json"),
    (b"CONNECTION", b"keep-alive"),
    (b"content-length", b"12"),
    (b"Date", b"Mon, 01 Jan 2024 00:00:00 GMT"),
    (b"Server", b"vendor/1.0"),
    (b"Set-Cookie", b"a=1"),
    (b"X-Note", "café".encode("latin-1")),
    (b"Set-Cookie", b"b=2"),
]


def test_raw_vendor_fields_are_relayed_byte_for_byte_without_decoding() -> None:
    """An answer whose fields nobody read as text is filtered as bytes, in order, as sent."""
    result = Response(status=200, raw=list(RAW_FIELDS), provider="primary", attempts=1)
    assert vendor_block(result) == (
        b"Content-Type: application/json\r\n"
        b"Set-Cookie: a=1\r\n"
        b"X-Note: caf\xe9\r\n"
        b"Set-Cookie: b=2\r\n"
        b"X-Seawall-Provider: primary\r\n"
        b"X-Seawall-Attempts: 1\r\n"
    )
    assert result.raw is not None, "relaying does not decode the fields"


def test_raw_and_decoded_fields_give_the_same_block() -> None:
    raw = Response(status=200, raw=list(RAW_FIELDS), provider="p", attempts=3)
    text = Response(status=200, raw=list(RAW_FIELDS), provider="p", attempts=3)
    assert text.headers  # decoded: the text path from now on
    assert text.raw is None
    assert vendor_block(raw) == vendor_block(text)


def test_a_raw_field_holding_a_line_break_is_dropped_not_sent() -> None:
    """A folded or forged raw value would split the response: the careful path drops it."""
    result = Response(
        status=200,
        raw=[(b"X-Ok", b"1"), (b"X-Evil", b"a\r\nSet-Cookie: stolen=1"), (b"X-Lf", b"b\nc")],
        provider="p",
        attempts=1,
    )
    assert vendor_block(result) == (
        b"X-Ok: 1\r\nX-Seawall-Provider: p\r\nX-Seawall-Attempts: 1\r\n"
    )


def test_a_field_with_a_line_break_is_dropped_not_sent() -> None:
    """CR or LF inside a field would split the response: such a field never reaches the caller."""
    block = header_block([("X-Ok", "1"), ("X-Evil", "a\r\nSet-Cookie: stolen=1"), ("X-Lf", "b\nc")])
    assert block == b"X-Ok: 1\r\n"


def test_text_outside_latin1_is_sent_as_utf8() -> None:
    """A field an adapter built from arbitrary text is sent as UTF-8 instead of failing the call."""
    assert header_block([("X-Name", "Zoë ☂")]) == "X-Name: Zoë ☂\r\n".encode()


def test_problems_carry_status_type_and_retry_after() -> None:
    """Engine errors map to their status, problem+json body and Retry-After."""
    status, block, body = error_problem(
        CircuitOpen("open", integration="pay", provider="p1", retry_after=2.2)
    )
    assert status == 503
    assert b"Content-Type: application/problem+json\r\n" in block
    assert b"Retry-After: 3\r\n" in block
    assert b"Content-Length" not in block
    assert json.loads(body)["reason"] == "circuit-open"

    status, block, _ = error_problem(BulkheadFull("full", integration="pay"))
    assert status == 503
    assert b"Retry-After: 1\r\n" in block

    status, _, body = problem("unknown-integration", "no such", integration="x")
    assert status == 404
    assert json.loads(body)["integration"] == "x"
