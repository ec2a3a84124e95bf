"""SendGrid v3 mail sends served by Mailgun: :class:`SendgridToMailgun`.

``POST /v3/mail/send`` (SendGrid's JSON) becomes ``POST /v3/{domain}/messages``
(Mailgun's urlencoded form):

* ``from`` becomes ``from`` (``Name <address>`` when named); ``to``, ``cc`` and
  ``bcc`` of the personalization become repeated ``to``, ``cc`` and ``bcc``
  fields; ``subject`` (the personalization's, else the message's) ``subject``;
  ``content`` blocks ``text/plain``, ``text/html`` and ``text/x-amp-html``
  become ``text``, ``html`` and ``amp-html``.
* ``reply_to``/``reply_to_list`` become ``h:Reply-To``, ``headers`` ``h:<name>``,
  ``custom_args`` Mailgun variables ``v:<name>``, ``categories`` ``o:tag``,
  ``send_at`` ``o:deliverytime``, sandbox mode ``o:testmode`` and click/open
  tracking ``o:tracking-clicks``/``o:tracking-opens``.
* Several personalizations (one email each, at SendGrid) become one Mailgun
  batch send: one ``to`` per personalization plus ``recipient-variables``, so
  each recipient gets their own copy and sees no other. This needs every
  personalization to have exactly one ``to``, no ``cc``/``bcc`` and nothing of
  its own but the subject, the same for all.
* The sending domain is the domain of ``from.email`` (so no ``MAILGUN_DOMAIN``
  setting is needed); a deployment whose Mailgun domain differs sets it in a
  subclass (``class Mine(SendgridToMailgun): domain = "mg.example.com"``).
* ``Idempotency-Key`` is forwarded unchanged; ``Authorization`` (SendGrid's
  key), ``On-Behalf-Of`` and framing headers are dropped.

Answers: Mailgun's 200 ``{"id": "<...>", "message": "Queued..."}`` becomes
SendGrid's 202 with an empty body and ``X-Message-Id`` (the id without its
angle brackets); an error keeps its status and becomes ``{"errors":
[{"message", "field", "help"}]}`` with the SendGrid field it concerns.

Limitations: ``template_id``, ``attachments``, ``asm`` (unsubscribe groups),
``sections``, substitutions and dynamic template data, per-personalization
``from``, footers, subscription tracking and Google Analytics rewriting raise
:class:`~seawall_adapters.UntranslatableRequest`; ``ip_pool_name``,
``batch_id``, the ``bypass_*`` suppression settings and spam checks are ignored
(Mailgun applies its own suppressions). SendGrid's own validation (a subject
is required, address syntax) is not re-checked: Mailgun validates, and a
message without a subject is sent without one. Mailgun's ``X-Message-Id`` is
its own id, not one SendGrid would issue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from seawall.engine import Request, Response
from seawall_adapters import (
    answer,
    body_snippet,
    check_body,
    dump_json,
    forward_headers,
    is_json,
    media_type,
    parse_json_object,
    read_json_object,
    refuse,
    request_path,
)

__all__ = ["SendgridToMailgun"]

_SEND_PATH = "/v3/mail/send"
_CONTENT_FIELDS = {"text/plain": "text", "text/html": "html", "text/x-amp-html": "amp-html"}
_TOP_LEVEL = frozenset(
    {
        "personalizations",
        "from",
        "reply_to",
        "reply_to_list",
        "subject",
        "content",
        "headers",
        "custom_args",
        "categories",
        "send_at",
        "mail_settings",
        "tracking_settings",
        "ip_pool_name",
        "batch_id",
    }
)
_PERSONALIZATION = frozenset({"to", "cc", "bcc", "subject", "headers", "custom_args", "send_at"})
_NO_EQUIVALENT = {
    "template_id": "SendGrid templates live at SendGrid; Mailgun cannot render them",
    "attachments": "attachments are not translated (Mailgun needs them as multipart files)",
    "asm": "SendGrid unsubscribe groups have no Mailgun equivalent",
    "sections": "substitution sections have no Mailgun equivalent",
    "substitutions": "substitutions have no Mailgun equivalent",
    "dynamic_template_data": "dynamic template data needs a SendGrid template",
    "from": "a per-personalization sender cannot be expressed in one Mailgun send",
}
_IGNORED_MAIL_SETTINGS = frozenset(
    {
        "bypass_list_management",
        "bypass_spam_management",
        "bypass_bounce_management",
        "bypass_unsubscribe_management",
        "spam_check",
    }
)
_TRACKING = {"click_tracking": "o:tracking-clicks", "open_tracking": "o:tracking-opens"}
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DOMAIN = re.compile(
    r"(?=.{4,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
_MAX_SEND_AT = 2**33
#: Mailgun's error messages -> the SendGrid field they concern
_FIELDS = (
    ("'from' parameter", "from.email"),
    ("'to' parameter", "personalizations.0.to"),
    ("'text', 'html'", "content"),
    ("domain not found", "from.email"),
    ("idempotency-key", "Idempotency-Key"),
    ("'subject'", "subject"),
)


@dataclass(slots=True)
class _Person:
    to: list[str] = field(default_factory=list)
    to_addresses: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    custom_args: dict[str, str] = field(default_factory=dict)
    send_at: int | None = None


class SendgridToMailgun:
    """Translate SendGrid ``/v3/mail/send`` to Mailgun ``/v3/{domain}/messages`` and back."""

    #: the Mailgun sending domain; None takes the domain of ``from.email``
    domain: ClassVar[str | None] = None

    def to_provider(self, request: Request) -> Request:
        sender, fields = _read(request)
        domain = (self.domain or sender.rpartition("@")[2]).strip().lower()
        if not _DOMAIN.fullmatch(domain):
            raise refuse(
                request,
                "the Mailgun sending domain comes from from.email, and "
                f"{domain[:60] or 'an empty one'!r} is not a domain",
            )
        headers = forward_headers(request, drop=("on-behalf-of",))
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        return Request(
            method="POST",
            target=f"/v3/{quote(domain, safe='')}/messages",
            headers=headers,
            body=urlencode(fields).encode("ascii"),
        )

    def from_provider(self, response: Response, request: Request) -> Response:
        del request  # the answer alone says everything SendGrid's would
        status = response.status
        result = read_json_object(response.body)
        if 200 <= status < 300:
            headers: list[tuple[str, str]] = []
            message_id = _message_id(result)
            if message_id is not None:
                headers.append(("X-Message-Id", message_id))
            return answer(response, 202, headers=headers, drop=("X-Message-Id",))
        if 400 <= status < 600:
            message = result.get("message") if result else None
            if not isinstance(message, str) or not message:
                message = body_snippet(response.body) or f"Mailgun answered {status}"
            if status >= 500:
                message = f"Mailgun failed to accept the message: {message}"
            return _errors(response, status, message[:500])
        return _errors(response, 502, f"Mailgun answered with an unexpected status {status}.")


# --- requests -------------------------------------------------------------------------


def _read(request: Request) -> tuple[str, list[tuple[str, str]]]:
    """The sender's address and Mailgun's form fields, in a fixed order."""
    check_body(request)
    if request.method.upper() != "POST" or request_path(request) != _SEND_PATH:
        raise refuse(request, "Mailgun is mapped only for POST /v3/mail/send")
    kind = media_type(request)
    if kind and not is_json(kind):
        raise refuse(request, f"a {kind} body is not translated (SendGrid takes JSON)")
    params = parse_json_object(request)
    for name in params:
        if name not in _TOP_LEVEL:
            reason = _NO_EQUIVALENT.get(name, "it has no Mailgun equivalent")
            raise refuse(request, f"{name}: {reason}")

    sender = _address(params.get("from"), "from", request)
    subject = _text(params.get("subject"), "subject", request)
    people = [
        _person(item, f"personalizations.{index}", request)
        for index, item in enumerate(
            _list(params.get("personalizations"), "personalizations", request)
        )
    ]
    headers = _headers(params.get("headers"), "headers", request)
    custom_args = _strings(params.get("custom_args"), "custom_args", request)
    send_at = _send_at(params.get("send_at"), "send_at", request)

    fields: list[tuple[str, str]] = []
    if sender is not None:
        fields.append(("from", sender[1]))
    batch: dict[str, dict[str, str]] | None = None
    if len(people) <= 1:
        person = people[0] if people else _Person()
        fields.extend(("to", address) for address in person.to)
        fields.extend(("cc", address) for address in person.cc)
        fields.extend(("bcc", address) for address in person.bcc)
        subject = person.subject if person.subject is not None else subject
        headers = {**headers, **person.headers}
        custom_args = {**custom_args, **person.custom_args}
        send_at = person.send_at if person.send_at is not None else send_at
    else:
        subject, batch = _batch(people, subject, request)
        fields.extend(("to", person.to[0]) for person in people)
    if subject is not None:
        fields.append(("subject", subject))
    fields.extend(_content(params.get("content"), request))
    reply_to = _reply_to(params, request)
    if reply_to is not None:
        fields.append(("h:Reply-To", reply_to))
    fields.extend((f"h:{name}", value) for name, value in headers.items())
    fields.extend((f"v:{name}", value) for name, value in custom_args.items())
    fields.extend(
        ("o:tag", tag) for tag in _list(params.get("categories"), "categories", request, str)
    )
    if send_at is not None:
        fields.append(("o:deliverytime", formatdate(send_at, usegmt=True)))
    fields.extend(_mail_settings(params.get("mail_settings"), request))
    fields.extend(_tracking(params.get("tracking_settings"), request))
    if batch is not None:
        fields.append(
            ("recipient-variables", json.dumps(batch, sort_keys=True, separators=(",", ":")))
        )
    return (sender[0] if sender else ""), fields


def _person(item: Any, where: str, request: Request) -> _Person:
    if not isinstance(item, dict):
        raise refuse(request, f"{where} must be an object")
    for name in item:
        if name not in _PERSONALIZATION:
            reason = _NO_EQUIVALENT.get(name, "it has no Mailgun equivalent")
            raise refuse(request, f"{where}.{name}: {reason}")
    person = _Person(
        subject=_text(item.get("subject"), f"{where}.subject", request),
        headers=_headers(item.get("headers"), f"{where}.headers", request),
        custom_args=_strings(item.get("custom_args"), f"{where}.custom_args", request),
        send_at=_send_at(item.get("send_at"), f"{where}.send_at", request),
    )
    for kind in ("to", "cc", "bcc"):
        for number, entry in enumerate(_list(item.get(kind), f"{where}.{kind}", request)):
            address = _address(entry, f"{where}.{kind}.{number}", request)
            if address is None:
                raise refuse(request, f"{where}.{kind}.{number} must be an email object")
            getattr(person, kind).append(address[1])
            if kind == "to":
                person.to_addresses.append(address[0])
    return person


def _batch(
    people: list[_Person], subject: str | None, request: Request
) -> tuple[str | None, dict[str, dict[str, str]]]:
    """Several personalizations as one Mailgun batch send, when that says the same."""
    subjects = {person.subject if person.subject is not None else subject for person in people}
    if len(subjects) > 1:
        raise refuse(request, "personalizations with different subjects need one send each")
    variables: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for index, person in enumerate(people):
        if len(person.to) != 1 or person.cc or person.bcc:
            raise refuse(
                request,
                f"personalizations.{index}: with several personalizations each needs exactly "
                "one to and no cc or bcc to become one Mailgun batch send",
            )
        if person.headers or person.custom_args or person.send_at is not None:
            raise refuse(
                request,
                f"personalizations.{index}: per-recipient headers, custom_args or send_at "
                "cannot be expressed in one Mailgun batch send",
            )
        address = person.to_addresses[0]
        if address.lower() in seen:
            raise refuse(request, f"personalizations.{index}: {address} appears twice")
        seen.add(address.lower())
        variables[address] = {}
    return subjects.pop(), variables


def _address(value: Any, where: str, request: Request) -> tuple[str, str] | None:
    """``(address, "Name <address>")`` from SendGrid's ``{"email", "name"}``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise refuse(request, f"{where} must be an object with an email")
    email = value.get("email")
    name = value.get("name")
    if not isinstance(email, str) or (name is not None and not isinstance(name, str)):
        raise refuse(request, f"{where}.email and {where}.name must be strings")
    email = email.strip()
    if _has_newline(email) or (name and _has_newline(name)):
        raise refuse(request, f"{where} contains a line break")
    if not name:
        return email, email
    try:
        return email, formataddr((name, email))
    except UnicodeError:
        raise refuse(request, f"{where}.email must be an ASCII address") from None


