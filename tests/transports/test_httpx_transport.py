"""seawall.Transport over httpx.MockTransport: how a caller's request is re-aimed
at the provider, and how the provider's answer comes back.

The handler sees what the provider would receive; the caller sees the answer
as httpx hands it over, with seawall's :class:`~seawall.CallInfo` in its
extensions (and seawall's headers too, when asked for).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from aiohttp import web

import seawall
from seawall.engine import Request
from seawall.transports import HttpxUpstream, outbound_headers
from seawall.transports._httpx import Memo
from tests.engine.conftest import loopback_config, make_config
from tests.transports._wire_support import (
    RawServer,
    app_server,
    ok,
    raw_server,
    serve_forever,
    target,
)

Handler = Callable[[httpx.Request], httpx.Response]

CONFIG = """
version: 1
defaults:
  policy:
    timeout: 1s
    deadline: 2s
    retry: {{attempts: 3, backoff: {{initial: 1ms, max: 2ms}}, budget: {{ratio: 100%}}}}
integrations:
  payments:
    providers:
{providers}
"""

VENDOR = (
    '      - {name: vendor, base_url: "http://vendor.test:8443/api",'
    " auth: {type: bearer, token: sk_vendor}}"
)


def config(providers: str = VENDOR) -> seawall.Config:
    return make_config(CONFIG.format(providers=providers))


def transport(
    handler: Handler, providers: str = VENDOR, *, headers: bool = False
) -> seawall.Transport:
    return seawall.Transport(
        "payments",
        config=config(providers),
        transport=httpx.MockTransport(handler),
        headers=headers,
    )


class Recorder:
    """A MockTransport handler that keeps every request it gets and answers ``answer``."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.raw: list[list[tuple[bytes, bytes]]] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        # The caller's request object is re-aimed per attempt: keep a copy of what was sent.
        self.raw.append(list(request.headers.raw))
        if self._answer is not None:
            return self._answer(request)
        return httpx.Response(200, json={"ok": True})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


async def send(
    handler: Handler,
    method: str = "GET",
    path: str = "/v1/charges",
    *,
    providers: str = VENDOR,
    seawall_headers: bool = False,
    **kwargs: object,
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=transport(handler, providers, headers=seawall_headers),
        base_url="http://payments",
    ) as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


def names(raw: list[tuple[bytes, bytes]]) -> list[bytes]:
    return [key.lower() for key, _ in raw]


# -- the request ------------------------------------------------------------------


async def test_url_is_the_providers_with_the_callers_path_and_query() -> None:
    recorder = Recorder()
    await send(recorder, path="/v1/charges?limit=3&starting_after=ch_1")
    assert str(recorder.last.url) == (
        "http://vendor.test:8443/api/v1/charges?limit=3&starting_after=ch_1"
    )
    assert recorder.last.headers["Host"] == "vendor.test:8443"
    assert names(recorder.raw[-1]).count(b"host") == 1


async def test_hop_by_hop_fields_and_the_ones_connection_names_are_dropped() -> None:
    recorder = Recorder()
    await send(
        recorder,
        "POST",
        content=b"amount=5",
        headers=[
            ("X-Before", "kept"),
            ("X-Private", "named below, so dropped"),
            ("Connection", "keep-alive, X-Private"),
            ("connection", "x-LATER"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Transfer-Encoding", "chunked"),
            ("Trailer", "X-Checksum"),
            ("Upgrade", "websocket"),
            ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
            ("Proxy-Connection", "keep-alive"),
            ("Proxy-Authenticate", "Basic"),
            ("X-Later", "also named"),
            ("X-After", "kept too"),
        ],
    )
    sent = names(recorder.raw[-1])
    for field in (
        b"connection",
        b"keep-alive",
        b"te",
        b"transfer-encoding",
        b"trailer",
        b"upgrade",
        b"proxy-authorization",
        b"proxy-connection",
        b"proxy-authenticate",
        b"x-private",
        b"x-later",
    ):
        assert field not in sent, field
    assert recorder.last.headers["X-Before"] == "kept"
    assert recorder.last.headers["X-After"] == "kept too"
    assert recorder.last.headers["Content-Length"] == "8"
    assert recorder.last.content == b"amount=5"


async def test_provider_auth_replaces_the_callers() -> None:
    recorder = Recorder()
    await send(
        recorder,
        headers=[("Authorization", "Bearer sk_caller"), ("authorization", "Basic eDp5")],
    )
    assert recorder.last.headers.get_list("Authorization") == ["Bearer sk_vendor"]


async def test_header_auth_and_provider_headers_replace_the_callers_in_any_case() -> None:
    providers = (
        '      - {name: vendor, base_url: "http://vendor.test",'
        " headers: {Stripe-Version: '2024-06-20'},"
        " auth: {type: header, name: X-API-Key, value: vendor_key}}"
    )
    recorder = Recorder()
    await send(
        recorder,
        providers=providers,
        headers=[("x-api-key", "caller_key"), ("STRIPE-VERSION", "2020-01-01")],
    )
    assert recorder.last.headers.get_list("X-API-Key") == ["vendor_key"]
    assert recorder.last.headers.get_list("Stripe-Version") == ["2024-06-20"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/forecast", "/v1/forecast?appid=k%26ey"),
        ("/v1/forecast?q=oslo&units=metric", "/v1/forecast?q=oslo&units=metric&appid=k%26ey"),
    ],
)
async def test_query_auth_is_appended(path: str, expected: str) -> None:
    providers = (
        '      - {name: vendor, base_url: "http://vendor.test",'
        " auth: {type: query, name: appid, value: 'k&ey'}}"
    )
    recorder = Recorder()
    await send(recorder, path=path, providers=providers)
    assert recorder.last.url.raw_path.decode() == expected


