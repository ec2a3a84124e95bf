"""Operator actions over the admin API: maintenance windows and the durable outbox.

Also the admin API's shared parts -- the :class:`AdminContext`, problem
responses, JSON bodies -- and the views of provider health, maintenance,
probes and outbox depth that the integration listing shows.

Outbox messages are shown **without** their bodies or header values: a queued
write carries the caller's headers (an ``Authorization`` among them, maybe)
and a body full of personal data. The views show header names, the body's
size, and the target with its query values masked.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from seawall._errors import StoreError
from seawall.config import FallbackQueue, Finding, UnitError, parse_duration
from seawall.delivery import OutboxWorker
from seawall.engine import Engine
from seawall.oncall import OnCall
from seawall.routing import ActiveWindow, ProviderHealth, ProviderStatus
from seawall.store import OutboxMessage, OutboxState, Store
from seawall.web._auth import Identity, TokenBook
from seawall.web._recent import RecentCalls

__all__ = [
    "CONTEXT",
    "DURATION_PATTERN",
    "IDENTITY",
    "MAX_BODY",
    "MAX_DURATION",
    "MAX_LIMIT",
    "MAX_REASON",
    "NAME_PATTERN",
    "UUID_PATTERN",
    "AdminContext",
    "Handler",
    "drop_outbox_message",
    "get_outbox_message",
    "health_view",
    "json_response",
    "list_outbox",
    "message_view",
    "outbox_summary",
    "probe_view",
    "problem",
    "record_action",
    "retry_outbox_message",
    "start_maintenance",
    "stop_maintenance",
    "window_view",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: where the guard leaves the caller's identity on the request
IDENTITY: web.RequestKey[Identity] = web.RequestKey("seawall.identity", Identity)

_log = logging.getLogger("seawall.web")

#: the documented patterns (OpenAPI) and the checks here are the same expressions
NAME_PATTERN = r"[a-z0-9][a-z0-9_.-]{0,62}"
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
DURATION_PATTERN = r"([0-9]{1,6}(\.[0-9]{1,3})?(ms|s|m|h|d|w)){1,4}"
MAX_BODY = 16 * 1024
MAX_LIMIT = 500
MAX_REASON = 200
#: the shortest and longest manual maintenance window, in seconds
MIN_DURATION = 1.0
MAX_DURATION = 30 * 86400.0


@dataclass(slots=True, kw_only=True)
class AdminContext:
    """What the admin API reads and drives; the service supplies it."""

    engine: Callable[[], Engine]
    tokens: Callable[[], TokenBook]
    recent: RecentCalls
    metrics: Callable[[str | None], tuple[bytes, str]]
    reload: Callable[[], Awaitable[list[Finding]]]
    version: str
    #: the open store (None before the service has started)
    store: Callable[[], Store | None] = lambda: None
    #: the outbox worker, whose last look at depth and age backs the store up
    worker: Callable[[], OutboxWorker | None] = lambda: None
    #: the last active probe result per (integration, provider)
    probes: Callable[[], Mapping[tuple[str, str], bool]] = dict
    #: Unix time, for ages and for showing monotonic deadlines as times
    wall: Callable[[], float] = time.time
    #: alerts, notifications and incidents (None before the service has started)
    oncall: Callable[[], OnCall | None] = lambda: None


CONTEXT: web.AppKey[AdminContext] = web.AppKey("seawall.admin", AdminContext)


class Invalid(ValueError):
    """Input the API refuses; the handler answers 400 with this message."""


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type="application/json"
    )


def problem(status: int, title: str, detail: str) -> web.Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "reason": title.lower().replace(" ", "-"),
    }
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/problem+json"
    )


async def read_json(request: web.Request, hint: str) -> Any:
    """The request's JSON body; Invalid (with ``hint``) when it is missing, huge or not JSON."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Invalid("the body is too large")
    try:
        return json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        raise Invalid("the body is too large") from None
    except (ValueError, UnicodeDecodeError):
        raise Invalid(f"send JSON: {hint}") from None


def caller(request: web.Request) -> str:
    """The name of the token that made the request ("anonymous" on open endpoints)."""
    identity = request.get(IDENTITY)
    return "anonymous" if identity is None else identity.name


async def record_action(
    request: web.Request,
    action: str,
    *,
    integration: str | None = None,
    provider: str | None = None,
    **details: Any,
) -> None:
    """Put an operator's action on the timeline (kind ``operator-action``).

    The action has already happened: a store that cannot take the record is
    logged, not turned into a failed request.
    """
    ctx = request.app[CONTEXT]
    store = ctx.store()
    if store is None:
        return
    data = {"action": action, "by": caller(request), **details}
    try:
        await store.events.append(
            "operator-action", at=ctx.wall(), integration=integration, provider=provider, data=data
        )
    except StoreError as exc:
        _log.warning("operator action %s not recorded on the timeline: %s", action, exc.message)


