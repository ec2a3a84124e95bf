"""Alerts, silences, acknowledgements and incidents over the admin API.

Everything here goes through the service's :class:`~seawall.oncall.OnCall`
and the store. Acknowledge links in notifications carry a signed token (the
token is the permission, so the endpoint needs no bearer token); opening the
link shows a confirmation page and only its POST acknowledges, so a mail
scanner that follows links cannot acknowledge an alert for you.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from typing import Any

from aiohttp import web

from seawall._errors import SeawallError
from seawall.incidents import (
    Incident,
    IncidentState,
    InvalidIncidentMove,
    build_incident_report,
    render_html,
    render_markdown,
    timeline,
)
from seawall.notify import SilenceRecord
from seawall.oncall import OnCall, as_plain
from seawall.web._operations import (
    CONTEXT,
    MAX_LIMIT,
    MAX_REASON,
    Invalid,
    caller,
    json_response,
    parse_window_duration,
    problem,
    read_json,
    record_action,
    with_problems,
)

__all__ = [
    "FINGERPRINT_PATTERN",
    "INCIDENT_ID_DIGITS",
    "LABEL_PATTERN",
    "MAX_ACK_NAME",
    "MAX_MATCHERS",
    "MAX_VALUE",
    "SILENCE_ID_PATTERN",
    "TOKEN_PATTERN",
    "ack_alert",
    "ack_by_link",
    "ack_incident",
    "add_silence",
    "confirm_ack_link",
    "expire_silence",
    "get_incident",
    "incident_report",
    "incident_view",
    "list_alerts",
    "list_incidents",
    "list_silences",
    "resolve_incident",
]

#: the documented patterns (OpenAPI) and the checks here are the same expressions
FINGERPRINT_PATTERN = r"[0-9a-f]{16}"
#: base64url payload (expiry and a group key of up to 1024 bytes) and MAC, as AckSigner mints them
TOKEN_PATTERN = r"[A-Za-z0-9_-]{1,1400}\.[A-Za-z0-9_-]{1,100}"  # noqa: S105 - a pattern
LABEL_PATTERN = r"[a-zA-Z_][a-zA-Z0-9_]{0,63}"
SILENCE_ID_PATTERN = r"[A-Za-z0-9_.:-]{1,64}"
#: an incident id is a whole number of at most this many digits
INCIDENT_ID_DIGITS = 12
MAX_MATCHERS = 16
MAX_VALUE = 256
#: how far back and ahead (seconds) a new silence may start
_STARTS_BEHIND = 86400
_STARTS_AHEAD = 365 * 86400
_LINK = " (link)"
#: the longest name the acknowledge form takes; with " (link)" it fits the notifier's 128
MAX_ACK_NAME = 128 - len(_LINK)
#: what str.isprintable() refuses, which the checks here use
_UNPRINTABLE = "no control, format, separator (but space), private-use or unassigned characters"
_SILENCE_HINT = (
    '{"matchers": {"integration": "payments"}, "duration": "2h", "comment": "vendor upgrade"}'
)


def _oncall(request: web.Request) -> OnCall:
    """The started on-call part; _NotReady (a 503) before the service has started it."""
    oncall = request.app[CONTEXT].oncall()
    try:
        # OnCall.start sets the incident book last: with it, the store and notifier are there
        started = oncall is not None and oncall.incidents is not None
    except SeawallError:
        started = False
    if oncall is None or not started:
        msg = "alerting is not running yet; try again once the service has started"
        raise _NotReady(msg)
    return oncall


class _NotReady(SeawallError):
    """The service has not started its on-call part yet."""


def _ready(handler: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except _NotReady as exc:
            return problem(503, "Not ready", exc.message)
        return response

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return with_problems(wrapped)


def _plain(value: Any) -> Any:
    """JSON values of a view; a non-finite number (not valid JSON, RFC 8259) becomes null."""
    value = as_plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# -- alerts -------------------------------------------------------------------------------


@_ready
async def list_alerts(request: web.Request) -> web.StreamResponse:
    """Every rule's series with its state, and the notification groups."""
    oncall = _oncall(request)
    notifier = oncall.notifications().to_dict()
    return json_response(
        {
            "alerts": [_plain(dataclasses.asdict(s)) for s in oncall.statuses()],
            "groups": _plain(notifier["groups"]),
            "deliveries": _plain(notifier["deliveries"]),
        }
    )


@_ready
async def ack_alert(request: web.Request) -> web.StreamResponse:
    fingerprint = request.match_info["fingerprint"]
    if not re.fullmatch(FINGERPRINT_PATTERN, fingerprint):
        raise Invalid("an alert fingerprint is 16 hex digits, as GET /api/v1/alerts shows")
    oncall = _oncall(request)
    by = caller(request)
    if not await oncall.ack_alert(fingerprint, by=by):
        return problem(404, "Not found", f"no firing alert {fingerprint}")
    await record_action(request, "alert-acknowledged", fingerprint=fingerprint)
    return json_response({"acknowledged": True, "fingerprint": fingerprint, "by": by})