async def test_duplicate_caller_headers_are_kept_in_order() -> None:
    recorder = Recorder()
    await send(
        recorder,
        headers=[("X-Dup", "1"), ("X-Other", "a"), ("x-dup", "2"), ("X-Dup", "3")],
    )
    sent = [(k, v) for k, v in recorder.raw[-1] if k.lower() in (b"x-dup", b"x-other")]
    assert sent == [(b"X-Dup", b"1"), (b"X-Other", b"a"), (b"x-dup", b"2"), (b"X-Dup", b"3")]


@pytest.mark.parametrize(
    "value",
    ["café".encode("latin-1"), "café".encode(), b"plain ascii"],
    ids=["latin-1", "utf-8", "ascii"],
)
async def test_header_bytes_reach_the_provider_unchanged(value: bytes) -> None:
    """Non-ASCII values arrive byte for byte, and read as bare httpx would read them."""
    recorder = Recorder()
    await send(recorder, headers=[("X-Name", value)])
    assert (b"X-Name", value) in recorder.raw[-1]

    bare = Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(bare), base_url="http://payments"
    ) as client:
        await client.get("/v1/charges", headers=[("X-Name", value)])
    assert recorder.last.headers["X-Name"] == bare.last.headers["X-Name"]


async def test_what_is_sent_is_what_outbound_headers_picks() -> None:
    """The re-aiming keeps :func:`outbound_headers`' semantics, field for field."""
    recorder = Recorder()
    caller = [
        ("Connection", " Keep-Alive , X-Hop"),
        ("X-Hop", "dropped"),
        ("Authorization", "Bearer caller"),
        ("X-Keep", "1"),
        ("Connection", "host"),
        ("x-keep", "2"),
    ]
    async with httpx.AsyncClient(
        transport=transport(recorder), base_url="http://payments"
    ) as client:
        request = client.build_request("PUT", "/v1/x", headers=caller, content=b"{}")
        expected_from = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        await client.send(request)
    vendor = target("http://vendor.test:8443/api", headers=(("Authorization", "Bearer sk_vendor"),))
    expected = [(k.encode(), v.encode()) for k, v in outbound_headers(expected_from, vendor)]
    sent = [(k, v) for k, v in recorder.raw[-1] if k.lower() not in (b"host", b"content-length")]
    assert sent == expected
    assert recorder.last.headers["Host"] == "vendor.test:8443"
    assert recorder.last.headers["Content-Length"] == "2"


async def test_a_generated_idempotency_key_is_sent() -> None:
    providers = VENDOR + "\n    idempotency: {generate: true}"
    recorder = Recorder()
    await send(recorder, "POST", providers=providers, content=b"x")
    assert len(recorder.last.headers["Idempotency-Key"]) == 32


