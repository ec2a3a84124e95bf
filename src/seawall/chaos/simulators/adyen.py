"""An Adyen-Checkout-like payment API: ``POST /v71/payments``.

Shapes follow Adyen's Checkout API (https://docs.adyen.com/api-explorer/Checkout/71/post/payments):
the request carries ``amount {value, currency}``, ``reference`` and
``paymentMethod``; the answer is 200 with ``resultCode`` ``Authorised`` or
``Refused`` (a refusal is not an HTTP error). Errors use Adyen's service-error
object ``{"status", "errorCode", "message", "errorType"}``
(https://docs.adyen.com/development-resources/response-handling). Every call
needs an ``X-API-Key`` header. Any ``v<N>`` version segment is accepted.

Idempotency (https://docs.adyen.com/development-resources/api-idempotency):
keys of at most 64 characters, kept for at least 31 days, echoed in the
``Idempotency-Key`` response header; a replay also carries
``Idempotent-Replayed: true`` so tests treat both dialects alike. A request
racing one still in progress gets 422 with error code 704 and
``Transient-Error: true``. Charges land in the same ledger shape as Stripe's.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError, json_response, read_json_object, vendor_work
from seawall.chaos._idempotency import IDEMPOTENCY_HEADER, respond_idempotently
from seawall.chaos.simulators._base import Vendor
from seawall.chaos.simulators._ledger import PaymentLedger, card_outcome

__all__ = ["AdyenApi", "build_adyen", "render_adyen_error"]

_ADYEN_TTL_SECONDS = 31 * 86_400
_API_KEY_HEADER = "X-API-Key"


def render_adyen_error(error: VendorError) -> web.Response:
    """Adyen's service error; ``errorType`` follows the status unless a handler set it."""
    details = dict(error.details)
    payload: dict[str, Any] = {
        "status": error.status,
        "errorCode": error.code if error.code.isdigit() else _default_code(error.status),
        "message": error.message,
        "errorType": details.pop("errorType", None) or _error_type(error.status),
    }
    payload.update(details)
    return json_response(payload, status=error.status, headers=error.headers)


def _default_code(status: int) -> str:
    return {400: "702", 401: "000", 403: "010", 404: "000", 413: "702", 429: "000"}.get(
        status, "000"
    )


def _error_type(status: int) -> str:
    if status in (401, 403):
        return "security"
    if status >= 500:
        return "internal"
    return "validation"


class AdyenApi:
    """The payments endpoint over one :class:`PaymentLedger`."""

    def __init__(self, ledger: PaymentLedger) -> None:
        self.ledger = ledger

    def routes(self) -> list[web.RouteDef]:
        return [web.post(r"/{version:v\d+}/payments", self.create_payment)]

    async def create_payment(self, request: web.Request) -> web.Response:
        if not request.headers.get(_API_KEY_HEADER):
            raise VendorError(401, "HTTP Status Response - Unauthorized", code="000")
        params = await read_json_object(request)

        async def execute() -> web.Response:
            value, currency = _amount(params)
            reference = params.get("reference")
            if not isinstance(reference, str) or not reference:
                raise VendorError(422, "Reference Missing", code="130", field="reference")
            number = _card_number(params)
            shopper = params.get("shopperReference")
            await vendor_work(request)
            outcome = card_outcome(number)
            charge = self.ledger.record_charge(
                amount=value,
                currency=currency,
                outcome=outcome,
                customer=shopper if isinstance(shopper, str) else None,
                reference=reference,
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
            result: dict[str, Any] = {
                "additionalData": {"cardSummary": charge.card_last4},
                "pspReference": charge.id,
                "resultCode": "Authorised" if charge.succeeded else "Refused",
                "amount": {"value": value, "currency": currency},
                "merchantReference": reference,
            }
            if not charge.succeeded:
                result["refusalReason"] = (
                    "Not enough balance"
                    if charge.decline_code == "insufficient_funds"
                    else "Refused"
                )
                result["refusalReasonCode"] = (
                    "12" if charge.decline_code == "insufficient_funds" else "2"
                )
            return json_response(result)

        return await respond_idempotently(
            request,
            self.ledger.idempotency,
            params,
            execute,
            mismatch=_mismatch,
            in_flight=_in_flight,
            max_key_length=64,
            echo_key=True,
        )


def build_adyen(seed: int | None) -> Vendor:
    ledger = PaymentLedger(dialect="adyen", seed=seed, idempotency_ttl_seconds=_ADYEN_TTL_SECONDS)
    return Vendor(
        kind="payment",
        dialect="adyen",
        state=ledger,
        routes=AdyenApi(ledger).routes(),
        render_error=render_adyen_error,
    )


def _amount(params: dict[str, Any]) -> tuple[int, str]:
    amount = params.get("amount")
    if not isinstance(amount, dict):
        raise VendorError(
            422, "Required field 'amount' is not provided.", code="100", field="amount"
        )
    value = amount.get("value")
    currency = amount.get("currency")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VendorError(422, "Invalid amount specified", code="137", field="amount.value")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise VendorError(
            422, "Unsupported currency specified", code="138", field="amount.currency"
        )
    return value, currency.upper()


def _card_number(params: dict[str, Any]) -> str | None:
    method = params.get("paymentMethod")
    if not isinstance(method, dict):
        raise VendorError(
            422,
            "Required field 'paymentMethod' is not provided.",
            code="000",
            field="paymentMethod",
        )
    number = method.get("number")
    if isinstance(number, str) and number:
        digits = number.replace(" ", "")
        if not digits.isdigit() or not 12 <= len(digits) <= 19:
            raise VendorError(422, "Invalid card number", code="101", field="paymentMethod.number")
        return digits
    if any(
        isinstance(method.get(name), str)
        for name in ("encryptedCardNumber", "storedPaymentMethodId")
    ):
        return None  # an encrypted or stored card: the simulator approves it
    raise VendorError(422, "Invalid card number", code="101", field="paymentMethod.number")


def _mismatch(key: str) -> VendorError:
    return VendorError(
        422,
        f"Idempotency key '{key}' was already used for a different request.",
        code="704",
    )


def _in_flight(key: str) -> VendorError:
    return VendorError(
        422,
        "request already processed or in progress",
        code="704",
        headers={"Transient-Error": "true"},
    )
