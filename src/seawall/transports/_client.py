"""``seawall.Transport`` and ``seawall.SyncTransport``: every policy behind the
httpx transport interface.

The request's path and query go to the chosen provider's ``base_url``; the host
the application wrote is not used (by convention ``http://payments``), so a
vendor SDK with a hard-coded host still works, and failover can switch
providers underneath it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx

from seawall._events import EventSink
from seawall.config import Config, FallbackQueue, load_config
from seawall.delivery import OutboxWorker, StoreOutbox
from seawall.engine import Engine, Request, Response, Upstream
from seawall.security import EgressPolicy
from seawall.store import Store
from seawall.transports._headers import octets
from seawall.transports._httpx import HttpxUpstream
from seawall.transports._wire import WireUpstream

__all__ = ["CallInfo", "SyncTransport", "Transport", "build_engine"]

_T = TypeVar("_T")


def build_engine(
    config: str | Path | Config,
    *,
    upstream: Upstream | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sink: EventSink | None = None,
) -> Engine:
    """An engine for ``config`` sending through :class:`WireUpstream`, or through ``transport``."""
    loaded = config if isinstance(config, Config) else load_config(config)
    if upstream is None:
        if transport is not None:
            upstream = HttpxUpstream(transport)
        else:
            # The in-process client applies the gateway's egress guard too.
            upstream = WireUpstream(egress=EgressPolicy.from_config(loaded.gateway.egress))
    return Engine(loaded, upstream=upstream, sink=sink)


def _request(request: httpx.Request, body: bytes) -> Request:
    """The engine's view of the caller's request, which goes along as ``native``.

    The caller's fields stay bytes: an upstream that sends them on as they came
    (:class:`HttpxUpstream`) never decodes them, and the engine decodes them
    only if it reads them (an idempotency key, an adapter).
    """
    # Positional: a class call with keywords costs nearly twice as much.
    return Request(
        request.method,  # method
        request.url.raw_path.decode("ascii"),  # target
        None,  # headers: the raw fields below instead
        body,  # body
        request,  # native
        request.headers.raw,  # raw
    )


class _RelayStream(httpx.AsyncByteStream):
    """A streamed vendor body relayed to the httpx caller as it arrives."""

    def __init__(self, response: Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        stream = self._response.stream
        if stream is None:
            yield self._response.body
            return
        async for chunk in stream.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self._response.discard()


class CallInfo(NamedTuple):
    """What seawall did for one call: ``response.extensions["seawall"]``.

    httpx's extensions are where a transport says how it answered (as httpcore
    puts ``http_version`` there), so a live vendor answer reaches the caller
    unaltered: its headers are the vendor's own.
    """

    integration: str
    #: the provider that answered
    provider: str
    #: attempts made, failovers included
    attempts: int
    #: the age in seconds of a cached fallback (also in ``X-Seawall-Stale``); None when live
    stale: float | None


_new_tuple = tuple.__new__

#: seawall's fields on an answer, as the gateway adds them (``Transport(headers=True)``)
_OWN_FIELDS = (b"x-seawall-provider", b"x-seawall-attempts")
#: the framing of a streamed body, which httpx sets again for the caller
_FRAMING = (b"content-length", b"transfer-encoding")


def _response(
    response: Response, request: httpx.Request, integration: str, fields: bool
) -> httpx.Response:
    """The engine's answer as the caller's ``httpx.Response``, with :class:`CallInfo`.

    A live answer from :class:`HttpxUpstream` is the transport's own response,
    handed back as is. With ``fields``, it also gets the gateway's
    ``X-Seawall-Provider`` and ``X-Seawall-Attempts`` (replacing any the vendor
    sent); that costs a sizeable share of the per-call overhead, since httpx
    copies every response field again to extract cookies. Any other answer is
    built from the vendor's field bytes (raw when nobody decoded them).
    """
    # tuple.__new__ skips the named tuple's Python-level __new__: half the cost, every call
    info = _new_tuple(CallInfo, (integration, response.provider, response.attempts, response.stale))
    native = response.native
    if response.stream is None and response.stale is None and isinstance(native, httpx.Response):
        native.extensions["seawall"] = info
        if fields:
            native.headers["X-Seawall-Provider"] = response.provider
            native.headers["X-Seawall-Attempts"] = str(response.attempts)
        return native
    raw = response.raw
    headers = (
        list(raw) if raw is not None else [(octets(k), octets(v)) for k, v in response.headers]
    )
    if response.stream is not None:
        headers = [(k, v) for k, v in headers if k.lower() not in _FRAMING]
    if fields:
        headers = [(k, v) for k, v in headers if k.lower() not in _OWN_FIELDS]
        headers.append((b"X-Seawall-Provider", octets(response.provider)))
        headers.append((b"X-Seawall-Attempts", b"%d" % response.attempts))
    if response.stale is not None:
        headers.append((b"X-Seawall-Stale", b"%.0f" % response.stale))
    if response.stream is not None:
        return httpx.Response(
            status_code=response.status,
            headers=headers,
            stream=_RelayStream(response),
            request=request,
            extensions={"seawall": info},
        )
    return httpx.Response(
        status_code=response.status,
        headers=headers,
        content=response.body,
        request=request,
        extensions={"seawall": info},
    )


class Transport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=seawall.Transport("payments", config="seawall.yaml"))``.

    Pass ``engine=`` to share breakers, budgets and pools between transports of
    several integrations; otherwise the transport owns an engine of its own.
    Failures raise the :class:`~seawall.SeawallError` tree. Every answer says
    who answered in ``response.extensions["seawall"]`` (a :class:`CallInfo`);
    ``headers=True`` also adds the gateway's ``X-Seawall-Provider`` and
    ``X-Seawall-Attempts`` fields, for code that reads both alike.
    """

    def __init__(
        self,
        integration: str,
        *,
        config: str | Path | Config | None = None,
        engine: Engine | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sink: EventSink | None = None,
        headers: bool = False,
    ) -> None:
        if engine is None:
            if config is None:
                msg = "seawall.Transport needs config= (a YAML path or a Config) or engine="
                raise TypeError(msg)
            engine = build_engine(config, transport=transport, sink=sink)
            self._owns_engine = True
        else:
            self._owns_engine = False
        engine.integration(integration)  # fail fast on an unknown name
        self._engine = engine
        self._integration = integration
        # An integration that queues writes needs the durable outbox and its worker
        # in this process too; they start with the first call.
        self._needs_outbox = self._owns_engine and isinstance(
            engine.integration(integration).spec.fallback, FallbackQueue
        )
        self._store: Store | None = None
        self._worker: OutboxWorker | None = None
        self._fields = headers

    @property
    def engine(self) -> Engine:
        return self._engine

    async def _start_outbox(self) -> None:
        self._needs_outbox = False
        self._store = await Store.open(self._engine.config.store)
        signal = StoreOutbox(self._store.outbox)
        self._engine.outbox = signal
        self._worker = OutboxWorker(lambda: self._engine, self._store.outbox, signal)
        self._worker.start()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._needs_outbox:
            await self._start_outbox()
        try:
            body = request.content  # httpx reads a bytes body when building the request
        except httpx.RequestNotRead:
            body = await request.aread()
        result = await self._engine.call(self._integration, _request(request, body))
        return _response(result, request, self._integration, self._fields)

    async def aclose(self) -> None:
        if self._worker is not None:
            await self._worker.stop()
        if self._owns_engine:
            await self._engine.aclose()
        if self._store is not None:
            await self._store.close()


class SyncTransport(httpx.BaseTransport):
    """The blocking twin of :class:`Transport`, for ``httpx.Client``.

    Calls run on one private event loop thread, so breakers and budgets are
    shared by every thread that uses the client.
    """

    def __init__(
        self,
        integration: str,
        *,
        config: str | Path | Config | None = None,
        engine: Engine | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sink: EventSink | None = None,
        headers: bool = False,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="seawall-sync", daemon=True
        )
        self._thread.start()
        try:
            self._async = Transport(
                integration,
                config=config,
                engine=engine,
                transport=transport,
                sink=sink,
                headers=headers,
            )
        except BaseException:
            self._stop()
            raise

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    @property
    def engine(self) -> Engine:
        return self._async.engine

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        result = self._run(
            self._async.engine.call(self._async._integration, _request(request, body))
        )
        return _response(result, request, self._async._integration, self._async._fields)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.aclose())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
