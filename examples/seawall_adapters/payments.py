"""Stripe charges served by Adyen Checkout: :class:`StripeToAdyen`.

Requests (Stripe's form encoding or JSON):

* ``POST /v1/charges`` becomes ``POST /v71/payments``: ``amount`` and
  ``currency`` become ``amount {value, currency}`` (currency upper-cased),
  the card (``source``, ``card`` or ``payment_method``: a number, a card
  object or one of Stripe's documented test tokens) becomes ``paymentMethod
  {type: scheme, number, expiryMonth, expiryYear, cvc, holderName}``,
  ``customer`` becomes ``shopperReference``, ``metadata`` is copied,
  ``receipt_email`` becomes ``shopperEmail``, ``statement_descriptor``
  ``shopperStatement`` and ``capture=false`` Adyen's manual capture.
  ``reference`` is the ``Idempotency-Key`` (or ``seawall-`` and a digest of the
  request when there is none), so a retry is the same Adyen payment.
* ``POST /v1/subscriptions/{id}/renew`` becomes a recurring payment
  (``shopperInteraction: ContAuth``, ``recurringProcessingModel:
  Subscription``, ``reference``: the subscription id). Adyen keeps no Stripe
  subscription, so the renewal translates only when its body carries what
  Stripe would have looked up: ``amount``, ``currency`` and the card (and
  ``customer`` for ``shopperReference``). Without them it is untranslatable.
* ``Idempotency-Key`` is forwarded unchanged (Adyen honours it); a key longer
  than Adyen's 64 characters is replaced by its SHA-256 hex digest, the same for
  every retry. ``Authorization``, ``Stripe-*`` and framing headers are dropped;
  ``Content-Type`` is ``application/json``.

Answers: ``Authorised`` is a Stripe ``charge`` (``id`` ``ch_`` + pspReference,
``metadata.adyen_psp_reference``); ``Pending``/``Received`` a charge with status
``pending``; ``Refused`` a 402 ``card_error`` (``decline_code`` from Adyen's
``refusalReasonCode``); a shopper action (3-D Secure) a 402
``authentication_required``; Adyen's validation errors a 400
``invalid_request_error`` naming the Stripe parameter (an invalid card number
402 ``incorrect_number``), its idempotency errors Stripe's ``idempotency_error``
(409 while the first request is still in flight, as Stripe answers), other 4xx
keep their status, 5xx become ``api_error``.

Limitations:

* Only the two calls above; refunds, captures, reads (``GET /v1/charges/...``)
  and customers raise :class:`~seawall_adapters.UntranslatableRequest`, as do
  Stripe parameters with no Adyen meaning (``transfer_data``,
  ``application_fee_amount``, ``on_behalf_of``, ``shipping``...) and any card
  stored at Stripe: a customer-only charge (Stripe's default source) and a
  token other than Stripe's test tokens name a card only Stripe holds.
* Adyen decides validation: Stripe's own rules (minimum 0.50, maximum amount)
  are not re-checked, and an invalid value reaches Adyen, whose 422 comes back
  as Stripe's 400. Adyen's metadata limits (20 keys, 80 characters) apply.
* Adyen requires ``merchantAccount``; set it by subclassing
  (``class MyAdyen(StripeToAdyen): merchant_account = "AcmeECOM"``) and naming
  the subclass in ``adapter:``. Raw card numbers need an Adyen account allowed
  to receive them (PCI DSS); 3-D Secure flows, which need ``returnUrl`` and a
  browser, are answered as ``authentication_required``.
* The charge id is Adyen's: ``GET /v1/charges/ch_<pspReference>`` at Stripe
  finds nothing. ``created`` comes from the answer's ``Date`` header (the
  adapter reads no clock); the query string of the request is not forwarded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from seawall.engine import Request, Response
from seawall_adapters import (
    answer,
    body_snippet,
    check_body,
    dump_json,
    forward_headers,
    idempotency_key,
    is_json,
    media_type,
    parse_form,
    parse_json_object,
    read_json_object,
    refuse,
    request_path,
)

__all__ = ["StripeToAdyen"]

ADYEN_VERSION = "v71"
ADYEN_MAX_KEY_LENGTH = 64

#: Stripe's documented test tokens and payment methods (https://docs.stripe.com/testing),
#: as the card numbers Adyen's test environment and the simulator understand
TEST_TOKENS: dict[str, str] = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_amex": "378282246310005",
    "tok_discover": "6011111111111117",
    "tok_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
}

_CHARGES_PATH = "/v1/charges"
_RENEW_PATH = re.compile(r"/v1/subscriptions/(?P<id>[A-Za-z0-9_]{1,80})/renew")
_CARD_PARAMS = ("source", "card", "payment_method")
_CHARGE_PARAMS = frozenset(
    {
        "amount",
        "currency",
        "customer",
        "description",
        "metadata",
        "capture",
        "receipt_email",
        "statement_descriptor",
        "expand",
        *_CARD_PARAMS,
    }
)
_RENEW_PARAMS = frozenset(
    {"amount", "currency", "customer", "description", "metadata", "expand", *_CARD_PARAMS}
)
_CARD_FIELDS = {
    "number": "number",
    "exp_month": "expiryMonth",
    "exp_year": "expiryYear",
    "cvc": "cvc",
    "name": "holderName",
}
_MISSING: Any = object()

# Adyen refusalReasonCode (https://docs.adyen.com/development-resources/refusal-reasons)
# -> Stripe error code, decline_code (https://docs.stripe.com/declines/codes)
_REFUSALS: dict[str, tuple[str, str]] = {
    "2": ("card_declined", "generic_decline"),
    "3": ("card_declined", "call_issuer"),
    "4": ("processing_error", "processing_error"),
    "5": ("card_declined", "pickup_card"),
    "6": ("expired_card", "expired_card"),
    "7": ("card_declined", "invalid_amount"),
    "8": ("incorrect_number", "incorrect_number"),
    "9": ("card_declined", "issuer_not_available"),
    "10": ("card_declined", "card_not_supported"),
    "11": ("card_declined", "authentication_required"),
    "12": ("card_declined", "insufficient_funds"),
    "14": ("card_declined", "fraudulent"),
    "20": ("card_declined", "fraudulent"),
    "22": ("card_declined", "fraudulent"),
    "24": ("incorrect_cvc", "incorrect_cvc"),
    "25": ("card_declined", "restricted_card"),
    "26": ("card_declined", "revocation_of_authorization"),
    "27": ("card_declined", "generic_decline"),
    "28": ("card_declined", "card_velocity_exceeded"),
    "29": ("card_declined", "card_velocity_exceeded"),
    "31": ("card_declined", "fraudulent"),
}
_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "incorrect_number": "Your card number is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}
_SHOPPER_ACTIONS = frozenset(
    {"RedirectShopper", "IdentifyShopper", "ChallengeShopper", "PresentToShopper"}
)
#: the Stripe parameter behind each Adyen request field
_STRIPE_PARAM = {
    "amount": "amount",
    "amount.value": "amount",
    "amount.currency": "currency",
    "shopperReference": "customer",
    "shopperEmail": "receipt_email",
    "shopperStatement": "statement_descriptor",
    "metadata": "metadata",
}
_REQUIRED_FIELD = re.compile(r"Required field '([A-Za-z.]+)'")


@dataclass(frozen=True, slots=True)
class _Card:
    """A card Adyen can charge: ``paymentMethod`` fields and the Stripe param it came from."""

    param: str
    fields: dict[str, str]

    @property
    def number(self) -> str:
        return self.fields.get("number", "")


@dataclass(frozen=True, slots=True)
class _Charge:
    """A canonical charge or renewal, read from the Stripe request."""

    amount: Any
    currency: Any
    customer: str | None
    card: _Card | None
    description: str | None
    metadata: dict[str, str]
    capture: bool = True
    receipt_email: str | None = None
    statement_descriptor: str | None = None
    subscription: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class StripeToAdyen:
    """Translate Stripe charge calls to Adyen Checkout ``/payments`` and back."""

    #: Adyen's ``merchantAccount``; set it in a subclass (the simulator needs none)
    merchant_account: ClassVar[str | None] = None

    def to_provider(self, request: Request) -> Request:
        charge = _read(request)
        payment = self._payment(charge, request)
        headers = forward_headers(request, drop_prefixes=("stripe-",))
        key = idempotency_key(request)
        if key is not None and len(key) > ADYEN_MAX_KEY_LENGTH:
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
            headers = [
                (name, digest if name.lower() == "idempotency-key" else value)
                for name, value in headers
            ]
        headers.append(("Content-Type", "application/json"))
        return Request(
            method="POST",
            target=f"/{ADYEN_VERSION}/payments",
            headers=headers,
            body=dump_json(payment),
        )

    def from_provider(self, response: Response, request: Request) -> Response:
        try:
            charge: _Charge | None = _read(request)
        except ValueError:
            charge = None
        status = response.status
        result = read_json_object(response.body)
        if 200 <= status < 300:
            if result is None:
                return _api_error(
                    response,
                    502,
                    "Adyen's answer could not be read; the payment may have been made. "
                    "Retry with the same Idempotency-Key to learn its outcome.",
                )
            return _result(response, result, charge)
        if 400 <= status < 500:
            return _client_error(response, result, charge)
        if status >= 500:
            detail = _message(result, response.body)
            return _api_error(response, status, f"Adyen failed to process the payment: {detail}")
        return _api_error(response, 502, f"Adyen answered with an unexpected status {status}.")

    def _payment(self, charge: _Charge, request: Request) -> dict[str, Any]:
        payment: dict[str, Any] = {}
        if self.merchant_account:
            payment["merchantAccount"] = self.merchant_account
        amount: dict[str, Any] = {}
        if charge.amount is not _MISSING:
            amount["value"] = charge.amount
        if charge.currency is not _MISSING:
            amount["currency"] = charge.currency
        if amount:
            payment["amount"] = amount
        payment["reference"] = charge.subscription or _reference(request)
        if charge.card is not None:
            payment["paymentMethod"] = {"type": "scheme", **charge.card.fields}
        if charge.customer is not None:
            payment["shopperReference"] = charge.customer
        if charge.subscription is not None:
            payment["shopperInteraction"] = "ContAuth"
            payment["recurringProcessingModel"] = "Subscription"
        if charge.receipt_email is not None:
            payment["shopperEmail"] = charge.receipt_email
        if charge.statement_descriptor is not None:
            payment["shopperStatement"] = charge.statement_descriptor
        if not charge.capture:
            payment["additionalData"] = {"manualCapture": "true"}
        metadata = {**charge.metadata, **charge.extra}
        if metadata:
            payment["metadata"] = metadata
        return payment


# --- requests -------------------------------------------------------------------------


def _read(request: Request) -> _Charge:
    """Route and read a canonical request; anything else is untranslatable."""
    check_body(request)
    path = request_path(request)
    method = request.method.upper()
    renewal = _RENEW_PATH.fullmatch(path)
    if method != "POST" or (path != _CHARGES_PATH and renewal is None):
        raise refuse(
            request,
            "Adyen is mapped only for POST /v1/charges and POST /v1/subscriptions/{id}/renew",
        )
    params = _params(request)
    allowed = _RENEW_PARAMS if renewal else _CHARGE_PARAMS
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise refuse(request, f"the Stripe parameter {unknown[0]!r} has no Adyen equivalent")
    card = _card(params, request)
    customer = _optional_str(params, "customer", request)
    amount = _amount(params.get("amount", _MISSING))
    currency = params.get("currency", _MISSING)
    if currency is None:
        currency = _MISSING
    elif isinstance(currency, str):
        currency = currency.strip().upper() if currency.strip() else _MISSING
    metadata = _metadata(params, request)
    if renewal is not None:
        subscription = renewal.group("id")
        if amount is _MISSING or currency is _MISSING or card is None:
            raise refuse(
                request,
                "Adyen keeps no Stripe subscriptions: a renewal translates only when its body "
                "carries amount, currency and the card (source, card or payment_method)",
            )
        return _Charge(
            amount=amount,
            currency=currency,
            customer=customer,
            card=card,
            description=_optional_str(params, "description", request)
            or f"Subscription {subscription}",
            metadata=metadata,
            subscription=subscription,
            extra={"subscription": subscription},
        )
    if card is None and customer is not None:
        raise refuse(
            request,
            "a charge without a card pays with the customer's card stored at Stripe, "
            "which Adyen does not hold",
        )
    return _Charge(
        amount=amount,
        currency=currency,
        customer=customer,
        card=card,
        description=_optional_str(params, "description", request),
        metadata=metadata,
        capture=_capture(params, request),
        receipt_email=_optional_str(params, "receipt_email", request),
        statement_descriptor=_optional_str(params, "statement_descriptor", request),
    )


def _params(request: Request) -> dict[str, Any]:
    kind = media_type(request)
    if not request.body.strip():
        return {}
    if is_json(kind) or (not kind and request.body.lstrip().startswith(b"{")):
        return parse_json_object(request)
    if kind in ("", "application/x-www-form-urlencoded"):
        return parse_form(request)
    raise refuse(request, f"a {kind} body is not translated (use a form or JSON body)")


def _amount(value: Any) -> Any:
    """An integer amount when it is one; anything else goes to Adyen to reject."""
    if value is None:
        return _MISSING
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 15:
            return int(text)
        return _MISSING if not text else value
    return value


def _optional_str(params: dict[str, Any], name: str, request: Request) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise refuse(request, f"the Stripe parameter {name!r} must be a string")
    return value


def _metadata(params: dict[str, Any], request: Request) -> dict[str, str]:
    given = params.get("metadata")
    if given is None or given == "":
        return {}
    if not isinstance(given, dict):
        raise refuse(request, "metadata must be a set of key-value pairs")
    metadata: dict[str, str] = {}
    for key, value in given.items():
        if value is None or value == "":
            continue  # Stripe unsets a key given an empty value
        if isinstance(value, dict | list):
            raise refuse(request, f"metadata[{key}] must be a string, not a nested value")
        metadata[str(key)] = _stringify(value)
    return metadata


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _capture(params: dict[str, Any], request: Request) -> bool:
    value = params.get("capture", True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise refuse(request, "capture must be true or false")


def _card(params: dict[str, Any], request: Request) -> _Card | None:
    """The card behind ``source``, ``card`` or ``payment_method``, in Adyen's fields."""
    for name in _CARD_PARAMS:
        candidate = params.get(name)
        if candidate is None or candidate == "":
            continue
        if isinstance(candidate, dict):
            fields: dict[str, str] = {}
            for stripe_name, adyen_name in _CARD_FIELDS.items():
                value = candidate.get(stripe_name)
                if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                    fields[adyen_name] = str(value).strip()
            if "number" not in fields:
                raise refuse(request, f"the card in {name!r} has no number Adyen could charge")
            fields["number"] = _digits(fields["number"])
            if "expiryMonth" in fields and fields["expiryMonth"].isdigit():
                fields["expiryMonth"] = fields["expiryMonth"].zfill(2)
            return _Card(param=name, fields=fields)
        if not isinstance(candidate, str):
            raise refuse(request, f"the Stripe parameter {name!r} must be a card or a token")
        digits = _digits(candidate)
        if digits.isascii() and digits.isdigit():
            return _Card(param=name, fields={"number": digits})
        number = TEST_TOKENS.get(candidate.strip())
        if number is None:
            raise refuse(
                request,
                f"{name} {candidate[:40]!r} names a card stored at Stripe, which Adyen cannot "
                "charge (only Stripe's test tokens and card numbers translate)",
            )
        return _Card(param=name, fields={"number": number})
    return None


