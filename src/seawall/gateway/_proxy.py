"""The gateway's data plane: ``/<integration>/<path>`` through the engine.

Built on aiohttp's low-level server (no router, no middleware) so the per-call
work is one split of the path, one engine call and one response: the engine's
policies are the only thing added to a plain pass-through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from seawall._errors import SeawallError
from seawall.engine import Engine, Request, Response
from seawall.gateway._problems import error_response, problem_response
from seawall.transports import HOP_BY_HOP

__all__ = ["GatewayHandler"]

log = logging.getLogger("seawall.gateway")

_READ_CHUNK = 64 * 1024
#: response fields aiohttp sets itself, or that describe the upstream connection
_RESPONSE_DROP = HOP_BY_HOP | {"date", "server"}


class GatewayHandler:
    """The request handler of the gateway; ``engine`` is read per call so a reload swaps it."""

    def __init__(self, engine: Callable[[], Engine], *, max_body: int) -> None:
        self._engine = engine
        self.max_body = max_body
        self.draining = False

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        raw = request.raw_path
        if not raw.startswith("/") or len(raw) > 8192:
            return problem_response(
                "bad-request", "the request target must be /<integration>/<path>"
            )
        slash = raw.find("/", 1)
        query = raw.find("?", 1)
        cut = min(i for i in (slash, query, len(raw)) if i != -1)
        integration = raw[1:cut]
        target = raw[cut:] or "/"
        if target.startswith("?"):
            target = "/" + target
        engine = self._engine()
        if integration not in engine.integrations:
            known = ", ".join(sorted(engine.integrations)) or "none"
            return problem_response(
                "unknown-integration",
                f"no integration named '{integration}'; configured: {known}",
                integration=integration or None,
            )
        length = request.content_length
        if length is not None and length > self.max_body:
            return self._too_large(integration)
        body: bytes | None = b""
        if request.body_exists:
            body = await self._read_body(request)
        if body is None:
            return self._too_large(integration)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        try:
            result = await engine.call(integration, Request(request.method, target, headers, body))
        except SeawallError as exc:
            return error_response(exc)
        out = [(k, v) for k, v in result.headers if k.lower() not in _RESPONSE_DROP]
        out.append(("X-Seawall-Provider", result.provider))
        out.append(("X-Seawall-Attempts", str(result.attempts)))
        if result.stale is not None:
            out.append(("X-Seawall-Stale", f"{result.stale:.0f}"))
        if result.stream is not None:
            return await self._relay(request, result, out)
        response = web.Response(status=result.status, body=result.body, headers=out)
        if self.draining:
            response.force_close()
        return response

    async def _relay(
        self, request: web.BaseRequest, result: Response, headers: list[tuple[str, str]]
    ) -> web.StreamResponse:
        """Stream a large vendor body to the caller as it arrives, holding none of it."""
        response = web.StreamResponse(status=result.status, headers=headers)
        length = result.header("Content-Length")
        if length is not None and length.isdigit():
            response.content_length = int(length)
        if self.draining:
            response.force_close()
        stream = result.stream
        assert stream is not None
        try:
            await response.prepare(request)
            async for chunk in stream.chunks():
                await response.write(chunk)
            await response.write_eof()
        except (ConnectionError, SeawallError):
            # The caller went away or the vendor broke off mid-body: the status is
            # already sent, so the only honest signal left is a cut connection.
            response.force_close()
        finally:
            await stream.aclose()
        return response

    async def _read_body(self, request: web.BaseRequest) -> bytes | None:
        """The whole body, or None past ``max_body`` (read no further than that)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, integration: str) -> web.Response:
        response = problem_response(
            "body-too-large",
            f"the body is larger than gateway.max_body ({self.max_body} bytes)",
            integration=integration,
        )
        response.force_close()  # the rest of the body is not read
        return response
