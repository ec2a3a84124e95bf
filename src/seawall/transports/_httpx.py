"""An upstream over any httpx transport: ``httpx.MockTransport`` in tests, or
``httpx.AsyncHTTPTransport`` when an application wants httpcore underneath."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

import httpx

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import ProviderTarget, Request, Response, decode_fields
from seawall.transports._headers import outbound_headers, outbound_url

__all__ = ["HttpxUpstream"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

#: methods httpx sends ``Content-Length: 0`` for when they carry no body
_EMPTY_BODY_LENGTH = frozenset({"POST", "PUT", "PATCH"})


class Memo(Generic[_K, _V]):
    """Values kept per key for inputs that repeat call after call, such as the
    header fields an application's client sends every time.

    When full it starts over; if fewer lookups hit than missed since the last
    start, it rests for the next ``4 * size`` lookups: :meth:`get` finds
    nothing and :meth:`put` keeps nothing. Keys that never repeat (a fresh
    request id per call) would otherwise only add the cost of entries that are
    never used. One call per lookup: every call of the transport makes one.
    """

    __slots__ = ("_hits", "_resting", "_size", "_values")

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._values: dict[_K, _V] = {}
        self._hits = 0
        self._resting = 0

    def get(self, key: _K) -> _V | None:
        """The value kept for ``key``; None if there is none, or while resting."""
        if self._resting:
            self._resting -= 1
            return None
        value = self._values.get(key)
        if value is not None:
            self._hits += 1
        return value

    def put(self, key: _K, value: _V) -> _V:
        """Keep ``value`` for ``key`` (unless resting); returns ``value``."""
        if self._resting:
            return value
        values = self._values
        if len(values) >= self._size:
            if self._hits < len(values):  # each entry is one lookup that missed
                self._resting = 4 * self._size
                values.clear()
                self._hits = 0
                return value
            values.clear()
            self._hits = 0
        values[key] = value
        return value


class _Aim:
    """What re-aiming a call at one provider needs that never changes per call.

    Built once per :class:`ProviderTarget`: the Host field, the provider's URL
    for each path and query seen, and the header sets already built for the
    fields a client sends call after call.
    """

    __slots__ = ("built", "host", "target", "url_cache", "urls")

    def __init__(self, target: ProviderTarget, url_cache: int) -> None:
        #: held so that the ``id(target)`` this aim is filed under stays this target's
        self.target = target
        self.host = ("Host", httpx.URL(outbound_url(target, "/")).netloc.decode("ascii"))
        #: the fields sent, per body length and caller's fields (see :meth:`headers`)
        self.built: Memo[tuple[int, tuple[tuple[object, object], ...]], httpx.Headers] = Memo()
        #: the provider's URL per path and query: parsing one takes microseconds
        self.urls: dict[str, httpx.URL] = {}
        self.url_cache = url_cache

    def url(self, request_target: str) -> httpx.URL:
        """The provider's URL for a path and query, parsed once."""
        url = self.urls.get(request_target)
        if url is None:
            if len(self.urls) >= self.url_cache:
                self.urls.clear()
            url = self.urls[request_target] = httpx.URL(outbound_url(self.target, request_target))
        return url

    def headers(self, request: Request) -> httpx.Headers:
        """The fields to send for ``request``, copied from the last call that had its fields.

        An application's client sends the same fields call after call (its
        defaults), and copying a built ``httpx.Headers`` costs a fraction of
        filtering and encoding them again. Fields still raw (as the caller sent
        them) are looked up as bytes, never decoded; fields the engine has read
        or changed (an idempotency key) as text.
        """
        body = request.body
        length = len(body) if body or request.method in _EMPTY_BODY_LENGTH else -1
        raw = request.raw
        key = (length, tuple(raw if raw is not None else request.headers))
        built = self.built.get(key)
        if built is None:
            built = self.built.put(key, self._build(length, request))
        return built.copy()

    def _build(self, length: int, request: Request) -> httpx.Headers:
        """The fields to send: Host first (as httpx itself sends it), the body's
        length (none if ``length`` is negative), then what
        :func:`~seawall.transports.outbound_headers` keeps and adds."""
        raw = request.raw
        out = [self.host]
        if length >= 0:
            out.append(("Content-Length", str(length)))
        out += outbound_headers(
            decode_fields(raw) if raw is not None else request.headers, self.target
        )
        return _encoded(out)