def _text(value: Any, where: str, request: Request) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse(request, f"{where} must be a string")
    return value


def _list(value: Any, where: str, request: Request, item_type: type[Any] = object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, item_type) for item in value):
        raise refuse(request, f"{where} must be a list")
    return value


def _strings(value: Any, where: str, request: Request) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise refuse(request, f"{where} must map names to strings")
    return {str(key): item for key, item in value.items()}


def _headers(value: Any, where: str, request: Request) -> dict[str, str]:
    headers = _strings(value, where, request)
    for name, item in headers.items():
        if not _TOKEN.fullmatch(name) or _has_newline(item):
            raise refuse(request, f"{where}: {name[:40]!r} is not a valid header")
    return headers


def _send_at(value: Any, where: str, request: Request) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_SEND_AT:
        raise refuse(request, f"{where} must be a Unix timestamp")
    return value


def _content(value: Any, request: Request) -> list[tuple[str, str]]:
    fields: dict[str, str] = {}
    for index, block in enumerate(_list(value, "content", request)):
        where = f"content.{index}"
        if not isinstance(block, dict):
            raise refuse(request, f"{where} must be an object")
        kind, text = block.get("type"), block.get("value")
        if not isinstance(kind, str) or not isinstance(text, str):
            raise refuse(request, f"{where}.type and {where}.value must be strings")
        name = _CONTENT_FIELDS.get(kind.strip().lower())
        if name is None:
            raise refuse(request, f"{where}: content of type {kind[:40]!r} has no Mailgun field")
        if name in fields:
            raise refuse(request, f"{where}: a second {kind} block has no Mailgun field")
        fields[name] = text
    return [(name, fields[name]) for name in ("text", "html", "amp-html") if name in fields]