_CONFIRM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acknowledge alert</title></head>
<body><h1>Acknowledge {what}?</h1>
<p>This stops its escalation; its notifications pause until something new fires.</p>
<form method="post"><label>Your name <input name="by" maxlength="{longest}" required></label>
<button type="submit">Acknowledge</button></form></body></html>
"""

_DONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acknowledged</title></head>
<body><h1>Acknowledged</h1><p>{what} was acknowledged by {by}.</p></body></html>
"""


def _token_group(request: web.Request, oncall: OnCall) -> str | None:
    token = request.match_info["token"]
    if not re.fullmatch(TOKEN_PATTERN, token):
        return None
    return oncall.verify_ack_token(token)


async def _link_name(request: web.Request) -> str:
    """Who acknowledges through a link: the form's ``by``, else "acknowledge link"."""
    if request.content_type != "application/x-www-form-urlencoded":
        return "acknowledge link"
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise Invalid("the form is too large") from None
    unknown = set(form) - {"by"}
    if unknown:
        raise Invalid(f"unknown form field(s) {sorted(unknown)}; send only by=<your name>")
    named = form.getall("by", [])
    if len(named) > 1:
        raise Invalid("give by once")
    text = named[0] if named else ""
    if not isinstance(text, str) or len(text) > MAX_ACK_NAME or not text.isprintable():
        msg = f"by is your name, of at most {MAX_ACK_NAME} printable characters: {_UNPRINTABLE}"
        raise Invalid(msg)
    return f"{text.strip()}{_LINK}" if text.strip() else "acknowledge link"


@_ready
async def confirm_ack_link(request: web.Request) -> web.StreamResponse:
    """The page an acknowledge link opens: a confirmation, nothing acknowledged yet."""
    group = _token_group(request, _oncall(request))
    if group is None:
        return problem(404, "Not found", "this acknowledge link is unknown or has expired")
    body = _CONFIRM.format(what=html.escape(f"the alerts of {group}"), longest=MAX_ACK_NAME)
    return web.Response(text=body, content_type="text/html")


@_ready
async def ack_by_link(request: web.Request) -> web.StreamResponse:
    """The confirmation's POST: acknowledges the link's notification group."""
    oncall = _oncall(request)
    group = _token_group(request, oncall)
    if group is None:
        return problem(404, "Not found", "this acknowledge link is unknown or has expired")
    by = await _link_name(request)
    if not await oncall.ack_group(group, by=by):
        return problem(404, "Not found", "nothing is firing for this link any more")
    await record_action(request, "alert-acknowledged", group=group, link=True, by_name=by)
    if "text/html" in request.headers.get("Accept", ""):
        text = _DONE.format(what=html.escape(group), by=html.escape(by))
        return web.Response(text=text, content_type="text/html")
    return json_response({"acknowledged": True, "group": group, "by": by})


# -- silences -----------------------------------------------------------------------------


def _silence_view(record: SilenceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "matchers": dict(record.matchers),
        # a configured silence without starts_at starts at -inf: shown as null (no start)
        "starts_at": record.starts_at if math.isfinite(record.starts_at) else None,
        "ends_at": record.ends_at,
        "comment": record.comment,
        "created_by": record.created_by,
        "source": record.source,
    }


@_ready
async def list_silences(request: web.Request) -> web.StreamResponse:
    oncall = _oncall(request)
    now = request.app[CONTEXT].wall()
    records = oncall.notifier.silences.records()
    return json_response(
        {"silences": [{**_silence_view(r), "active": r.active(now)} for r in records]}
    )


