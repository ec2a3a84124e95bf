"""The admin API's OpenAPI 3.1 document, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any, get_args

from seawall.alerts import AlertState, RuleKind
from seawall.notify import DeliveryStatus, NoticeKind, TargetKind
from seawall.store import IncidentState, OutboxState
from seawall.web._oncall import (
    FINGERPRINT_PATTERN,
    INCIDENT_ID_DIGITS,
    LABEL_PATTERN,
    MAX_ACK_NAME,
    MAX_MATCHERS,
    MAX_VALUE,
    SILENCE_ID_PATTERN,
    TOKEN_PATTERN,
)
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


# -- alerts, silences, acknowledgements, incidents ------------------------------------------

#: printable text, as near as a pattern gets to the handlers' str.isprintable() (which also
#: refuses format, separator, private-use and unassigned characters: a 400 says so)
_PRINTABLE = "[^\\u0000-\\u001f\\u007f-\\u009f]"
_SEVERITY = ["critical", "warning", "info"]
_NULLABLE_STRING = {"type": ["string", "null"]}
_LABELS = {"type": "object", "additionalProperties": _STRING}
_NOT_READY = {
    "503": _problem("The store cannot be read or written, or alerting is not running yet")
}
_FINGERPRINT = {"type": "string", "pattern": f"^{FINGERPRINT_PATTERN}$"}


def _closed(**properties: Any) -> dict[str, Any]:
    """An object with exactly these properties, all of them always present."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _enum(values: Any, *, nullable: bool = False) -> dict[str, Any]:
    choices = list(values)
    if nullable:
        return {"type": ["string", "null"], "enum": [*choices, None]}
    return {"type": "string", "enum": choices}


def _path_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _operation(
    operation_id: str, summary: str, responses: dict[str, Any], **more: Any
) -> dict[str, Any]:
    return {"operationId": operation_id, "summary": summary, **more, "responses": responses}


def _text(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": _STRING}}}


def _alert_paths() -> dict[str, Any]:
    fingerprint = _path_param(
        "fingerprint", "The alert series' fingerprint, as GET /api/v1/alerts shows", _FINGERPRINT
    )
    token = _path_param(
        "token",
        "The signed token of an acknowledge link from a notification",
        {"type": "string", "pattern": f"^{TOKEN_PATTERN}$"},
    )
    acked = _closed(acknowledged={"const": True}, fingerprint=_FINGERPRINT, by=_STRING)
    by_link = _closed(acknowledged={"const": True}, group=_STRING, by=_STRING)
    gone = {"404": _problem("The link is unknown or expired, or nothing fires for it any more")}
    form = {
        "type": "object",
        "properties": {
            "by": {
                "type": "string",
                "maxLength": MAX_ACK_NAME,
                "pattern": f"^{_PRINTABLE}*$",
                "description": "Your name; blank or absent: 'acknowledge link'",
            }
        },
        "additionalProperties": False,
    }
    return {
        "/api/v1/alerts": {
            "get": _operation(
                "listAlerts",
                "Every alert rule's series with its state, the notification groups and "
                "delivery counts per channel or contact",
                {"200": _ok("Alerts", _ref("AlertsListing")), **_ERRORS, **_NOT_READY},
            )
        },
        "/api/v1/alerts/{fingerprint}/ack": {
            "post": _operation(
                "ackAlert",
                "Acknowledge a firing alert: its escalation stops (operator)",
                {
                    "200": _ok("Acknowledged", acked),
                    "400": _problem("The fingerprint is not 16 hex digits"),
                    "404": _problem("No firing alert has this fingerprint"),
                    **_ERRORS,
                    **_NOT_READY,
                },
                parameters=[fingerprint],
            )
        },
        "/api/v1/ack/{token}": {
            "get": _operation(
                "confirmAckLink",
                "The page an acknowledge link opens: a confirmation form; nothing is "
                "acknowledged yet (the signed token is the permission: no bearer token)",
                {"200": _text("text/html", "The confirmation page"), **gone, **_NOT_READY},
                parameters=[token],
                security=[],
            ),
            "post": _operation(
                "ackByLink",
                "Acknowledge the link's notification group and its alerts (no bearer token); "
                "answers HTML when Accept asks for text/html",
                {
                    "200": {
                        "description": "Acknowledged",
                        "content": {
                            "application/json": {"schema": by_link},
                            "text/html": {"schema": _STRING},
                        },
                    },
                    "400": _problem("The form is not just by=<name>, or the name is not text"),
                    **gone,
                    **_NOT_READY,
                },
                parameters=[token],
                security=[],
                requestBody={
                    "required": False,
                    "content": {"application/x-www-form-urlencoded": {"schema": form}},
                },
            ),
        },
    }


def _silence_paths() -> dict[str, Any]:
    silence = _path_param(
        "id",
        "The silence's id, as GET /api/v1/silences shows",
        {"type": "string", "pattern": f"^{SILENCE_ID_PATTERN}$"},
    )
    listing = _closed(silences={"type": "array", "items": _ref("ListedSilence")})
    return {
        "/api/v1/silences": {
            "get": _operation(
                "listSilences",
                "The configuration's silences and the live ones, ended ones included",
                {"200": _ok("Silences", listing), **_ERRORS, **_NOT_READY},
            ),
            "post": _operation(
                "addSilence",
                "Mute the notifications of matching alerts for a while (operator)",
                {
                    "201": _ok("Added", _ref("Silence")),
                    "400": _problem("The matchers, duration, start or comment are invalid"),
                    **_ERRORS,
                    **_NOT_READY,
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _ref("SilenceRequest"),
                            "example": {
                                "matchers": {"integration": "payments", "provider": "stripe"},
                                "duration": "2h",
                                "comment": "vendor upgrade",
                            },
                        }
                    },
                },
            ),
        },
        "/api/v1/silences/{id}": {
            "delete": _operation(
                "expireSilence",
                "End a live silence now (operator)",
                {
                    "200": _ok("The silence, ended", _ref("Silence")),
                    "400": _problem("The id is not a silence id"),
                    "404": _problem("No such silence"),
                    "409": _problem("The silence comes from the configuration"),
                    **_ERRORS,
                    **_NOT_READY,
                },
                parameters=[silence],
            )
        },
    }


