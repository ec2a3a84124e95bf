"""A Mailgun-like mail API: ``POST /v3/{domain}/messages``.

Follows https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/:
a form body (urlencoded or multipart, as ``curl -F`` sends it) with ``from``,
``to`` (repeated or comma-separated), ``subject`` and ``text``/``html``;
success is 200 ``{"id": "<...@domain>", "message": "Queued. Thank you."}``,
errors are ``{"message": ...}``. Like the SendGrid dialect it honours
``Idempotency-Key`` (same key, same id, sent once).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError, json_response, make_id, read_params, vendor_work
from seawall.chaos._idempotency import IDEMPOTENCY_HEADER, respond_idempotently
from seawall.chaos.simulators._base import Vendor
from seawall.chaos.simulators._deliveries import DeliveryLog

__all__ = ["MailgunApi", "build_mailgun", "render_mailgun_error"]


def render_mailgun_error(error: VendorError) -> web.Response:
    return json_response({"message": error.message}, status=error.status, headers=error.headers)


class MailgunApi:
    def __init__(self, log: DeliveryLog) -> None:
        self.log = log

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v3/{domain}/messages", self.send)]

    async def send(self, request: web.Request) -> web.Response:
        domain = request.match_info["domain"]
        if "." not in domain or "/" in domain:
            raise VendorError(404, f"Domain not found: {domain}")
        params = await read_params(request)

        async def execute() -> web.Response:
            sender = _single(params, "from")
            if not sender:
                raise VendorError(400, "'from' parameter is missing")
            recipients = _recipients(params.get("to"))
            if not recipients:
                raise VendorError(400, "'to' parameter is missing")
            if not any(_single(params, name) for name in ("text", "html", "template")):
                raise VendorError(
                    400, "Need at least one of 'text', 'html' or 'template' parameters specified"
                )
            await vendor_work(request)
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.log.clock.now()))
            message_id = f"<{stamp}.{make_id(self.log.rng, '', 16, '0123456789ABCDEF')}@{domain}>"
            self.log.deliver(
                recipients=recipients,
                sender=sender,
                subject=_single(params, "subject"),
                message_id=message_id,
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
            return json_response({"id": message_id, "message": "Queued. Thank you."})

        return await respond_idempotently(
            request,
            self.log.idempotency,
            params,
            execute,
            mismatch=lambda key: VendorError(
                422, f"Idempotency-Key '{key}' was already used for a different message."
            ),
            in_flight=lambda key: VendorError(
                409, f"A send with Idempotency-Key '{key}' is still in progress; retry later."
            ),
        )


def build_mailgun(seed: int | None) -> Vendor:
    log = DeliveryLog(dialect="mailgun", seed=seed)
    return Vendor(
        kind="email",
        dialect="mailgun",
        state=log,
        routes=MailgunApi(log).routes(),
        render_error=render_mailgun_error,
    )


def _single(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) else ""


def _recipients(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    recipients: list[str] = []
    for item in values:
        if isinstance(item, str):
            recipients.extend(part.strip() for part in item.split(",") if part.strip())
    return recipients