def with_problems(handler: Handler) -> Handler:
    """Answer Invalid with a 400 problem and a store failure with a 503."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Invalid as exc:
            return problem(400, "Bad request", str(exc))
        except StoreError as exc:
            return problem(503, "Store unavailable", exc.message)

    return wrapped


# -- views ------------------------------------------------------------------------------


def _health_reason(health: ProviderHealth) -> str | None:
    """Why a provider takes no traffic, as far as the board's snapshot tells."""
    if health.status is ProviderStatus.EJECTED:
        return "outlier-detection"
    if health.status is ProviderStatus.PROBE_DOWN:
        return "probe-failed"
    if health.status is ProviderStatus.RECOVERING:
        return "awaiting-passing-probes"
    return None


def health_view(engine: Engine, integration: str, provider: str, wall: float) -> dict[str, Any]:
    """Status, ejection end (Unix time) and reason from the integration's health board."""
    now = engine.clock.now()
    health = engine.integration(integration).board.health(provider, now)
    until = health.ejected_until
    if health.status is ProviderStatus.EJECTED and until is not None:
        until = round(wall + max(0.0, until - now), 3)  # monotonic -> Unix time
    else:
        until = None
    return {
        "status": health.status.value,
        "ejected_until": until,
        "reason": _health_reason(health),
        "ejections": health.ejections,
    }


def window_view(window: ActiveWindow | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "phase": window.phase,
        "start": window.start,
        "end": window.end,
        "reason": window.reason,
        "window_id": window.window_id,
    }


def probe_view(ctx: AdminContext, integration: str, provider: str) -> dict[str, Any] | None:
    result = ctx.probes().get((integration, provider))
    return None if result is None else {"ok": result}


async def outbox_summary(ctx: AdminContext, engine: Engine, name: str) -> dict[str, Any] | None:
    """Depth and age of the integration's queued writes; None when it queues none."""
    if not isinstance(engine.integration(name).spec.fallback, FallbackQueue):
        return None
    store = ctx.store()
    if store is not None:
        try:
            depth = await store.outbox.depth(name)
            oldest = await store.outbox.oldest_age(ctx.wall(), name)
        except StoreError:
            pass  # the worker's last look is the next best thing
        else:
            return {"depth": depth, "oldest_seconds": None if oldest is None else round(oldest, 3)}
    worker = ctx.worker()
    if worker is None or name not in worker.depth:
        return {"depth": None, "oldest_seconds": None}
    depth = worker.depth[name]
    return {"depth": depth, "oldest_seconds": round(worker.oldest[name], 3) if depth else None}


def _masked_target(target: str) -> str:
    """The target with every query value replaced by ``***`` (keys can ride in queries)."""
    path, sep, query = target.partition("?")
    if not sep:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    return path + "?" + "&".join(f"{key}=***" if value else key for key, value in pairs)


def message_view(message: OutboxMessage) -> dict[str, Any]:
    """A queued write as the admin API and the CLI show it: no body, no header values."""
    names: dict[str, str] = {}  # each name once, as first spelled
    for name, _value in message.headers:
        names.setdefault(name.lower(), name)
    return {
        "id": message.id,
        "seq": message.seq,
        "integration": message.integration,
        "state": message.state.value,
        "method": message.method,
        "target": _masked_target(message.target),
        "order_key": message.order_key,
        "idempotency_key": message.idempotency_key,
        "header_names": list(names.values()),
        "body_bytes": len(message.body),
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "lease_until": message.lease_until,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        "delivered_at": message.delivered_at,
        "last_error": message.last_error,
        "provider": message.provider,
        "response_status": message.response_status,
    }


# -- maintenance ------------------------------------------------------------------------

_MAINTENANCE_HINT = '{"duration": "30m" | seconds, "reason": "vendor upgrade"}'


