"""The admin server: ``/api/v1`` (OpenAPI), ``/metrics``, ``/healthz``.

Routes are listed once, as data, each with the least role that may call it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from seawall._states import BreakerState
from seawall.config import Finding
from seawall.engine import Engine
from seawall.web._auth import Identity, TokenBook
from seawall.web._openapi import openapi_document
from seawall.web._recent import RecentCalls

__all__ = ["AdminContext", "build_admin_app"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True, kw_only=True)
class AdminContext:
    """What the admin API reads and drives; the service supplies it."""

    engine: Callable[[], Engine]
    tokens: Callable[[], TokenBook]
    recent: RecentCalls
    metrics: Callable[[str | None], tuple[bytes, str]]
    reload: Callable[[], Awaitable[list[Finding]]]
    version: str


_CONTEXT: web.AppKey[AdminContext] = web.AppKey("seawall.admin", AdminContext)
_SETTABLE = {
    "forced_open": BreakerState.FORCED_OPEN,
    "closed": BreakerState.CLOSED,
    "disabled": BreakerState.DISABLED,
}
_MAX_BODY = 16 * 1024


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type="application/json"
    )


def _problem(reason_status: int, title: str, detail: str) -> web.Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": reason_status,
        "detail": detail,
        "reason": title.lower().replace(" ", "-"),
    }
    return web.Response(
        status=reason_status,
        body=json.dumps(body).encode(),
        content_type="application/problem+json",
    )


def _provider_view(engine: Engine, integration: str, name: str) -> dict[str, Any]:
    runtime = engine.integration(integration).by_name[name]
    return {
        "name": name,
        "role": runtime.role,
        "base_url": runtime.target.base_url,
        "breaker": engine.breaker_state(integration, name).value,
    }


def _integration_view(ctx: AdminContext, engine: Engine, name: str) -> dict[str, Any]:
    runtime = engine.integration(name)
    return {
        "name": name,
        "description": runtime.spec.description,
        "criticality": runtime.spec.criticality,
        "routing": runtime.spec.routing,
        "inflight": runtime.inflight,
        "queued": runtime.bulkhead.queued,
        "providers": [_provider_view(engine, name, p.name) for p in runtime.providers],
        "recent": ctx.recent.summary(name),
    }


async def list_integrations(request: web.Request) -> web.StreamResponse:
    ctx = request.app[_CONTEXT]
    engine = ctx.engine()
    return _json({"integrations": [_integration_view(ctx, engine, n) for n in engine.integrations]})


async def get_integration(request: web.Request) -> web.StreamResponse:
    ctx = request.app[_CONTEXT]
    engine = ctx.engine()
    name = request.match_info["name"]
    if name not in engine.integrations:
        return _problem(404, "Not found", f"no integration named '{name}'")
    return _json(_integration_view(ctx, engine, name))


async def set_breaker(request: web.Request) -> web.StreamResponse:
    ctx = request.app[_CONTEXT]
    engine = ctx.engine()
    name = request.match_info["name"]
    provider = request.match_info["provider"]
    if name not in engine.integrations or provider not in engine.integration(name).by_name:
        return _problem(404, "Not found", f"no provider '{provider}' in integration '{name}'")
    if request.content_length is not None and request.content_length > _MAX_BODY:
        return _problem(400, "Bad request", "the body is too large")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _problem(
            400, "Bad request", 'send JSON: {"state": "forced_open" | "closed" | "disabled"}'
        )
    state = body.get("state") if isinstance(body, dict) else None
    if not isinstance(state, str) or state not in _SETTABLE or set(body) != {"state"}:
        return _problem(
            400, "Bad request", 'state must be one of "forced_open", "closed", "disabled"'
        )
    engine.set_breaker(name, provider, _SETTABLE[state])
    return _json(_provider_view(engine, name, provider))


async def reload_config(request: web.Request) -> web.StreamResponse:
    ctx = request.app[_CONTEXT]
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
    return _json({"reloaded": True})


async def openapi(request: web.Request) -> web.StreamResponse:
    return _json(openapi_document(request.app[_CONTEXT].version))


async def metrics(request: web.Request) -> web.StreamResponse:
    body, content_type = request.app[_CONTEXT].metrics(request.headers.get("Accept"))
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


async def healthz(request: web.Request) -> web.StreamResponse:
    return _json({"status": "ok"})


#: (method, path, handler, least role or None for open endpoints)
ROUTES: tuple[tuple[str, str, Handler, str | None], ...] = (
    ("GET", "/healthz", healthz, None),
    ("GET", "/metrics", metrics, None),
    ("GET", "/api/v1/openapi.json", openapi, None),
    ("GET", "/api/v1/integrations", list_integrations, "viewer"),
    ("GET", "/api/v1/integrations/{name}", get_integration, "viewer"),
    ("PUT", "/api/v1/integrations/{name}/providers/{provider}/breaker", set_breaker, "operator"),
    ("POST", "/api/v1/reload", reload_config, "admin"),
)


def _guard(handler: Handler, role: str | None) -> Handler:
    if role is None:
        return handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        identity: Identity | None = (
            request.app[_CONTEXT].tokens().identify(request.headers.get("Authorization"))
        )
        if identity is None:
            response = _problem(
                401, "Unauthorized", "send Authorization: Bearer <token> from admin.tokens"
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="seawall"'
            return response
        if not identity.may(role):
            return _problem(
                403, "Forbidden", f"this needs the {role} role; the token has {identity.role}"
            )
        return await handler(request)

    return guarded


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths and methods answer problem details; nothing leaks a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            response = _problem(exc.status, exc.reason, exc.text or exc.reason)
            if "Allow" in exc.headers:  # a 405 must say which methods are allowed (RFC 9110)
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise


def build_admin_app(ctx: AdminContext) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=_MAX_BODY)
    app[_CONTEXT] = ctx
    for method, path, handler, role in ROUTES:
        app.router.add_route(method, path, _guard(handler, role))
    return app