async def test_repeated_calls_each_get_their_own_fields() -> None:
    """Fields are remembered per caller's list: a later call sees none of an earlier one's."""
    providers = VENDOR + "\n    idempotency: {generate: true}"

    def answer(request: httpx.Request) -> httpx.Response:
        request.headers["X-Handler-Was-Here"] = "1"  # a transport may change what it got
        return httpx.Response(200)

    recorder = Recorder(answer)
    async with httpx.AsyncClient(
        transport=transport(recorder, providers), base_url="http://payments"
    ) as client:
        for body in (b"a", b"a", b"abc", b"", b"a"):
            await client.post("/v1/charges", content=body)
        for i in [0, 0, *range(300), 0, 0]:  # more distinct lists than are remembered
            await client.get("/v1/charges", headers={"X-Request-Id": str(i)})
    posts = recorder.raw[:5]
    assert [dict(raw)[b"Content-Length"] for raw in posts] == [b"1", b"1", b"3", b"0", b"1"]
    keys = [[v for k, v in raw if k == b"Idempotency-Key"] for raw in posts]
    assert all(len(key) == 1 for key in keys)
    assert len({key[0] for key in keys}) == 5
    assert all(b"X-Handler-Was-Here" not in dict(raw) for raw in recorder.raw)
    gets = recorder.raw[5:]
    assert [dict(raw)[b"X-Request-Id"] for raw in gets] == [
        str(i).encode() for i in [0, 0, *range(300), 0, 0]
    ]
    assert all(b"idempotency-key" not in names(raw) for raw in gets)


@pytest.mark.parametrize(
    ("method", "kwargs", "body"),
    [
        ("POST", {"content": b"amount=5"}, b"amount=5"),
        ("POST", {"json": {"amount": 5}}, b'{"amount":5}'),
        ("POST", {"data": {"amount": "5"}}, b"amount=5"),
        ("POST", {}, b""),
        ("PATCH", {}, b""),
        ("GET", {}, b""),
        ("DELETE", {"content": b"why"}, b"why"),
    ],
)
async def test_body_and_its_length_are_sent_as_bare_httpx_sends_them(
    method: str, kwargs: dict[str, object], body: bytes
) -> None:
    recorder = Recorder()
    await send(recorder, method, **kwargs)
    bare = Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(bare), base_url="http://payments"
    ) as client:
        await client.request(method, "/v1/charges", **kwargs)  # type: ignore[arg-type]
    assert recorder.last.method == method
    assert recorder.last.content == bare.last.content == body
    for field in ("Content-Length", "Content-Type", "Transfer-Encoding"):
        assert recorder.last.headers.get(field) == bare.last.headers.get(field), field


async def test_a_streamed_body_is_sent_whole_with_its_length() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"amount="
        yield b"5"

    recorder = Recorder()
    await send(recorder, "POST", content=chunks())
    assert recorder.last.content == b"amount=5"
    assert recorder.last.headers["Content-Length"] == "8"
    assert "Transfer-Encoding" not in recorder.last.headers


async def test_every_attempt_is_aimed_at_its_own_provider() -> None:
    """Failover re-aims the same caller request: host, auth and query per provider."""
    providers = (
        '      - {name: first, base_url: "http://first.test",'
        " auth: {type: bearer, token: sk_first}}\n"
        '      - {name: second, role: backup, base_url: "https://second.test:9443/v2",'
        " auth: {type: query, name: key, value: sk_second}}\n"
        "    idempotency: {generate: true}"
    )

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.host == "first.test" else 201)

    recorder = Recorder(answer)
    response = await send(recorder, "POST", "/charges?x=1", providers=providers, content=b"a")
    assert response.status_code == 201
    assert response.extensions["seawall"] == seawall.CallInfo("payments", "second", 2, None)
    first, second = recorder.raw
    assert (b"Host", b"first.test") in first
    assert (b"Authorization", b"Bearer sk_first") in first
    assert (b"Host", b"second.test:9443") in second
    assert b"authorization" not in names(second)
    assert str(recorder.last.url) == "https://second.test:9443/v2/charges?x=1&key=sk_second"
    keys = [dict((k.lower(), v) for k, v in raw)[b"idempotency-key"] for raw in recorder.raw]
    assert keys[0] == keys[1]


async def test_the_callers_timeout_becomes_the_attempts() -> None:
    recorder = Recorder()
    await send(recorder, timeout=httpx.Timeout(30.0))
    assert recorder.last.extensions["timeout"] == {
        "connect": 1.0,
        "read": 1.0,
        "write": 1.0,
        "pool": 1.0,
    }


async def test_the_callers_other_extensions_are_kept() -> None:
    recorder = Recorder()
    await send(recorder, extensions={"trace": None, "sni_hostname": "vendor.test"})
    assert recorder.last.extensions["sni_hostname"] == "vendor.test"
    assert "trace" in recorder.last.extensions