def parse_window_duration(value: object) -> float:
    """A request's ``duration``: ``"30m"`` or a number of seconds, from 1s to 30 days."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        msg = f'duration is a duration such as "30m" or seconds as a number: {_MAINTENANCE_HINT}'
        raise Invalid(msg)
    if isinstance(value, str):
        if not re.fullmatch(DURATION_PATTERN, value):
            raise Invalid(f"'{value[:40]}' is not a duration: write e.g. 90s, 30m, 2h or 1h30m")
        try:
            seconds = parse_duration(value)
        except UnitError as exc:
            raise Invalid(str(exc)) from None
    else:
        try:
            seconds = float(value)
        except OverflowError:
            raise Invalid("a maintenance window lasts from 1s to 30d") from None
    if not (math.isfinite(seconds) and MIN_DURATION <= seconds <= MAX_DURATION):
        raise Invalid("a maintenance window lasts from 1s to 30d")
    return seconds


def _maintenance_input(body: object) -> tuple[float, str]:
    if not isinstance(body, dict):
        raise Invalid(f"send a JSON object: {_MAINTENANCE_HINT}")
    unknown = set(body) - {"duration", "reason"}
    if unknown:
        raise Invalid(f"unknown field(s) {sorted(unknown)}; send {_MAINTENANCE_HINT}")
    if "duration" not in body:
        raise Invalid(f"duration is required: {_MAINTENANCE_HINT}")
    duration = parse_window_duration(body["duration"])
    reason = body.get("reason", "operator")
    if not isinstance(reason, str) or not 1 <= len(reason) <= MAX_REASON:
        raise Invalid(f"reason must be text of 1 to {MAX_REASON} characters")
    if not reason.isprintable():
        raise Invalid("reason must not contain control characters")
    return duration, reason


def _provider_or_404(engine: Engine, request: web.Request) -> tuple[str, str] | web.Response:
    name = request.match_info["name"]
    provider = request.match_info["provider"]
    if name not in engine.integrations or provider not in engine.integration(name).by_name:
        return problem(404, "Not found", f"no provider '{provider}' in integration '{name}'")
    return name, provider


def _maintenance_result(engine: Engine, name: str, provider: str) -> dict[str, Any]:
    return {
        "integration": name,
        "provider": provider,
        "maintenance": window_view(engine.maintenance(name, provider)),
        "current_provider": engine.current_provider(name),
    }


@with_problems
async def start_maintenance(request: web.Request) -> web.StreamResponse:
    engine = request.app[CONTEXT].engine()
    found = _provider_or_404(engine, request)
    if isinstance(found, web.Response):
        return found
    name, provider = found
    duration, reason = _maintenance_input(await read_json(request, _MAINTENANCE_HINT))
    engine.start_maintenance(name, provider, duration=duration, reason=reason)
    await record_action(
        request,
        "maintenance-started",
        integration=name,
        provider=provider,
        duration=duration,
        reason=reason,
    )
    return json_response(_maintenance_result(engine, name, provider), status=201)


async def stop_maintenance(request: web.Request) -> web.StreamResponse:
    engine = request.app[CONTEXT].engine()
    found = _provider_or_404(engine, request)
    if isinstance(found, web.Response):
        return found
    name, provider = found
    ended = window_view(engine.maintenance(name, provider))
    engine.stop_maintenance(name, provider)
    await record_action(request, "maintenance-stopped", integration=name, provider=provider)
    return json_response({**_maintenance_result(engine, name, provider), "ended": ended})


# -- the outbox -------------------------------------------------------------------------


def _store(request: web.Request) -> Store:
    store = request.app[CONTEXT].store()
    if store is None:
        msg = "the store is not open yet"
        raise StoreError(msg)
    return store


def _query(request: web.Request, key: str) -> str | None:
    values = request.query.getall(key, [])
    if len(values) > 1:
        raise Invalid(f"give {key} once")
    return values[0] if values else None


def list_filters(request: web.Request) -> tuple[OutboxState | None, str | None, int]:
    """``state``, ``integration`` and ``limit`` from the query string, checked."""
    state_text = _query(request, "state")
    integration = _query(request, "integration")
    limit_text = _query(request, "limit")
    try:
        state = None if state_text is None else OutboxState(state_text)
    except ValueError:
        choices = ", ".join(s.value for s in OutboxState)
        raise Invalid(f"state must be one of {choices}") from None
    if integration is not None and not re.fullmatch(NAME_PATTERN, integration):
        raise Invalid("integration must be an integration name such as 'email'")
    limit = 100
    if limit_text is not None:
        if not re.fullmatch(r"[0-9]{1,4}", limit_text) or not 1 <= int(limit_text) <= MAX_LIMIT:
            raise Invalid(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(limit_text)
    return state, integration, limit


def message_id(text: str) -> str:
    """A message id in its stored form (a lowercase UUID); Invalid otherwise."""
    if not re.fullmatch(UUID_PATTERN, text):
        raise Invalid("a message id is a UUID such as 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    return text.lower()


def _not_found(message: str) -> web.Response:
    return problem(404, "Not found", f"no outbox message {message}")


@with_problems
async def list_outbox(request: web.Request) -> web.StreamResponse:
    state, integration, limit = list_filters(request)
    messages = await _store(request).outbox.list(state=state, integration=integration, limit=limit)
    return json_response({"messages": [message_view(m) for m in messages], "limit": limit})


@with_problems
async def get_outbox_message(request: web.Request) -> web.StreamResponse:
    wanted = message_id(request.match_info["id"])
    message = await _store(request).outbox.get(wanted)
    return _not_found(wanted) if message is None else json_response(message_view(message))


@with_problems
async def retry_outbox_message(request: web.Request) -> web.StreamResponse:
    wanted = message_id(request.match_info["id"])
    outbox = _store(request).outbox
    if not await outbox.retry(wanted, now=request.app[CONTEXT].wall()):
        message = await outbox.get(wanted)
        if message is None:
            return _not_found(wanted)
        return problem(
            409,
            "Conflict",
            f"message {wanted} is {message.state.value}; only dead messages can be retried",
        )
    message = await outbox.get(wanted)
    if message is None:
        return _not_found(wanted)
    await record_action(request, "outbox-retry", integration=message.integration, message=wanted)
    return json_response(message_view(message))


@with_problems
async def drop_outbox_message(request: web.Request) -> web.StreamResponse:
    wanted = message_id(request.match_info["id"])
    if not await _store(request).outbox.drop(wanted):
        return _not_found(wanted)
    await record_action(request, "outbox-drop", message=wanted)
    return web.Response(status=204)
