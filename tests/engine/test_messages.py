"""engine.Request and engine.Response: fields stay bytes until someone reads them as text."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from seawall.engine import Request, Response
from seawall.engine._messages import Headers, RawHeaders

RAW = [(b"Content-Type", b"text/plain"), (b"X-Note", "café".encode("latin-1"))]

Message = Request | Response
Make = Callable[..., Message]


def _request(headers: Headers | None = None, *, raw: RawHeaders | None = None) -> Request:
    return Request("POST", "/v1/charges", headers, b"{}", raw=raw)


def _response(headers: Headers | None = None, *, raw: RawHeaders | None = None) -> Response:
    return Response(200, headers, raw=raw)


both = pytest.mark.parametrize("make", [_request, _response], ids=["request", "response"])


@both
def test_raw_fields_decode_once_as_latin1_on_first_read(make: Make) -> None:
    message = make(raw=list(RAW))
    before = message.raw
    assert before == RAW
    assert message.headers == [("Content-Type", "text/plain"), ("X-Note", "café")]
    assert message.raw is None  # the text is the one copy from now on
    assert message.headers is message.headers


@both
def test_looking_up_one_field_leaves_the_rest_undecoded(make: Make) -> None:
    message = make(raw=list(RAW))
    assert message.header("x-note") == "café"
    assert message.header("CONTENT-TYPE") == "text/plain"
    assert message.header("Idempotency-Key") is None
    assert message.header("X-\u65e5\u672c") is None  # a name beyond latin-1 matches nothing
    assert message.raw == RAW


@both
def test_changes_to_the_decoded_fields_are_what_is_sent(make: Make) -> None:
    message = make(raw=list(RAW))
    message.headers.append(("X-Added", "1"))
    assert message.raw is None
    assert message.header("x-added") == "1"
    assert message.header("X-NOTE") == "café"


@both
def test_setting_the_fields_drops_the_raw_ones(make: Make) -> None:
    message = make(raw=list(RAW))
    message.headers = [("X-Only", "this")]
    assert message.raw is None
    assert message.headers == [("X-Only", "this")]


@both
def test_text_fields_win_over_raw_and_none_means_empty(make: Make) -> None:
    assert make([("A", "1")], raw=list(RAW)).raw is None
    assert make([("A", "1")], raw=list(RAW)).headers == [("A", "1")]
    empty = make()
    assert empty.headers == []
    assert empty.raw is None


def test_reprs_count_the_fields_without_decoding_them() -> None:
    response = Response(204, raw=list(RAW))
    assert repr(response) == ("Response(status=204, provider='', attempts=0, stale=None, fields=2)")
    request = _request(raw=list(RAW))
    assert repr(request) == "Request(method='POST', target='/v1/charges', fields=2, body=2 bytes)"
    assert request.raw == RAW
    assert response.raw == RAW


def test_requests_are_equal_by_what_they_say_raw_or_decoded() -> None:
    assert _request(raw=list(RAW)) == _request([("Content-Type", "text/plain"), ("X-Note", "café")])
    assert _request(raw=list(RAW)) != _request([("Content-Type", "text/plain")])
    assert Request("GET", "/a") != Request("GET", "/b")
    assert Request("GET", "/a") != "GET /a"