def _incident_paths() -> dict[str, Any]:
    incident = _path_param(
        "id",
        "The incident's number, as GET /api/v1/incidents shows",
        {"type": "integer", "minimum": 0, "maximum": 10**INCIDENT_ID_DIGITS - 1},
    )
    bad_id = {"400": _problem("The id is not an incident number")}
    unknown = {"404": _problem("No such incident")}
    filters = [
        {"name": "state", "in": "query", "schema": _enum(s.value for s in IncidentState)},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
        },
    ]
    report_format = {
        "name": "format",
        "in": "query",
        "schema": {**_enum(["markdown", "html"]), "default": "markdown"},
    }
    listing = _closed(incidents={"type": "array", "items": _ref("Incident")})

    def move(operation_id: str, summary: str, conflict: str) -> dict[str, Any]:
        responses = {
            "200": _ok("The incident now", _ref("Incident")),
            **bad_id,
            **unknown,
            "409": _problem(conflict),
            **_ERRORS,
            **_NOT_READY,
        }
        return {"post": _operation(operation_id, summary, responses, parameters=[incident])}

    return {
        "/api/v1/incidents": {
            "get": _operation(
                "listIncidents",
                "Incidents, newest first",
                {
                    "200": _ok("Incidents", listing),
                    "400": _problem("A filter is invalid"),
                    **_ERRORS,
                    **_NOT_READY,
                },
                parameters=filters,
            )
        },
        "/api/v1/incidents/{id}": {
            "get": _operation(
                "getIncident",
                "One incident with its timeline",
                {
                    "200": _ok("The incident", _ref("IncidentWithTimeline")),
                    **bad_id,
                    **unknown,
                    **_ERRORS,
                    **_NOT_READY,
                },
                parameters=[incident],
            )
        },
        "/api/v1/incidents/{id}/ack": move(
            "ackIncident",
            "Acknowledge an open incident and its alerts; escalations stop (operator)",
            "The incident is acknowledged or resolved already",
        ),
        "/api/v1/incidents/{id}/resolve": move(
            "resolveIncident",
            "Resolve an incident (operator)",
            "The incident is resolved already",
        ),
        "/api/v1/incidents/{id}/report": {
            "get": _operation(
                "getIncidentReport",
                "The incident's report: impact, timeline, notifications, SLA impact",
                {
                    "200": {
                        "description": "The report, in Markdown or HTML as format= asks",
                        "content": {
                            "text/markdown": {"schema": _STRING},
                            "text/html": {"schema": _STRING},
                        },
                    },
                    "400": _problem("The id or the format is invalid"),
                    **unknown,
                    **_ERRORS,
                    **_NOT_READY,
                },
                parameters=[incident, report_format],
            )
        },
    }