# -- the answer -------------------------------------------------------------------


VENDOR_FIELDS = [
    (b"Set-Cookie", b"a=1; Path=/"),
    (b"X-Vendor", b"v"),
    (b"Set-Cookie", b"b=2; Path=/"),
]


def vendor_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=VENDOR_FIELDS, content=b"{}")


async def test_the_answer_is_the_vendors_own_with_call_info_beside_it() -> None:
    async with httpx.AsyncClient(
        transport=transport(Recorder(vendor_answer)), base_url="http://payments"
    ) as client:
        response = await client.get("/v1/charges")
        assert dict(client.cookies) == {"a": "1", "b": "2"}
    # every field as the vendor sent it, in order, and nothing added
    assert response.headers.raw == [*VENDOR_FIELDS, (b"Content-Length", b"2")]
    assert response.extensions["seawall"] == seawall.CallInfo("payments", "vendor", 1, None)
    assert response.content == b"{}"
    assert response.request.url.host == "vendor.test"


async def test_asked_for_seawalls_headers_are_added_after_the_vendors() -> None:
    async with httpx.AsyncClient(
        transport=transport(Recorder(vendor_answer), headers=True), base_url="http://payments"
    ) as client:
        response = await client.get("/v1/charges")
        assert dict(client.cookies) == {"a": "1", "b": "2"}
    assert response.headers.raw[:3] == VENDOR_FIELDS
    assert response.headers["X-Seawall-Provider"] == "vendor"
    assert response.headers["X-Seawall-Attempts"] == "1"
    assert response.extensions["seawall"].provider == "vendor"


async def test_seawalls_headers_replace_a_vendors_own() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers=[("X-Seawall-Provider", "spoofed"), ("X-Seawall-Attempts", "9")]
        )

    response = await send(Recorder(answer), seawall_headers=True)
    assert response.headers.get_list("X-Seawall-Provider") == ["vendor"]
    assert response.headers.get_list("X-Seawall-Attempts") == ["1"]


async def test_a_non_ascii_answer_header_survives() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=[("X-Note", "café".encode("latin-1"))])

    response = await send(Recorder(answer), seawall_headers=True)
    assert (b"X-Note", "café".encode("latin-1")) in response.headers.raw
    assert response.headers["X-Note"] == "café"
    assert response.headers["X-Seawall-Provider"] == "vendor"


async def test_a_retried_answer_carries_the_attempt_count_and_the_last_body() -> None:
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200, content=b"ok")]
    )
    response = await send(Recorder(lambda request: next(answers)))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response.extensions["seawall"].attempts == 2


async def test_a_streamed_answer_is_read_whole() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b"streamed"))

    response = await send(Recorder(answer))
    assert response.content == b"streamed"
    assert response.extensions["seawall"].provider == "vendor"


def test_sync_transport_re_aims_and_answers_the_same_way() -> None:
    recorder = Recorder()
    with httpx.Client(
        transport=seawall.SyncTransport(
            "payments", config=config(), transport=httpx.MockTransport(recorder)
        ),
        base_url="http://payments",
    ) as client:
        response = client.post("/v1/charges", content=b"a=1", headers={"Connection": "close"})
    assert response.extensions["seawall"] == seawall.CallInfo("payments", "vendor", 1, None)
    assert recorder.last.headers["Host"] == "vendor.test:8443"
    assert recorder.last.headers["Content-Length"] == "3"
    assert "Connection" not in recorder.last.headers


# -- HttpxUpstream on its own -------------------------------------------------------


async def test_an_engine_request_without_a_native_one_is_built_afresh() -> None:
    recorder = Recorder()
    upstream = HttpxUpstream(httpx.MockTransport(recorder))
    vendor = target("http://vendor.test", headers=(("Authorization", "Bearer v"),))
    request = Request(
        "POST", "/x?y=1", headers=[("Connection", "close"), ("X-A", "1")], body=b"abc"
    )
    response = await upstream.send(vendor, request, timeout=2.0)
    assert response.status == 200
    assert str(recorder.last.url) == "http://vendor.test/x?y=1"
    assert recorder.last.content == b"abc"
    assert recorder.raw[-1] == [
        (b"Host", b"vendor.test"),
        (b"Content-Length", b"3"),
        (b"X-A", b"1"),
        (b"Authorization", b"Bearer v"),
    ]


