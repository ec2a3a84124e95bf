"""An upstream over any httpx transport: ``httpx.MockTransport`` in tests, or
``httpx.AsyncHTTPTransport`` when an application wants httpcore underneath."""

from __future__ import annotations

import httpx

from seawall._errors import UpstreamConnectError, UpstreamTimeout
from seawall.engine import ProviderTarget, Request, Response
from seawall.transports._headers import outbound_headers, outbound_url

__all__ = ["HttpxUpstream"]


class HttpxUpstream:
    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        outbound = httpx.Request(
            request.method,
            outbound_url(target, request.target),
            headers=outbound_headers(request.headers, target),
            content=request.body,
            extensions={
                "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
            },
        )
        try:
            response = await self._transport.handle_async_request(outbound)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        except httpx.ConnectTimeout as exc:
            raise UpstreamTimeout(
                f"connecting to {target.base_url} timed out", provider=target.name
            ) from exc
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
        )

    async def aclose(self) -> None:
        await self._transport.aclose()
