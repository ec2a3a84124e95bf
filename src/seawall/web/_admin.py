"""The admin server: ``/api/v1`` (OpenAPI), ``/metrics``, ``/healthz``.

Routes are listed once, as data, each with the least role that may call it.
Maintenance windows and the outbox are driven from ``_operations``, which also
holds the context and the response helpers every handler shares.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from seawall._states import BreakerState
from seawall.engine import Engine
from seawall.web._auth import Identity
from seawall.web._oncall import (
    ack_alert,
    ack_by_link,
    ack_incident,
    add_silence,
    confirm_ack_link,
    expire_silence,
    get_incident,
    incident_report,
    list_alerts,
    list_incidents,
    list_silences,
    resolve_incident,
)
from seawall.web._openapi import openapi_document
from seawall.web._operations import (
    CONTEXT,
    IDENTITY,
    MAX_BODY,
    AdminContext,
    Handler,
    drop_outbox_message,
    get_outbox_message,
    health_view,
    json_response,
    list_outbox,
    outbox_summary,
    probe_view,
    problem,
    record_action,
    retry_outbox_message,
    start_maintenance,
    stop_maintenance,
    window_view,
)
from seawall.web._sla import get_sla

__all__ = ["ROUTES", "AdminContext", "build_admin_app"]

_log = logging.getLogger("seawall.web")

_SETTABLE = {
    "forced_open": BreakerState.FORCED_OPEN,
    "closed": BreakerState.CLOSED,
    "disabled": BreakerState.DISABLED,
}


def _provider_view(
    ctx: AdminContext, engine: Engine, integration: str, name: str
) -> dict[str, Any]:
    runtime = engine.integration(integration).by_name[name]
    return {
        "name": name,
        "role": runtime.role,
        "base_url": runtime.target.base_url,
        "breaker": engine.breaker_state(integration, name).value,
        "health": health_view(engine, integration, name, ctx.wall()),
        "maintenance": window_view(engine.maintenance(integration, name)),
        "probe": probe_view(ctx, integration, name),
    }


async def _integration_view(ctx: AdminContext, engine: Engine, name: str) -> dict[str, Any]:
    runtime = engine.integration(name)
    return {
        "name": name,
        "description": runtime.spec.description,
        "criticality": runtime.spec.criticality,
        "routing": runtime.spec.routing,
        "inflight": runtime.inflight,
        "queued": runtime.bulkhead.queued,
        "current_provider": engine.current_provider(name),
        "failovers": runtime.failovers,
        "providers": [_provider_view(ctx, engine, name, p.name) for p in runtime.providers],
        "outbox": await outbox_summary(ctx, engine, name),
        "recent": ctx.recent.summary(name),
    }


async def list_integrations(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    engine = ctx.engine()
    views = [await _integration_view(ctx, engine, n) for n in list(engine.integrations)]
    return json_response({"integrations": views})


async def get_integration(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    engine = ctx.engine()
    name = request.match_info["name"]
    if name not in engine.integrations:
        return problem(404, "Not found", f"no integration named '{name}'")
    return json_response(await _integration_view(ctx, engine, name))


async def set_breaker(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    engine = ctx.engine()
    name = request.match_info["name"]
    provider = request.match_info["provider"]
    if name not in engine.integrations or provider not in engine.integration(name).by_name:
        return problem(404, "Not found", f"no provider '{provider}' in integration '{name}'")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return problem(400, "Bad request", "the body is too large")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return problem(
            400, "Bad request", 'send JSON: {"state": "forced_open" | "closed" | "disabled"}'
        )
    state = body.get("state") if isinstance(body, dict) else None
    if not isinstance(state, str) or state not in _SETTABLE or set(body) != {"state"}:
        return problem(
            400, "Bad request", 'state must be one of "forced_open", "closed", "disabled"'
        )
    engine.set_breaker(name, provider, _SETTABLE[state])
    await record_action(request, "breaker-set", integration=name, provider=provider, state=state)
    return json_response(_provider_view(ctx, engine, name, provider))


async def reload_config(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    findings = await ctx.reload()
    if findings:
        body = {
            "type": "about:blank",
            "title": "Invalid configuration",
            "status": 422,
            "detail": "the new configuration is invalid; the running one is kept",
            "reason": "config-invalid",
            "findings": [f.as_dict() for f in findings],
        }
        return web.Response(
            status=422, body=json.dumps(body).encode(), content_type="application/problem+json"
        )
    await record_action(request, "config-reloaded")
    return json_response({"reloaded": True})


async def openapi(request: web.Request) -> web.StreamResponse:
    return json_response(openapi_document(request.app[CONTEXT].version))


async def metrics(request: web.Request) -> web.StreamResponse:
    body, content_type = request.app[CONTEXT].metrics(request.headers.get("Accept"))
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


async def healthz(request: web.Request) -> web.StreamResponse:
    return json_response({"status": "ok"})


#: (method, path, handler, least role or None for open endpoints)
ROUTES: tuple[tuple[str, str, Handler, str | None], ...] = (
    ("GET", "/healthz", healthz, None),
    ("GET", "/metrics", metrics, None),
    ("GET", "/api/v1/openapi.json", openapi, None),
    ("GET", "/api/v1/integrations", list_integrations, "viewer"),
    ("GET", "/api/v1/integrations/{name}", get_integration, "viewer"),
    ("PUT", "/api/v1/integrations/{name}/providers/{provider}/breaker", set_breaker, "operator"),
    (
        "POST",
        "/api/v1/integrations/{name}/providers/{provider}/maintenance",
        start_maintenance,
        "operator",
    ),
    (
        "DELETE",
        "/api/v1/integrations/{name}/providers/{provider}/maintenance",
        stop_maintenance,
        "operator",
    ),
    ("GET", "/api/v1/outbox", list_outbox, "viewer"),
    ("GET", "/api/v1/outbox/{id}", get_outbox_message, "viewer"),
    ("DELETE", "/api/v1/outbox/{id}", drop_outbox_message, "operator"),
    ("POST", "/api/v1/outbox/{id}/retry", retry_outbox_message, "operator"),
    ("GET", "/api/v1/sla", get_sla, "viewer"),
    ("GET", "/api/v1/alerts", list_alerts, "viewer"),
    ("POST", "/api/v1/alerts/{fingerprint}/ack", ack_alert, "operator"),
    ("GET", "/api/v1/ack/{token}", confirm_ack_link, None),
    ("POST", "/api/v1/ack/{token}", ack_by_link, None),
    ("GET", "/api/v1/silences", list_silences, "viewer"),
    ("POST", "/api/v1/silences", add_silence, "operator"),
    ("DELETE", "/api/v1/silences/{id}", expire_silence, "operator"),
    ("GET", "/api/v1/incidents", list_incidents, "viewer"),
    ("GET", "/api/v1/incidents/{id}", get_incident, "viewer"),
    ("POST", "/api/v1/incidents/{id}/ack", ack_incident, "operator"),
    ("POST", "/api/v1/incidents/{id}/resolve", resolve_incident, "operator"),
    ("GET", "/api/v1/incidents/{id}/report", incident_report, "viewer"),
    ("POST", "/api/v1/reload", reload_config, "admin"),
)


def _guard(handler: Handler, role: str | None) -> Handler:
    if role is None:
        return handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        identity: Identity | None = (
            request.app[CONTEXT].tokens().identify(request.headers.get("Authorization"))
        )
        if identity is None:
            response = problem(
                401, "Unauthorized", "send Authorization: Bearer <token> from admin.tokens"
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="seawall"'
            return response
        if not identity.may(role):
            return problem(
                403, "Forbidden", f"this needs the {role} role; the token has {identity.role}"
            )
        request[IDENTITY] = identity
        return await handler(request)

    return guarded


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths and methods answer problem details; nothing leaks a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            response = problem(exc.status, exc.reason, exc.text or exc.reason)
            if "Allow" in exc.headers:  # a 405 must say which methods are allowed (RFC 9110)
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - a bug: logged with its traceback, a problem for the caller
        _log.exception("admin API %s %s failed", request.method, request.path)
        return problem(
            500, "Internal error", "seawall failed to answer; the admin server log has the details"
        )


def build_admin_app(ctx: AdminContext) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY)
    app[CONTEXT] = ctx
    for method, path, handler, role in ROUTES:
        app.router.add_route(method, path, _guard(handler, role))
    return app
