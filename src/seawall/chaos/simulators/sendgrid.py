"""A SendGrid-v3-like mail API: ``POST /v3/mail/send``.

Request and response follow https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send:
a JSON body with ``personalizations[].to[].email``, ``from.email``,
``subject`` and ``content[]``; success is 202 with an empty body and an
``X-Message-Id`` header; errors are 400 with ``{"errors": [{"message",
"field", "help"}]}``, every problem listed at once. SendGrid has no
idempotency keys; the simulator honours ``Idempotency-Key`` anyway (same key,
same message id, sent once) because seawall forwards one on retried sends,
answering reuse with another payload 422 and a concurrent duplicate 409 as
draft-ietf-httpapi-idempotency-key-header (section 2.7) recommends.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError, json_response, make_id, read_json_object, vendor_work
from seawall.chaos._idempotency import IDEMPOTENCY_HEADER, respond_idempotently
from seawall.chaos.simulators._base import Vendor
from seawall.chaos.simulators._deliveries import DeliveryLog

__all__ = ["SendgridApi", "build_sendgrid", "render_sendgrid_error"]

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def render_sendgrid_error(error: VendorError) -> web.Response:
    errors = [
        {"message": message, "field": field, "help": None} for field, message in error.problems
    ]
    return json_response({"errors": errors}, status=error.status, headers=error.headers)


class SendgridApi:
    def __init__(self, log: DeliveryLog) -> None:
        self.log = log

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v3/mail/send", self.send)]

    async def send(self, request: web.Request) -> web.Response:
        params = await read_json_object(request)

        async def execute() -> web.Response:
            recipients, sender, subject = _validate(params)
            await vendor_work(request)
            message_id = make_id(self.log.rng, "", 22, _ID_ALPHABET)
            self.log.deliver(
                recipients=recipients,
                sender=sender,
                subject=subject,
                message_id=message_id,
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
            return web.Response(status=202, headers={"X-Message-Id": message_id})

        return await respond_idempotently(
            request,
            self.log.idempotency,
            params,
            execute,
            mismatch=lambda key: VendorError(
                422,
                f"Idempotency-Key '{key}' was already used for a different message.",
                field=IDEMPOTENCY_HEADER,
            ),
            in_flight=lambda key: VendorError(
                409,
                f"A send with Idempotency-Key '{key}' is still in progress; retry later.",
                field=IDEMPOTENCY_HEADER,
            ),
        )


def build_sendgrid(seed: int | None) -> Vendor:
    log = DeliveryLog(dialect="sendgrid", seed=seed)
    return Vendor(
        kind="email",
        dialect="sendgrid",
        state=log,
        routes=SendgridApi(log).routes(),
        render_error=render_sendgrid_error,
    )


def _validate(params: dict[str, Any]) -> tuple[list[str], str, str]:
    """Recipients, sender and subject; every problem is reported together, as SendGrid does."""
    problems: list[tuple[str | None, str]] = []
    recipients: list[str] = []
    subjects: list[str] = []
    personalizations = params.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        problems.append(
            (
                "personalizations",
                "The personalizations field is required and must have at least one "
                "personalization.",
            )
        )
        personalizations = []
    for index, personalization in enumerate(personalizations):
        where = f"personalizations.{index}"
        if not isinstance(personalization, dict):
            problems.append((where, "Each personalization must be an object."))
            continue
        to = personalization.get("to")
        if not isinstance(to, list) or not to:
            problems.append(
                (
                    f"{where}.to",
                    "The to array is required for all personalization objects, "
                    "and must have at least one email object with a valid email address.",
                )
            )
            continue
        for kind in ("to", "cc", "bcc"):
            for number, entry in enumerate(personalization.get(kind) or []):
                email = entry.get("email") if isinstance(entry, dict) else None
                if not _is_address(email):
                    problems.append(
                        (f"{where}.{kind}.{number}.email", "Does not contain a valid address.")
                    )
                else:
                    recipients.append(str(email))
        if isinstance(personalization.get("subject"), str):
            subjects.append(personalization["subject"])
    sender = params.get("from")
    sender_email = sender.get("email") if isinstance(sender, dict) else None
    if not _is_address(sender_email):
        problems.append(
            (
                "from.email",
                "The from object must be provided for every email send. It is an "
                "object that requires the email parameter.",
            )
        )
    subject = params.get("subject")
    if not isinstance(subject, str) or not subject:
        subject = subjects[0] if subjects else None
    if subject is None and not params.get("template_id"):
        problems.append(
            (
                "subject",
                "The subject is required. You can get around this requirement if you "
                "use a template with a subject defined or if every personalization has a subject "
                "defined.",
            )
        )
    content = params.get("content")
    if not params.get("template_id") and (
        not isinstance(content, list)
        or not content
        or not all(
            isinstance(block, dict) and block.get("type") and block.get("value")
            for block in content
        )
    ):
        problems.append(
            (
                "content",
                "Unless a valid template_id is provided, the content parameter is "
                "required. There must be at least one defined content block.",
            )
        )
    if problems:
        raise VendorError(400, problems[0][1], field=problems[0][0], problems=problems)
    return recipients, str(sender_email), subject or ""


def _is_address(value: object) -> bool:
    if not isinstance(value, str):
        return False
    local, at, domain = value.partition("@")
    return bool(local and at and "." in domain and " " not in value)
