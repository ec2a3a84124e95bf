"""The two middlewares of every simulator app.

:func:`inject_faults` is outermost: it asks the :class:`FaultBook` for a plan
and carries it out around the vendor handler. :func:`render_vendor_errors`
sits inside it, so every failure, injected or not, reaches the client in the
vendor's own error shape. Paths under ``/_sim/`` (the control API) are never
faulted.

Dropping a connection aborts the transport with ``SO_LINGER`` 0, so the
client sees a TCP reset (``ECONNRESET``), as from a crashed load balancer. The
handler then returns a response aiohttp cannot write; aiohttp treats that as a
premature client disconnection and logs it at debug level only, no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler

from seawall.chaos._drift import apply_drift, malformed_body
from seawall.chaos._fault_book import DropConnection, HoldOpen, Respond
from seawall.chaos._faults import DriftFault
from seawall.chaos._http import MAX_BODY_BYTES, PROCESSING_DELAY_KEY, VendorError, json_response
from seawall.chaos._simulation import CONTROL_PREFIX, SIMULATION_KEY, Simulation

__all__ = ["drop_connection", "inject_faults", "render_vendor_errors"]

_POLL_SECONDS = 0.05


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Carry out the fault plan for one vendor request."""
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    simulation = request.app[SIMULATION_KEY]
    simulation.record_request(request)
    plan = simulation.faults.plan(request.method, request.path)
    if plan.delay_seconds > 0 and not await simulation.pause(plan.delay_seconds):
        return drop_connection(request)
    interruption = plan.interruption
    if isinstance(interruption, DropConnection):
        return drop_connection(request)
    if isinstance(interruption, HoldOpen):
        return await _hold_open(request, simulation, interruption)
    if isinstance(interruption, Respond):
        return _fault_response(simulation, interruption)
    if plan.processing_delay_seconds > 0:
        request[PROCESSING_DELAY_KEY] = plan.processing_delay_seconds
    response = await handler(request)
    # A handler that never reached vendor_work() is slow all the same.
    unused_delay = request.pop(PROCESSING_DELAY_KEY, 0.0)
    if unused_delay > 0 and not await simulation.pause(unused_delay):
        return drop_connection(request)
    if plan.drop_after_commit:
        return drop_connection(request)
    if plan.malformed:
        return _malformed(response)
    if plan.drifts:
        return _drifted(response, plan.drifts)
    return response


@web.middleware
async def render_vendor_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn :class:`VendorError` and aiohttp's 4xx (404, 405, 413) into the vendor's shape."""
    control = request.path.startswith(CONTROL_PREFIX)
    try:
        return await handler(request)
    except VendorError as error:
        if control:
            return json_response({"error": error.message}, status=error.status)
        return request.app[SIMULATION_KEY].vendor.render_error(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        message = _http_message(request, exc.status)
        if control:
            return json_response({"error": message}, status=exc.status, headers=headers)
        vendor_error = VendorError(exc.status, message, headers=headers)
        return request.app[SIMULATION_KEY].vendor.render_error(vendor_error)


def drop_connection(request: web.BaseRequest) -> web.Response:
    """Reset the client's TCP connection; the returned response is never sent."""
    transport = request.transport
    if transport is not None and not transport.is_closing():
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=499, text="connection dropped by a seawall chaos fault")


async def _hold_open(
    request: web.Request, simulation: Simulation, hold: HoldOpen
) -> web.StreamResponse:
    """Wait until the client leaves, the server stops, or ``max_seconds`` pass (then 504)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + hold.max_seconds
    while True:
        transport = request.transport
        if transport is None or transport.is_closing():
            return drop_connection(request)
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        if not await simulation.pause(min(_POLL_SECONDS, remaining)):
            return drop_connection(request)
    message = f"No response within {hold.max_seconds:g} s (hang fault {hold.fault_id})."
    return simulation.vendor.render_error(VendorError(504, message))


def _fault_response(simulation: Simulation, respond: Respond) -> web.Response:
    if respond.body is not None:
        response = json_response(respond.body, status=respond.status)
    else:
        if respond.status == 429:
            message = (
                f"Too many requests; retry after {respond.retry_after} s "
                f"(rate_limit fault {respond.fault_id})."
            )
        else:
            message = (
                f"Simulated {respond.status} {_phrase(respond.status)} (fault {respond.fault_id})."
            )
        response = simulation.vendor.render_error(VendorError(respond.status, message))
    if respond.retry_after is not None:
        # Retry-After in delay-seconds (RFC 9110 section 10.2.3); the reset time in epoch
        # seconds as GitHub's and Twitter's X-RateLimit-Reset carry it.
        response.headers["Retry-After"] = str(respond.retry_after)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(int(time.time()) + respond.retry_after)
        if respond.limit is not None:
            response.headers["X-RateLimit-Limit"] = str(respond.limit)
    for name, value in respond.headers:
        response.headers[name] = value
    return response


def _json_body(response: web.StreamResponse) -> bytes | None:
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        return response.body
    return None


def _headers_except(response: web.StreamResponse, *names: str) -> list[tuple[str, str]]:
    skipped = {"content-length", *(name.lower() for name in names)}
    return [
        (name, value) for name, value in response.headers.items() if name.lower() not in skipped
    ]


def _malformed(response: web.StreamResponse) -> web.Response:
    headers = _headers_except(response, "Content-Type")
    body = malformed_body(_json_body(response) or b"")
    return web.Response(body=body, status=200, headers=headers, content_type="application/json")


def _drifted(response: web.StreamResponse, drifts: list[DriftFault]) -> web.StreamResponse:
    body = _json_body(response)
    if not body:
        return response
    try:
        document = json.loads(body)
    except ValueError:
        return response
    for drift in drifts:
        document = apply_drift(
            document, rename=drift.rename, remove=drift.remove, retype=drift.retype
        )
    return web.Response(
        body=json.dumps(document, indent=2).encode(),
        status=response.status,
        headers=_headers_except(response),
    )


def _http_message(request: web.BaseRequest, status: int) -> str:
    if status == 404:
        return f"Unrecognized request URL ({request.method}: {request.path})."
    if status == 405:
        return f"Method {request.method} is not allowed on {request.path}."
    if status == 413:
        return f"The request body is larger than {MAX_BODY_BYTES} bytes."
    return _phrase(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