def _digits(number: str) -> str:
    return number.replace(" ", "").replace("-", "")


def _reference(request: Request) -> str:
    """The Adyen ``reference``: the idempotency key, or a digest of the request."""
    key = idempotency_key(request)
    if key is not None:
        if len(key) > ADYEN_MAX_KEY_LENGTH:
            return hashlib.sha256(key.encode("utf-8")).hexdigest()
        return key
    digest = hashlib.sha256()
    digest.update(request.method.upper().encode())
    digest.update(b" " + request_path(request).encode("utf-8", "replace") + b"\n")
    digest.update(request.body)
    return "seawall-" + digest.hexdigest()[:32]


# --- answers --------------------------------------------------------------------------


def _result(response: Response, result: dict[str, Any], charge: _Charge | None) -> Response:
    psp = result.get("pspReference")
    code = result.get("resultCode")
    if not isinstance(psp, str) or not psp:
        if code == "Refused":
            return _decline(response, result, None)
        return _api_error(
            response, 502, f"Adyen answered {code or 'a result'} without a pspReference."
        )
    if code in ("Authorised", "Pending", "Received"):
        return _charge_answer(response, result, charge, psp)
    if code == "Refused":
        return _decline(response, result, "ch_" + psp)
    if code in _SHOPPER_ACTIONS:
        return _card_error(
            response,
            "authentication_required",
            "authentication_required",
            _DECLINE_MESSAGES["authentication_required"],
            "ch_" + psp,
            adyen_result_code=str(code),
        )
    if code == "Cancelled":
        return _card_error(
            response, "card_declined", "generic_decline", "Your card was declined.", "ch_" + psp
        )
    if code == "Error":
        return _card_error(
            response,
            "processing_error",
            "processing_error",
            _DECLINE_MESSAGES["processing_error"],
            "ch_" + psp,
        )
    return _api_error(response, 502, f"Adyen answered an unknown resultCode {str(code)[:40]!r}.")


