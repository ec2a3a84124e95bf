"""An upstream over any httpx transport: ``httpx.MockTransport`` in tests, or
``httpx.AsyncHTTPTransport`` when an application wants httpcore underneath."""

from __future__ import annotations

import httpx

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import ProviderTarget, Request, Response
from seawall.transports._headers import outbound_headers, outbound_url

__all__ = ["HttpxUpstream"]


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
        self._urls: dict[tuple[ProviderTarget, str], httpx.URL] = {}
        self._url_cache = url_cache

    def _url(self, target: ProviderTarget, request_target: str) -> httpx.URL:
        key = (target, request_target)
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= self._url_cache:
                self._urls.clear()
            url = self._urls[key] = httpx.URL(outbound_url(target, request_target))
        return url

    def _outbound(self, target: ProviderTarget, request: Request, timeout: float) -> httpx.Request:
        url = self._url(target, request.target)
        headers = outbound_headers(request.headers, target)
        native = request.native
        if isinstance(native, httpx.Request):
            native.url = url
            headers.append(("Host", url.netloc.decode("ascii")))
            native.headers = httpx.Headers(headers)
            native.extensions = {**native.extensions, "timeout": _timeouts(timeout)}
            return native
        return httpx.Request(
            request.method,
            url,
            headers=headers,
            content=request.body,
            extensions={"timeout": _timeouts(timeout)},
        )

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        outbound = self._outbound(target, request, timeout)
        try:
            response = await self._transport.handle_async_request(outbound)
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
        return Response(
            status=response.status_code,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
            body=body,
            native=response,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()


def _timeouts(timeout: float) -> dict[str, float]:
    return {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
