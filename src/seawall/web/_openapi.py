"""The admin API's OpenAPI 3.1 document, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from seawall.store import OutboxState
from seawall.web._operations import (
    DURATION_PATTERN,
    MAX_DURATION,
    MAX_LIMIT,
    MAX_REASON,
    NAME_PATTERN,
    UUID_PATTERN,
)
from seawall.web._sla import MONTH_PATTERN

__all__ = ["openapi_document"]

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }


_ERRORS = {
    "401": _problem("No or unknown bearer token"),
    "403": _problem("The token's role is too low"),
}
_STORE_DOWN = {"503": _problem("The store cannot be read or written")}

_NAME = {"type": "string", "pattern": f"^{NAME_PATTERN}$"}
_NULL = {"type": "null"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, _NULL]}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


def _outbox_paths() -> dict[str, Any]:
    message_param = {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The message's id (a UUID)",
        "schema": {"type": "string", "pattern": f"^{UUID_PATTERN}$"},
    }
    bad_id = {"400": _problem("The id is not a UUID")}
    unknown = {"404": _problem("No such message")}
    filters = [
        {
            "name": "state",
            "in": "query",
            "schema": {"type": "string", "enum": [s.value for s in OutboxState]},
        },
        {"name": "integration", "in": "query", "schema": _NAME},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
        },
    ]
    listing = _object(
        ["messages", "limit"],
        messages={"type": "array", "items": _ref("OutboxMessage")},
        limit={"type": "integer"},
    )
    return {
        "/api/v1/outbox": {
            "get": {
                "operationId": "listOutbox",
                "summary": "Queued writes, oldest first, without bodies or header values",
                "parameters": filters,
                "responses": {
                    "200": _ok("Messages", listing),
                    "400": _problem("A filter is invalid"),
                    **_ERRORS,
                    **_STORE_DOWN,
                },
            }
        },
        "/api/v1/outbox/{id}": {
            "get": {
                "operationId": "getOutboxMessage",
                "summary": "One queued write, without its body or header values",
                "parameters": [message_param],
                "responses": {
                    "200": _ok("The message", _ref("OutboxMessage")),
                    **bad_id,
                    **unknown,
                    **_ERRORS,
                    **_STORE_DOWN,
                },
            },
            "delete": {
                "operationId": "dropOutboxMessage",
                "summary": "Delete a queued write in any state; it is never sent (operator)",
                "parameters": [message_param],
                "responses": {
                    "204": {"description": "Dropped"},
                    **bad_id,
                    **unknown,
                    **_ERRORS,
                    **_STORE_DOWN,
                },
            },
        },
        "/api/v1/outbox/{id}/retry": {
            "post": {
                "operationId": "retryOutboxMessage",
                "summary": "Send a dead message back to pending, due at once (operator)",
                "parameters": [message_param],
                "responses": {
                    "200": _ok("The message, pending again", _ref("OutboxMessage")),
                    **bad_id,
                    **unknown,
                    "409": _problem("The message is not dead"),
                    **_ERRORS,
                    **_STORE_DOWN,
                },
            }
        },
    }


_NUMBER = {"type": "number"}
_INTEGER = {"type": "integer"}
_BOOLEAN = {"type": "boolean"}
_STRING = {"type": "string"}
_MAYBE_NUMBER = {"type": ["number", "null"]}


def _sla_path() -> dict[str, Any]:
    parameters = [
        {
            "name": "month",
            "in": "query",
            "description": "The calendar month (UTC) to report, YYYY-MM; default: the current one",
            "schema": {"type": "string", "pattern": f"^{MONTH_PATTERN}$"},
        },
        {
            "name": "sla",
            "in": "query",
            "description": "Only this SLA (a name under slas:); default: every configured SLA",
            "schema": _NAME,
        },
    ]
    reports = _object(
        ["version", "reports"],
        version={"type": "integer", "const": 1},
        reports={"type": "array", "items": _ref("SlaReport")},
    )
    return {
        "get": {
            "operationId": "getSlaReports",
            "summary": (
                "SLA reports: measured objectives, breaches, credits owed, error budgets "
                "(as seawall sla report --format json prints them)"
            ),
            "parameters": parameters,
            "responses": {
                "200": _ok("One report per SLA", reports),
                "400": _problem("The month is not YYYY-MM, or there is no such SLA"),
                **_ERRORS,
                **_STORE_DOWN,
            },
        }
    }


def _sla_schemas() -> dict[str, Any]:
    availability = _object(
        [
            "metric",
            "measure",
            "target",
            "value",
            "met",
            "good",
            "bad",
            "excluded",
            "exclude_maintenance",
            "no_traffic",
            "approximate",
            "budget_remaining",
            "note",
        ],
        metric={"const": "availability"},
        measure={"type": "string", "enum": ["calls", "minutes"]},
        target=_NUMBER,
        value=_NUMBER,
        met=_BOOLEAN,
        good=_INTEGER,
        bad=_INTEGER,
        excluded=_INTEGER,
        exclude_maintenance=_BOOLEAN,
        no_traffic=_BOOLEAN,
        approximate=_BOOLEAN,
        budget_remaining=_MAYBE_NUMBER,
        note=_STRING,
    )
    latency = _object(
        [
            "metric",
            "percentile",
            "threshold",
            "target",
            "value",
            "met",
            "within",
            "count",
            "percentile_value",
            "approximate",
            "no_traffic",
            "budget_remaining",
        ],
        metric={"const": "latency"},
        percentile=_NUMBER,
        threshold=_NUMBER,
        target=_NUMBER,
        value=_NUMBER,
        met=_BOOLEAN,
        within=_NUMBER,
        count=_INTEGER,
        percentile_value=_MAYBE_NUMBER,
        approximate=_BOOLEAN,
        no_traffic=_BOOLEAN,
        budget_remaining=_MAYBE_NUMBER,
    )
    period = _object(
        ["label", "start", "end", "measured_end", "complete"],
        label=_STRING,
        start=_NUMBER,
        end=_NUMBER,
        measured_end=_NUMBER,
        complete=_BOOLEAN,
    )
    summary = _object(
        ["count", "mean", "p50", "p95", "p99"],
        count=_INTEGER,
        mean=_MAYBE_NUMBER,
        p50=_MAYBE_NUMBER,
        p95=_MAYBE_NUMBER,
        p99=_MAYBE_NUMBER,
    )
    breach = _object(
        ["start", "end", "minutes", "attempts", "failures", "error_rate"],
        start=_NUMBER,
        end=_NUMBER,
        minutes=_INTEGER,
        attempts=_INTEGER,
        failures=_INTEGER,
        error_rate=_NUMBER,
    )
    credit = _object(
        ["availability", "tier_below", "credit", "fee", "months", "amount", "currency"],
        availability=_MAYBE_NUMBER,
        tier_below=_MAYBE_NUMBER,
        credit=_NUMBER,
        fee=_NUMBER,
        months=_NUMBER,
        amount=_NUMBER,
        currency=_STRING,
    )
    budget = _object(
        ["target", "allowed", "consumed", "remaining"],
        target=_NUMBER,
        allowed=_NUMBER,
        consumed=_NUMBER,
        remaining=_MAYBE_NUMBER,
    )
    burn = _object(
        ["label", "window", "start", "end", "bad_fraction", "rate"],
        label=_STRING,
        window=_NUMBER,
        start=_NUMBER,
        end=_NUMBER,
        bad_fraction=_NUMBER,
        rate=_MAYBE_NUMBER,
    )
    support = _object(
        ["response_time", "resolution_time", "escalation_contact", "escalation_after"],
        response_time=_MAYBE_NUMBER,
        resolution_time=_MAYBE_NUMBER,
        escalation_contact={"type": ["string", "null"]},
        escalation_after=_MAYBE_NUMBER,
    )
    totals = _object(
        ["attempts", "good", "bad", "throttled", "rejected"],
        attempts=_INTEGER,
        good=_INTEGER,
        bad=_INTEGER,
        throttled=_INTEGER,
        rejected=_INTEGER,
    )
    report = _object(
        [
            "name",
            "provider",
            "as_of",
            "period",
            "met",
            "objectives",
            "availability",
            "latency",
            "bad_minute_threshold",
            "breaches",
            "credit",
            "error_budget",
            "burn_rates",
            "support",
            "totals",
            "maintenance",
        ],
        name=_STRING,
        provider=_STRING,
        as_of=_NUMBER,
        period=period,
        met=_BOOLEAN,
        objectives={
            "type": "array",
            "items": {"anyOf": [_ref("AvailabilityResult"), _ref("LatencyResult")]},
        },
        availability=_nullable(_ref("AvailabilityResult")),
        latency=summary,
        bad_minute_threshold=_NUMBER,
        breaches={"type": "array", "items": breach},
        credit=credit,
        error_budget=_nullable(budget),
        burn_rates={"type": "array", "items": burn},
        support=support,
        totals=totals,
        maintenance={
            "type": "array",
            "items": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2},
        },
    )
    return {"SlaReport": report, "AvailabilityResult": availability, "LatencyResult": latency}


def _maintenance_path(integration_param: Any, provider_param: Any) -> dict[str, Any]:
    result = _ok("The provider's maintenance now", _ref("MaintenanceResult"))
    unknown = {"404": _problem("No such integration or provider")}
    return {
        "post": {
            "operationId": "startMaintenance",
            "summary": "Take a provider out of traffic now, for a while (operator)",
            "parameters": [integration_param, provider_param],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("MaintenanceRequest")}},
            },
            "responses": {
                "201": {**result, "description": "Started; the window now in effect"},
                "400": _problem("The body is not a valid duration and reason"),
                **unknown,
                **_ERRORS,
            },
        },
        "delete": {
            "operationId": "stopMaintenance",
            "summary": "End the provider's maintenance now, manual or scheduled (operator)",
            "parameters": [integration_param, provider_param],
            "responses": {"200": result, **unknown, **_ERRORS},
        },
    }


def openapi_document(version: str) -> dict[str, Any]:
    integration_param = {"name": "name", "in": "path", "required": True, "schema": _NAME}
    provider_param = {"name": "provider", "in": "path", "required": True, "schema": _NAME}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seawall admin API",
            "version": version,
            "description": (
                "Integrations, providers, breakers, maintenance windows, the durable "
                "outbox and the SLA reports of a running seawall."
            ),
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/integrations": {
                "get": {
                    "operationId": "listIntegrations",
                    "summary": "Integrations with providers, breaker states and recent outcomes",
                    "responses": {
                        "200": {
                            "description": "All integrations",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "integrations": {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/Integration"
                                                },
                                            }
                                        },
                                        "required": ["integrations"],
                                    }
                                }
                            },
                        },
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/integrations/{name}": {
                "get": {
                    "operationId": "getIntegration",
                    "parameters": [integration_param],
                    "responses": {
                        "200": {
                            "description": "One integration",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Integration"}
                                }
                            },
                        },
                        "404": _problem("No such integration"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/integrations/{name}/providers/{provider}/breaker": {
                "put": {
                    "operationId": "setBreaker",
                    "summary": "Force a breaker open, close it, or disable it (operator)",
                    "parameters": [integration_param, provider_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "state": {
                                            "type": "string",
                                            "enum": ["forced_open", "closed", "disabled"],
                                        }
                                    },
                                    "required": ["state"],
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The breaker's new state",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Provider"}
                                }
                            },
                        },
                        "400": _problem("The body is not a valid state"),
                        "404": _problem("No such integration or provider"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/integrations/{name}/providers/{provider}/maintenance": _maintenance_path(
                integration_param, provider_param
            ),
            **_outbox_paths(),
            "/api/v1/sla": _sla_path(),
            "/api/v1/reload": {
                "post": {
                    "operationId": "reload",
                    "summary": "Reload the configuration (admin); an invalid one is refused",
                    "responses": {
                        "200": {
                            "description": "Reloaded",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "422": _problem("The new configuration is invalid; the old one stays"),
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                    "required": ["type", "title", "status", "reason"],
                },
                "Health": _object(
                    ["status", "ejected_until", "reason", "ejections"],
                    status={
                        "type": "string",
                        "enum": ["healthy", "ejected", "probe_down", "recovering"],
                    },
                    ejected_until={"type": ["number", "null"]},
                    reason={"type": ["string", "null"]},
                    ejections={"type": "integer"},
                ),
                "MaintenanceWindow": _object(
                    ["phase", "start", "end", "reason"],
                    phase={"type": "string", "enum": ["draining", "open"]},
                    start={"type": "number"},
                    end={"type": ["number", "null"]},
                    reason={"type": "string"},
                    window_id={"type": ["string", "null"]},
                ),
                "MaintenanceRequest": {
                    **_object(
                        ["duration"],
                        duration={
                            "anyOf": [
                                {"type": "string", "pattern": f"^{DURATION_PATTERN}$"},
                                {"type": "number", "minimum": 1, "maximum": MAX_DURATION},
                            ]
                        },
                        reason={
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_REASON,
                            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
                        },
                    ),
                    "additionalProperties": False,
                },
                "MaintenanceResult": _object(
                    ["integration", "provider", "maintenance", "current_provider"],
                    integration={"type": "string"},
                    provider={"type": "string"},
                    maintenance=_nullable(_ref("MaintenanceWindow")),
                    current_provider={"type": ["string", "null"]},
                    ended=_nullable(_ref("MaintenanceWindow")),
                ),
                "Provider": _object(
                    ["name", "role", "breaker", "health", "maintenance", "probe"],
                    name={"type": "string"},
                    role={"type": "string"},
                    base_url={"type": "string"},
                    breaker={
                        "type": "string",
                        "enum": ["closed", "open", "half_open", "forced_open", "disabled"],
                    },
                    health=_ref("Health"),
                    maintenance=_nullable(_ref("MaintenanceWindow")),
                    probe=_nullable(_object(["ok"], ok={"type": "boolean"})),
                ),
                "Integration": _object(
                    ["name", "providers", "current_provider", "failovers", "outbox"],
                    name={"type": "string"},
                    criticality={"type": "string"},
                    routing={"type": "string"},
                    inflight={"type": "integer"},
                    current_provider={"type": ["string", "null"]},
                    failovers={"type": "integer", "minimum": 0},
                    providers={"type": "array", "items": _ref("Provider")},
                    outbox=_nullable(
                        _object(
                            ["depth", "oldest_seconds"],
                            depth={"type": ["integer", "null"]},
                            oldest_seconds={"type": ["number", "null"]},
                        )
                    ),
                    recent={"type": "object"},
                ),
                "OutboxMessage": _object(
                    [
                        "id",
                        "integration",
                        "state",
                        "method",
                        "target",
                        "header_names",
                        "body_bytes",
                        "attempts",
                        "created_at",
                    ],
                    id={"type": "string"},
                    seq={"type": "integer"},
                    integration={"type": "string"},
                    state={"type": "string", "enum": [s.value for s in OutboxState]},
                    method={"type": "string"},
                    target={"type": "string", "description": "Query values shown as ***"},
                    order_key={"type": "string"},
                    idempotency_key={"type": "string"},
                    header_names={"type": "array", "items": {"type": "string"}},
                    body_bytes={"type": "integer", "minimum": 0},
                    attempts={"type": "integer", "minimum": 0},
                    next_attempt_at={"type": "number"},
                    lease_until={"type": ["number", "null"]},
                    created_at={"type": "number"},
                    updated_at={"type": "number"},
                    delivered_at={"type": ["number", "null"]},
                    last_error={"type": ["string", "null"]},
                    provider={"type": ["string", "null"]},
                    response_status={"type": ["integer", "null"]},
                ),
                **_sla_schemas(),
            },
        },
    }
