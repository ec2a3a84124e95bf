"""The engine's view of a request and a response, and the upstream protocol.

Both are plain slotted objects: the in-process transport and the gateway
translate to and from them at their edges, and an :class:`Upstream` sends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "BodyStream",
    "ProviderTarget",
    "RawHeaders",
    "Request",
    "Response",
    "Upstream",
    "decode_fields",
]

Headers = list[tuple[str, str]]


def find_header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (case-insensitive) in ``headers``."""
    lower = name.lower()
    for key, value in headers:
        if key.lower() == lower:
            return value
    return None


#: header fields as sent or received: name and value bytes, in order
RawHeaders = list[tuple[bytes, bytes]]


def decode_fields(raw: RawHeaders) -> Headers:
    """``raw`` as text, latin-1: every byte one character, and back again unchanged."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


class _Fields:
    """Header fields held as text, or as the bytes they came in until someone reads them.

    A caller's or a vendor's fields may be handed over undecoded (``raw``):
    they become text (latin-1, one character per byte) only when ``headers``
    is first read, and from then on ``headers`` is the one copy. Whoever only
    relays them sends ``raw`` on as it came, never decoding it.
    """

    __slots__ = ("_headers", "raw")

    _headers: Headers | None
    #: the fields as they came, while ``headers`` has not been read (else None);
    #: a plain attribute, not a property: relays read it on every call
    raw: RawHeaders | None

    @property
    def headers(self) -> Headers:
        """The fields as text; decodes ``raw`` on first use."""
        headers = self._headers
        if headers is None:
            headers = self._headers = decode_fields(self.raw or [])
            self.raw = None
        return headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self._headers = value
        self.raw = None

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (case-insensitive), without decoding the rest."""
        raw = self.raw
        if raw is None:
            return find_header(self.headers, name)
        try:
            lower = name.lower().encode("latin-1")
        except UnicodeEncodeError:  # no field read as latin-1 can have this name
            return None
        for key, value in raw:
            if key.lower() == lower:
                return value.decode("latin-1")
        return None

    def _count(self) -> int:
        """How many fields, without decoding them (for ``repr``)."""
        return len(self._headers if self._headers is not None else self.raw or [])


class Request(_Fields):
    """One logical call: method, path with query (``/v1/charges?x=1``), headers, body.

    The body is held in full so every retry and failover can resend it. The
    fields may come as ``raw`` bytes instead of ``headers`` (see ``_Fields``).
    """

    __slots__ = ("body", "method", "native", "target")

    def __init__(  # noqa: PLR0917 - positional: built per call, where keywords cost
        self,
        method: str,
        target: str,
        headers: Headers | None = None,
        body: bytes = b"",
        native: object | None = None,
        raw: RawHeaders | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self._headers = [] if headers is None and raw is None else headers
        self.raw = raw if headers is None else None
        self.body = body
        #: the caller's own request object (an ``httpx.Request`` from seawall.Transport),
        #: which an upstream of the same library may send as is instead of copying
        self.native = native

    def __repr__(self) -> str:  # counts the fields without decoding them
        return (
            f"Request(method={self.method!r}, target={self.target!r}, "
            f"fields={self._count()}, body={len(self.body)} bytes)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (self.method, self.target, self.headers, self.body, self.native) == (
            other.method,
            other.target,
            other.headers,
            other.body,
            other.native,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces


class BodyStream(Protocol):
    """A response body still arriving from the vendor; iterate it once, then close."""

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Response(_Fields):
    """A vendor's answer, as the engine returns it.

    ``provider`` and ``attempts`` say who answered and after how many tries;
    ``stale`` is the age in seconds of a cached fallback, None for a live answer.

    An upstream may hand over the vendor's fields undecoded (``raw``, see
    ``_Fields``): a gateway that only relays the answer sends them on as they came.
    """

    __slots__ = (
        "attempts",
        "body",
        "native",
        "provider",
        "stale",
        "status",
        "stream",
    )

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces took them
        self,
        status: int,
        headers: Headers | None = None,
        body: bytes = b"",
        provider: str = "",
        attempts: int = 0,
        stale: float | None = None,
        native: object | None = None,
        stream: BodyStream | None = None,
        raw: RawHeaders | None = None,
    ) -> None:
        self.status = status
        self._headers = [] if headers is None and raw is None else headers
        self.raw = raw if headers is None else None
        self.body = body
        self.provider = provider
        self.attempts = attempts
        self.stale = stale
        #: the upstream library's own response object, handed back to a caller of the same library
        self.native = native
        #: a large or open-ended body, streamed to the caller instead of held in memory
        self.stream = stream

    def __repr__(self) -> str:  # counts the fields without decoding them
        return (
            f"Response(status={self.status!r}, provider={self.provider!r}, "
            f"attempts={self.attempts!r}, stale={self.stale!r}, "
            f"fields={self._count()})"
        )

    async def read_all(self, limit: int = 64 * 1024 * 1024) -> bytes:
        """Buffer a streamed body (for adapters and caches); a no-op when buffered."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            parts: list[bytes] = []
            size = 0
            try:
                async for chunk in stream.chunks():
                    size += len(chunk)
                    if size > limit:
                        msg = f"response body larger than {limit} bytes"
                        raise ValueError(msg)
                    parts.append(chunk)
            finally:
                await stream.aclose()
            self.body = b"".join(parts)
        return self.body

    async def discard(self) -> None:
        """Drop a streamed body that will not be used, freeing its connection."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            await stream.aclose()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderTarget:
    """Where and how to send to one provider: its base URL and injected auth."""

    integration: str
    name: str
    base_url: str
    #: headers added to every request (auth, provider defaults); the caller never holds them
    headers: tuple[tuple[str, str], ...] = ()
    #: query parameters added to every request (``auth: {type: query}``)
    query: tuple[tuple[str, str], ...] = ()
    #: the lowercased names of ``headers``: a caller's field of the same name is dropped
    injected: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "injected", frozenset(k.lower() for k, _ in self.headers))


class Upstream(Protocol):
    """Sends one attempt to one provider.

    It raises only :class:`~seawall.UpstreamTimeout` and
    :class:`~seawall.UpstreamConnectError` (with ``sent`` telling whether the
    request may have reached the vendor); any status is a :class:`Response`.

    An upstream whose ``send`` always ends within ``timeout`` by itself may say
    so with a class attribute ``bounds_attempts = True``; the engine then arms
    no timer of its own around it. Without it, the engine bounds every attempt.
    """

    async def send(
        self, target: ProviderTarget, request: Request, *, timeout: float
    ) -> Response: ...

    async def aclose(self) -> None: ...