@pytest.mark.parametrize(
    ("method", "body"), [("PUT", b"rewritten"), ("POST", b"rewritten"), ("PUT", b"original")]
)
async def test_a_request_an_adapter_rewrote_is_not_sent_as_the_callers(
    method: str, body: bytes
) -> None:
    """A rewritten method or body (``native`` still set) goes out as rewritten."""
    recorder = Recorder()
    upstream = HttpxUpstream(httpx.MockTransport(recorder))
    native = httpx.Request("POST", "http://payments/x", content=b"original")
    request = Request(method, "/y", body=body, native=native)
    await upstream.send(target("http://vendor.test"), request, timeout=2.0)
    assert recorder.last.method == method
    assert recorder.last.content == body
    assert recorder.last.headers["Content-Length"] == str(len(body))
    assert recorder.last.url.path == "/y"


def test_memo_rests_when_its_keys_do_not_repeat() -> None:
    memo: Memo[int, str] = Memo(size=4)
    for key in range(4):
        assert memo.get(key) is None
        memo.put(key, str(key))
    assert memo.get(3) == "3"
    memo.put(4, "4")  # full, 1 hit for 4 misses: start over, then rest
    for _ in range(16):  # resting for 16 lookups: nothing kept, nothing found
        assert memo.put(5, "5") == "5"
        assert memo.get(5) is None
    memo.put(6, "6")  # awake again: kept
    assert memo.get(6) == "6"
    assert memo.get(5) is None
    assert memo.get(4) is None


def test_memo_keeps_working_while_its_keys_repeat() -> None:
    memo: Memo[int, str] = Memo(size=4)
    for key in range(4):
        memo.put(key, str(key))
    for _ in range(4):
        assert memo.get(0) == "0"
    memo.put(4, "4")  # full, but as many hits as misses: start over, no rest
    assert memo.get(4) == "4"
    assert memo.get(0) is None


# -- over a real httpx wire ---------------------------------------------------------


@pytest.mark.realserver
async def test_a_body_goes_over_httpcore_with_its_length() -> None:
    """httpcore refuses to send a body its headers do not frame: the length must be set."""
    seen: list[tuple[bytes, str | None, str | None]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(
            (
                await request.read(),
                request.headers.get("Content-Length"),
                request.headers.get("Host"),
            )
        )
        return web.Response(text="ok")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"streamed "
        yield b"body"

    async with app_server(handle) as server:
        providers = f'      - {{name: vendor, base_url: "{server.url}"}}'
        async with httpx.AsyncClient(
            transport=seawall.Transport(
                "payments", config=config(providers), transport=httpx.AsyncHTTPTransport()
            ),
            base_url="http://payments",
        ) as client:
            for content in (b"amount=5", chunks(), None):
                response = await client.post("/v1/charges", content=content)
                assert response.status_code == 200
                assert response.text == "ok"
    host = server.url.removeprefix("http://")
    assert seen == [
        (b"amount=5", "8", host),
        (b"streamed body", "13", host),
        (b"", "0", host),
    ]


# -- over seawall's own wire (the default) ------------------------------------------------

ODD_FIELDS = ("X-Latin: caf\xe9", "X-Utf: caf\xc3\xa9")


@pytest.mark.parametrize("seawall_headers", [False, True])
async def test_a_vendors_non_ascii_fields_reach_the_caller_byte_for_byte(
    seawall_headers: bool,
) -> None:
    """httpx refuses non-ASCII text in a field: the answer is built from the vendor's bytes."""

    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: RawServer
    ) -> None:
        await serve_forever(reader, writer, state, ok(b"{}", *ODD_FIELDS))

    async with raw_server(script) as server:
        config = loopback_config(
            f"""
            integrations:
              payments:
                providers: [{{name: vendor, base_url: "{server.url}"}}]
            """
        )
        transport = seawall.Transport("payments", config=config, headers=seawall_headers)
        async with httpx.AsyncClient(transport=transport, base_url="http://payments") as client:
            response = await client.get("/v1/charges")
    assert response.status_code == 200
    assert (b"X-Latin", b"caf\xe9") in response.headers.raw
    assert (b"X-Utf", b"caf\xc3\xa9") in response.headers.raw
    assert response.extensions["seawall"] == seawall.CallInfo("payments", "vendor", 1, None)
    assert ("X-Seawall-Provider" in response.headers) is seawall_headers