def _reply_to(params: dict[str, Any], request: Request) -> str | None:
    single = _address(params.get("reply_to"), "reply_to", request)
    several = [
        _address(entry, f"reply_to_list.{index}", request)
        for index, entry in enumerate(_list(params.get("reply_to_list"), "reply_to_list", request))
    ]
    if single is not None and several:
        raise refuse(request, "reply_to and reply_to_list cannot both be given")
    if single is not None:
        return single[1]
    addresses = [entry[1] for entry in several if entry is not None]
    return ", ".join(addresses) if addresses else None


def _enabled(setting: Any) -> bool | None:
    if isinstance(setting, dict) and isinstance(setting.get("enable"), bool):
        return bool(setting["enable"])
    return None


def _mail_settings(value: Any, request: Request) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise refuse(request, "mail_settings must be an object")
    fields: list[tuple[str, str]] = []
    for name, setting in value.items():
        enabled = _enabled(setting)
        if name == "sandbox_mode":
            if enabled:
                fields.append(("o:testmode", "yes"))
        elif enabled and name not in _IGNORED_MAIL_SETTINGS:
            raise refuse(request, f"mail_settings.{name} has no Mailgun equivalent")
    return fields


def _tracking(value: Any, request: Request) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise refuse(request, "tracking_settings must be an object")
    fields: list[tuple[str, str]] = []
    for name, setting in value.items():
        enabled = _enabled(setting)
        option = _TRACKING.get(name)
        if option is not None:
            if enabled is not None:
                fields.append((option, "yes" if enabled else "no"))
        elif enabled:
            raise refuse(request, f"tracking_settings.{name} has no Mailgun equivalent")
    return fields


def _has_newline(text: str) -> bool:
    return "\r" in text or "\n" in text


# --- answers --------------------------------------------------------------------------


def _message_id(result: dict[str, Any] | None) -> str | None:
    """Mailgun's ``<id@domain>`` without its angle brackets, if it is a safe header value."""
    value = result.get("id") if result else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not value or not value.isascii() or not value.isprintable() or len(value) > 255:
        return None
    return value


def _errors(response: Response, status: int, message: str) -> Response:
    lowered = message.lower()
    where = next((name for needle, name in _FIELDS if needle in lowered), None)
    body = {"errors": [{"message": message, "field": where, "help": None}]}
    return answer(response, status, body=dump_json(body))