def _oncall_schemas() -> dict[str, Any]:
    maybe_number = _MAYBE_NUMBER
    alert = _closed(
        rule=_STRING,
        kind=_enum(get_args(RuleKind)),
        severity=_enum(_SEVERITY),
        labels=_LABELS,
        fingerprint=_FINGERPRINT,
        state=_enum(get_args(AlertState)),
        since=maybe_number,
        active_since=maybe_number,
        fired_at=maybe_number,
        value={**maybe_number, "description": "The last measurement; null: no data"},
        threshold=maybe_number,
        summary=_STRING,
        note={"type": "string", "description": "learning, no data, not applicable, error ..."},
        baseline={
            "type": ["object", "null"],
            "description": "The learned band of a baseline rule: median, sigma, samples, slot",
            "additionalProperties": {"type": ["number", "string", "null"]},
        },
        evaluated_at=maybe_number,
    )
    group_alert = _closed(
        fingerprint=_FINGERPRINT,
        alertname=_STRING,
        state=_enum(["firing", "resolved"]),
        severity=_enum(_SEVERITY),
        value=maybe_number,
        since=_NUMBER,
        muted={**_NULLABLE_STRING, "description": "The silence or inhibition keeping it quiet"},
    )
    group = _closed(
        key=_STRING,
        route={"type": "integer", "minimum": 0},
        labels=_LABELS,
        state=_enum(["pending", "firing", "silenced", "acknowledged", "resolved"]),
        alerts={"type": "array", "items": group_alert},
        created_at=_NUMBER,
        first_sent_at=maybe_number,
        last_sent_at=maybe_number,
        last_kind=_enum(get_args(NoticeKind), nullable=True),
        next_message_at=maybe_number,
        escalation=_NULLABLE_STRING,
        next_step={"type": ["integer", "null"], "minimum": 0},
        next_step_at=maybe_number,
        escalation_stopped=_NULLABLE_STRING,
        acked_by=_NULLABLE_STRING,
        acked_at=maybe_number,
        reached={"type": "array", "items": _STRING},
    )
    count = {"type": "integer", "minimum": 0}
    delivery = _closed(
        target=_STRING,
        target_kind=_enum(get_args(TargetKind)),
        delivered=count,
        failed=count,
        queued=count,
        last_status=_enum(get_args(DeliveryStatus), nullable=True),
        last_error=_NULLABLE_STRING,
        last_at=maybe_number,
    )
    silence_fields: dict[str, Any] = {
        "id": _STRING,
        "matchers": _LABELS,
        "starts_at": {**maybe_number, "description": "null: no start (a configured silence)"},
        "ends_at": _NUMBER,
        "comment": _STRING,
        "created_by": _STRING,
        "source": _enum(["config", "live"]),
    }
    silence_request = {
        **_object(
            ["matchers", "duration"],
            matchers={
                "type": "object",
                "description": "Label = value, or * for any value of a present label; "
                "at least one names a value",
                "minProperties": 1,
                "maxProperties": MAX_MATCHERS,
                "propertyNames": {"pattern": f"^{LABEL_PATTERN}$"},
                "additionalProperties": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_VALUE,
                    "pattern": f"^{_PRINTABLE}+$",
                },
                "not": {"additionalProperties": {"const": "*"}},
            },
            duration={
                "anyOf": [
                    {"type": "string", "pattern": f"^{DURATION_PATTERN}$"},
                    {"type": "number", "minimum": 1, "maximum": MAX_DURATION},
                ]
            },
            starts_at={
                "type": "number",
                "description": "Unix seconds, from a day ago to a year ahead; default: now",
            },
            comment={"type": "string", "maxLength": MAX_REASON, "pattern": f"^{_PRINTABLE}*$"},
        ),
        "additionalProperties": False,
    }
    incident_fields: dict[str, Any] = {
        "id": {"type": "integer", "minimum": 0},
        "title": _STRING,
        "severity": _enum(_SEVERITY),
        "state": _enum(s.value for s in IncidentState),
        "integrations": {"type": "array", "items": _STRING},
        "providers": {
            "type": "array",
            "items": {**_STRING, "description": "integration/provider"},
        },
        "trigger": _STRING,
        "opened_at": _NUMBER,
        "impact_started_at": _NUMBER,
        "acknowledged_at": maybe_number,
        "acknowledged_by": _NULLABLE_STRING,
        "resolved_at": maybe_number,
        "resolved_by": _NULLABLE_STRING,
    }
    entry = _closed(
        at=_NUMBER,
        kind=_STRING,
        integration=_NULLABLE_STRING,
        provider=_NULLABLE_STRING,
        text=_STRING,
        count={"type": "integer", "minimum": 1},
        last_at={**maybe_number, "description": "The last folded event's time"},
    )
    return {
        "AlertsListing": _closed(
            alerts={"type": "array", "items": _ref("Alert")},
            groups={"type": "array", "items": _ref("NotificationGroup")},
            deliveries={"type": "array", "items": _ref("DeliveryTarget")},
        ),
        "Alert": alert,
        "NotificationGroup": group,
        "DeliveryTarget": delivery,
        "Silence": _closed(**silence_fields),
        "ListedSilence": _closed(**silence_fields, active=_BOOLEAN),
        "SilenceRequest": silence_request,
        "Incident": _closed(**incident_fields),
        "IncidentWithTimeline": _closed(
            **incident_fields, timeline={"type": "array", "items": _ref("TimelineEntry")}
        ),
        "TimelineEntry": entry,
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
                "outbox, the SLA reports, alerts, silences and incidents of a running seawall."
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
            **_alert_paths(),
            **_silence_paths(),
            **_incident_paths(),
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
                **_oncall_schemas(),
            },
        },
    }
