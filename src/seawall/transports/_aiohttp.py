"""An upstream over aiohttp's client, kept as the reference WireUpstream is held to.

seawall sends through :class:`~seawall.transports.WireUpstream`; this client is
what it replaced (about three times its CPU per call) and still defines
``STREAM_ABOVE``, the rule both use for when a body is streamed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import ProviderTarget, Request, Response
from seawall.security import EgressPolicy, GuardedResolver, check_url_host
from seawall.transports._headers import outbound_headers, outbound_url

__all__ = ["STREAM_ABOVE", "AiohttpUpstream"]

#: bodies larger than this (or of unknown length) are streamed, not buffered
STREAM_ABOVE = 256 * 1024


class _Stream:
    """An aiohttp response body being relayed chunk by chunk."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(64 * 1024):
                yield chunk
        except (aiohttp.ClientError, OSError) as exc:
            msg = f"the vendor's response broke off: {type(exc).__name__}"
            raise UpstreamConnectError(msg, sent=True) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpUpstream:
    """Pooled keep-alive connections per provider; created lazily in the running loop.

    The pool is not capped by default: the bulkhead already bounds concurrent
    calls per integration, and a second, smaller cap here would only queue
    calls invisibly until they time out.

    With ``egress`` set, every address is checked at connect time: IP-literal
    hosts before the request, hostnames through :class:`GuardedResolver` on the
    address actually connected to (so DNS rebinding cannot slip past).
    """

    def __init__(
        self,
        *,
        egress: EgressPolicy | None = None,
        limit: int = 0,
        limit_per_host: int = 0,
        keepalive_timeout: float = 30.0,
    ) -> None:
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._keepalive = keepalive_timeout
        self._egress = egress
        self._resolver = GuardedResolver(policy=egress) if egress is not None else None
        self._checked_hosts: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            msg = "the upstream client is closed"
            raise UpstreamConnectError(msg, sent=False)
        connector = aiohttp.TCPConnector(
            limit=self._limit,
            limit_per_host=self._limit_per_host,
            keepalive_timeout=self._keepalive,
            resolver=self._resolver,
            enable_cleanup_closed=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,  # bodies pass through with their Content-Encoding
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        session = self._session or self._open()
        url = URL(outbound_url(target, request.target), encoded=True)
        if self._egress is not None and target.base_url not in self._checked_hosts:
            check_url_host(self._egress, url.raw_host or "")
            self._checked_hosts.add(target.base_url)  # the literal host never changes
        try:
            resp = await session.request(
                request.method,
                url,
                headers=outbound_headers(request.headers, target),
                data=request.body or None,
                allow_redirects=False,  # a redirect to an unchecked host is never followed
                # a body that stops arriving is a timeout too, streamed or not
                timeout=aiohttp.ClientTimeout(sock_read=timeout),
            )
            raw = list(resp.raw_headers)  # decoded only if the engine reads them
            length = resp.content_length
            if (
                200 <= resp.status < 300
                and (length is None or length > STREAM_ABOVE)
                and request.method != "HEAD"
            ):
                return Response(status=resp.status, stream=_Stream(resp), raw=raw)
            try:
                body = await resp.read()
            finally:
                resp.release()
            return Response(status=resp.status, body=body, raw=raw)
        except aiohttp.ClientConnectorError as exc:
            msg = f"cannot connect to {target.base_url}: {exc.os_error.strerror or exc}"
            raise UpstreamConnectError(msg, sent=False, provider=target.name) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            msg = f"{target.base_url} dropped the connection before answering"
            raise UpstreamConnectError(msg, sent=True, provider=target.name) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise UpstreamTimeout(f"{target.base_url} timed out", provider=target.name) from exc
        except (aiohttp.ClientError, OSError) as exc:
            msg = f"{target.base_url}: {type(exc).__name__}: {exc}"
            raise UpstreamConnectError(msg, sent=True, provider=target.name) from exc

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # let the connector's transports close (aiohttp docs)
        if self._resolver is not None:
            await self._resolver.close()  # a connector never closes a resolver passed in
