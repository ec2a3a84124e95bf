"""engine.Response: a vendor's fields stay bytes until someone reads them as text."""

from __future__ import annotations

from seawall.engine import Response

RAW = [(b"Content-Type", b"text/plain"), (b"X-Note", "café".encode("latin-1"))]


def test_raw_fields_decode_once_as_latin1_on_first_read() -> None:
    response = Response(200, raw=list(RAW))
    assert response.raw == RAW
    assert response.headers == [("Content-Type", "text/plain"), ("X-Note", "café")]
    assert response.raw is None  # the text is the one copy from now on
    assert response.headers is response.headers


def test_changes_to_the_decoded_fields_are_what_is_sent() -> None:
    response = Response(200, raw=list(RAW))
    response.headers.append(("X-Added", "1"))
    assert response.raw is None
    assert response.header("x-added") == "1"
    assert response.header("X-NOTE") == "café"


def test_setting_the_fields_drops_the_raw_ones() -> None:
    response = Response(200, raw=list(RAW))
    response.headers = [("X-Only", "this")]
    assert response.raw is None
    assert response.headers == [("X-Only", "this")]


def test_text_fields_win_over_raw_and_none_means_empty() -> None:
    assert Response(200, [("A", "1")], raw=list(RAW)).raw is None
    assert Response(200, [("A", "1")], raw=list(RAW)).headers == [("A", "1")]
    empty = Response(204)
    assert empty.headers == []
    assert empty.raw is None
    assert "status=204" in repr(empty)