def _charge_answer(
    response: Response, result: dict[str, Any], charge: _Charge | None, psp: str
) -> Response:
    given = result.get("amount")
    amount: dict[str, Any] = given if isinstance(given, dict) else {}
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, int):
        value = charge.amount if charge and isinstance(charge.amount, int) else None
    currency = amount.get("currency")
    if not isinstance(currency, str):
        currency = charge.currency if charge and isinstance(charge.currency, str) else None
    authorised = result.get("resultCode") == "Authorised"
    captured = authorised and (charge.capture if charge else True)
    last4, brand = _card_summary(result, charge)
    metadata = dict(charge.metadata) if charge else {}
    if charge is not None:
        metadata.update(charge.extra)
    metadata["adyen_psp_reference"] = psp
    body = {
        "id": "ch_" + psp,
        "object": "charge",
        "amount": value,
        "amount_captured": value if captured else 0,
        "amount_refunded": 0,
        "captured": captured,
        "created": _created(response),
        "currency": currency.lower() if currency else None,
        "customer": charge.customer if charge else None,
        "description": charge.description if charge else None,
        "failure_code": None,
        "failure_message": None,
        "invoice": None,
        "livemode": False,
        "metadata": metadata,
        "outcome": {
            "network_status": "approved_by_network" if authorised else None,
            "type": "authorized" if authorised else None,
        },
        "paid": authorised,
        "payment_method_details": {"type": "card", "card": {"brand": brand, "last4": last4}},
        "refunded": False,
        "status": "succeeded" if authorised else "pending",
    }
    return answer(response, 200, body=dump_json(body))