def _matchers(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not 1 <= len(value) <= MAX_MATCHERS:
        raise Invalid(f"matchers is an object of 1 to {MAX_MATCHERS} labels: {_SILENCE_HINT}")
    out: dict[str, str] = {}
    for key, wanted in value.items():
        if not re.fullmatch(LABEL_PATTERN, key):
            raise Invalid(f"'{key[:64]}' is not a label name (letters, digits, _)")
        if not isinstance(wanted, str) or not 1 <= len(wanted) <= MAX_VALUE:
            raise Invalid(f"matcher {key} needs text of 1 to {MAX_VALUE} characters")
        if not wanted.isprintable():
            raise Invalid(f"matcher {key} must be printable text: {_UNPRINTABLE}")
        out[key] = wanted
    return out


def _text_field(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Invalid(f"{key} is printable text of at most {limit} characters: {_UNPRINTABLE}")
    return value


@_ready
async def add_silence(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, _SILENCE_HINT)
    if not isinstance(body, dict):
        raise Invalid(f"send a JSON object: {_SILENCE_HINT}")
    unknown = set(body) - {"matchers", "duration", "starts_at", "comment"}
    if unknown:
        raise Invalid(f"unknown field(s) {sorted(unknown)}; send {_SILENCE_HINT}")
    if "matchers" not in body or "duration" not in body:
        raise Invalid(f"matchers and duration are required: {_SILENCE_HINT}")
    matchers = _matchers(body["matchers"])
    try:
        duration = parse_window_duration(body["duration"])
    except (Invalid, OverflowError):  # OverflowError: an integer too large for a float
        msg = f'duration is "30m" or seconds as a number, from 1s to 30d: {_SILENCE_HINT}'
        raise Invalid(msg) from None
    now = request.app[CONTEXT].wall()
    starts_at = body.get("starts_at", now)
    # compared before any float(): NaN and infinities fail the range, huge integers too
    if (
        isinstance(starts_at, bool)
        or not isinstance(starts_at, int | float)
        or not now - _STARTS_BEHIND <= starts_at <= now + _STARTS_AHEAD
    ):
        raise Invalid("starts_at is a Unix time in seconds, from a day ago to a year ahead")
    comment = _text_field(body, "comment", MAX_REASON)
    oncall = _oncall(request)
    try:
        record = await oncall.add_silence(
            matchers,
            starts_at=float(starts_at),
            ends_at=float(starts_at) + duration,
            comment=comment,
            created_by=caller(request),
        )
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    await record_action(request, "silence-added", silence=record.id, matchers=matchers)
    return json_response(_silence_view(record), status=201)


@_ready
async def expire_silence(request: web.Request) -> web.StreamResponse:
    silence_id = request.match_info["id"]
    if not re.fullmatch(SILENCE_ID_PATTERN, silence_id):
        raise Invalid("a silence id is the id GET /api/v1/silences shows")
    oncall = _oncall(request)
    try:
        record = await oncall.expire_silence(silence_id)
    except ValueError as exc:
        return problem(409, "Conflict", str(exc))
    if record is None:
        return problem(404, "Not found", f"no silence {silence_id}")
    await record_action(request, "silence-expired", silence=silence_id)
    return json_response(_silence_view(record))


# -- incidents ----------------------------------------------------------------------------


def incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "state": incident.state.value,
        "integrations": list(incident.integrations),
        "providers": list(incident.providers),
        "trigger": incident.trigger,
        "opened_at": incident.opened_at,
        "impact_started_at": incident.impact_started_at,
        "acknowledged_at": incident.acknowledged_at,
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": incident.resolved_at,
        "resolved_by": incident.resolved_by,
    }


def _incident_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not re.fullmatch(f"[0-9]{{1,{INCIDENT_ID_DIGITS}}}", text):
        raise Invalid("an incident id is a whole number, as GET /api/v1/incidents shows")
    return int(text)


@_ready
async def list_incidents(request: web.Request) -> web.StreamResponse:
    state_text = request.query.get("state")
    state = None
    if state_text is not None:
        try:
            state = IncidentState(state_text)
        except ValueError:
            choices = ", ".join(s.value for s in IncidentState)
            raise Invalid(f"state must be one of {choices}") from None
    limit_text = request.query.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,4}", limit_text) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise Invalid(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    store = _oncall(request).store
    incidents = await store.incidents.list(state=state, limit=int(limit_text))
    return json_response({"incidents": [incident_view(i) for i in incidents]})


@_ready
async def get_incident(request: web.Request) -> web.StreamResponse:
    wanted = _incident_id(request)
    store = _oncall(request).store
    incident = await store.incidents.get(wanted)
    if incident is None:
        return problem(404, "Not found", f"no incident {wanted}")
    entries = await timeline(store, incident, now=request.app[CONTEXT].wall())
    return json_response(
        {
            **incident_view(incident),
            "timeline": [_plain(dataclasses.asdict(e)) for e in entries],
        }
    )


async def _move(request: web.Request, action: str) -> web.StreamResponse:
    wanted = _incident_id(request)
    oncall = _oncall(request)
    by = caller(request)
    try:
        if action == "acknowledged":
            incident = await oncall.ack_incident(wanted, by=by)
        else:
            incident = await oncall.incidents.resolve(wanted, by=by)
    except LookupError:
        return problem(404, "Not found", f"no incident {wanted}")
    except InvalidIncidentMove as exc:
        return problem(409, "Conflict", str(exc))
    await record_action(request, f"incident-{action}", incident=wanted)
    return json_response(incident_view(incident))


@_ready
async def ack_incident(request: web.Request) -> web.StreamResponse:
    return await _move(request, "acknowledged")


@_ready
async def resolve_incident(request: web.Request) -> web.StreamResponse:
    return await _move(request, "resolved")


@_ready
async def incident_report(request: web.Request) -> web.StreamResponse:
    wanted = _incident_id(request)
    fmt = request.query.get("format", "markdown")
    if fmt not in ("markdown", "html"):
        raise Invalid("format must be markdown or html")
    oncall = _oncall(request)
    try:
        report = await build_incident_report(
            oncall.store, oncall.config, wanted, now=request.app[CONTEXT].wall()
        )
    except LookupError:
        return problem(404, "Not found", f"no incident {wanted}")
    if fmt == "html":
        return web.Response(text=render_html(report), content_type="text/html")
    return web.Response(text=render_markdown(report), content_type="text/markdown")