def _encoded(headers: list[tuple[str, str]]) -> httpx.Headers:
    """``headers`` as httpx holds them, each field's bytes as the caller sent them.

    Header text is latin-1 here (the caller's bytes decoded one to one). Nearly
    always it is ASCII, and saying so spares whoever reads the fields as text
    (a ``MockTransport`` handler) httpx's scan to guess their encoding. Other
    text goes back to the caller's exact bytes, and httpx guesses for those as
    it would have for the caller's own request.
    """
    try:
        return httpx.Headers(headers, encoding="ascii")
    except UnicodeEncodeError:
        return httpx.Headers([(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers])


class HttpxUpstream:
    """Sends through an httpx transport.

    A call that came in through :class:`seawall.Transport` carries the caller's
    ``httpx.Request``: it is re-aimed at the provider (URL, Host, headers) and
    sent as is, and the transport's ``httpx.Response`` goes back to the caller
    with only seawall's headers added -- no second request or response is built,
    which is most of what wrapping a transport would otherwise cost.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, *, url_cache: int = 4096) -> None:
        self._transport = transport
        # Keyed by id(): a frozen dataclass hashes all its fields on every lookup.
        self._aims: dict[int, _Aim] = {}
        self._url_cache = url_cache
        self._timeouts: dict[float, dict[str, float]] = {}

    def _aim(self, target: ProviderTarget) -> _Aim:
        """The per-provider constants for ``target``, built on its first call."""
        if len(self._aims) >= 256:  # targets are per provider; only reloads add more
            self._aims.clear()
        aim = self._aims[id(target)] = _Aim(target, self._url_cache)
        return aim

    def _timeout(self, timeout: float) -> dict[str, float]:
        """httpx's per-phase timeout extension, one shared dict per value (read, never written)."""
        phases = self._timeouts.get(timeout)
        if phases is None:
            if len(self._timeouts) >= 64:  # a deadline's remainder varies call by call
                self._timeouts.clear()
            phases = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
            self._timeouts[timeout] = phases
        return phases

    def _outbound(self, target: ProviderTarget, request: Request, timeout: float) -> httpx.Request:
        # Lookups inline, helpers only on a miss: every call passes here.
        aim = self._aims.get(id(target)) or self._aim(target)
        url = aim.urls.get(request.target)
        if url is None:
            url = aim.url(request.target)
        headers = aim.headers(request)
        phases = self._timeouts.get(timeout)
        if phases is None:
            phases = self._timeout(timeout)
        # The caller's own request is re-aimed and sent as is if it still says what
        # ``request`` says: an adapter may have rewritten the method or the body
        # (keeping ``native``), and such a call gets a request of its own. In the
        # usual case the body is the very object the caller's request holds.
        native = request.native
        if isinstance(native, httpx.Request) and native.method == request.method:
            try:
                same = native.content == request.body
            except httpx.RequestNotRead:
                same = False
            if same:
                native.url = url
                native.headers = headers
                native.extensions["timeout"] = phases
                return native
        return httpx.Request(
            request.method,
            url,
            headers=headers,
            content=request.body,
            extensions={"timeout": phases},
        )

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        outbound = self._outbound(target, request, timeout)
        try:
            response = await self._transport.handle_async_request(outbound)
            # A response built with its content (any MockTransport handler's) is read
            # and closed already: taking ``content`` saves awaiting aread and aclose.
            body = None
            if response.is_closed:
                try:  # noqa: SIM105 - no context manager on the per-call path
                    body = response.content
                except httpx.ResponseNotRead:
                    pass
            if body is None:
                try:
                    body = await response.aread()
                finally:
                    await response.aclose()
        except httpx.ConnectTimeout as exc:
            msg = f"connecting to {target.base_url} timed out"
            raise UpstreamTimeout(msg, provider=target.name) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"{target.base_url} timed out", provider=target.name) from exc
        except httpx.ConnectError as exc:
            msg = f"cannot connect to {target.base_url}: {exc}"
            raise UpstreamConnectError(msg, sent=False, provider=target.name) from exc
        except httpx.TransportError as exc:
            msg = f"{target.base_url}: {type(exc).__name__}: {exc}"
            raise UpstreamConnectError(msg, sent=True, provider=target.name) from exc
        # the fields stay bytes until the engine reads them (a retry's Retry-After, an adapter)
        # Positional: a class call with keywords costs nearly twice as much.
        return Response(
            response.status_code,  # status
            None,  # headers: the raw fields below instead
            body,  # body
            "",  # provider: the engine says
            0,  # attempts: the engine counts
            None,  # stale
            response,  # native
            None,  # stream
            response.headers.raw,  # raw
        )

    async def aclose(self) -> None:
        await self._transport.aclose()