def _card_summary(result: dict[str, Any], charge: _Charge | None) -> tuple[str | None, str]:
    data = result.get("additionalData")
    data = data if isinstance(data, dict) else {}
    summary = data.get("cardSummary")
    number = charge.card.number if charge and charge.card else ""
    last4 = summary if isinstance(summary, str) and summary else (number[-4:] or None)
    method = result.get("paymentMethod")
    brand = method.get("brand") if isinstance(method, dict) else data.get("paymentMethod")
    if not isinstance(brand, str) or not brand:
        brand = {"4": "visa", "5": "mastercard", "3": "amex", "6": "discover"}.get(
            number[:1], "unknown"
        )
    return last4, brand


def _created(response: Response) -> int | None:
    date = response.header("Date")
    if not date:
        return None
    try:
        return int(parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _decline(response: Response, result: dict[str, Any], charge_id: str | None) -> Response:
    reason_code = result.get("refusalReasonCode")
    code, decline = _REFUSALS.get(str(reason_code), ("card_declined", "generic_decline"))
    message = _DECLINE_MESSAGES.get(decline) or _DECLINE_MESSAGES.get(code)
    reason = result.get("refusalReason")
    return _card_error(
        response,
        code,
        decline,
        message or "Your card was declined.",
        charge_id,
        adyen_refusal_reason=reason if isinstance(reason, str) else None,
    )


def _card_error(
    response: Response,
    code: str,
    decline: str,
    message: str,
    charge_id: str | None,
    **extra: str | None,
) -> Response:
    error: dict[str, Any] = {
        "type": "card_error",
        "code": code,
        "decline_code": decline,
        "doc_url": _doc_url(code),
        "message": message,
    }
    if charge_id is not None:
        error["charge"] = charge_id
    error.update({key: value for key, value in extra.items() if value is not None})
    return answer(response, 402, body=dump_json({"error": error}))


def _client_error(
    response: Response, result: dict[str, Any] | None, charge: _Charge | None
) -> Response:
    status = response.status
    code = str(result.get("errorCode", "")) if result else ""
    message = _message(result, response.body)
    if code == "704":
        if (response.header("Transient-Error") or "").lower() == "true":
            return _error(
                response,
                409,
                "idempotency_error",
                message
                + " (another request with this Idempotency-Key is still in progress; retry later)",
                code="idempotency_key_in_use",
            )
        return _error(response, 400, "idempotency_error", message)
    if status in (401, 403):
        return _error(
            response,
            status,
            "invalid_request_error",
            f"Adyen refused the credentials: {message}",
            code="api_key_invalid" if status == 401 else "permission_denied",
        )
    if status == 429:
        return _error(response, 429, "invalid_request_error", message, code="rate_limit")
    if status == 422 or (result or {}).get("errorType") == "validation":
        return _validation_error(response, code, message, charge)
    return _error(response, status, "invalid_request_error", message)


def _validation_error(
    response: Response, code: str, message: str, charge: _Charge | None
) -> Response:
    """Adyen's 422 as Stripe's 400, naming the Stripe parameter where it can."""
    card_param = charge.card.param if charge and charge.card else "source"
    if code == "101":
        return _card_error(
            response,
            "incorrect_number",
            "incorrect_number",
            _DECLINE_MESSAGES["incorrect_number"],
            None,
            param=card_param,
        )
    missing = _REQUIRED_FIELD.search(message)
    adyen_field = missing.group(1) if missing else None
    param = _STRIPE_PARAM.get(adyen_field or "")
    if adyen_field and adyen_field.startswith("paymentMethod"):
        return _error(
            response,
            400,
            "invalid_request_error",
            "Must provide source or customer.",
            code="parameter_missing",
            param="source",
        )
    if code == "137" or param == "amount":
        if charge is not None and charge.amount is _MISSING:
            return _missing_param(response, "amount")
        return _error(
            response,
            400,
            "invalid_request_error",
            f"Invalid integer: {_short_value(charge.amount if charge else None)} ({message})",
            code="parameter_invalid_integer",
            param="amount",
        )
    if code == "138" or param == "currency":
        if charge is not None and charge.currency is _MISSING:
            return _missing_param(response, "currency")
        return _error(
            response,
            400,
            "invalid_request_error",
            f"Invalid currency: {_short_value(charge.currency if charge else None)} ({message})",
            code="parameter_invalid_string",
            param="currency",
        )
    if missing and param:
        return _missing_param(response, param)
    return _error(response, 400, "invalid_request_error", message, param=param)


def _missing_param(response: Response, param: str) -> Response:
    return _error(
        response,
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
    )


def _error(
    response: Response,
    status: int,
    kind: str,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
) -> Response:
    error: dict[str, Any] = {"type": kind}
    if code is not None:
        error["code"] = code
        error["doc_url"] = _doc_url(code)
    error["message"] = message
    if param is not None:
        error["param"] = param
    return answer(response, status, body=dump_json({"error": error}), drop=("Transient-Error",))


def _api_error(response: Response, status: int, message: str) -> Response:
    return _error(response, status, "api_error", message)


def _message(result: dict[str, Any] | None, body: bytes) -> str:
    if result is not None:
        message = result.get("message")
        code = result.get("errorCode")
        if isinstance(message, str) and message:
            suffix = f" (Adyen error {code})" if isinstance(code, str | int) and code != "" else ""
            return message[:500] + suffix
    return body_snippet(body) or "no details given"


def _doc_url(code: str) -> str:
    return "https://stripe.com/docs/error-codes/" + code.replace("_", "-")


def _short_value(value: Any) -> str:
    return str(value)[:40]
