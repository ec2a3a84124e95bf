"""A Stripe-like payment API: charges, subscriptions and renewals.

Shapes follow Stripe's API reference (https://docs.stripe.com/api/charges,
https://docs.stripe.com/api/subscriptions) and error objects
(https://docs.stripe.com/api/errors): ``{"error": {"type", "code",
"message", "param", ...}}``. ``POST /v1/subscriptions/{id}/renew`` is not a
Stripe endpoint: it stands in for the invoice cycle, so a test can bill a
period on demand. Every POST honours ``Idempotency-Key`` as Stripe documents
it (see :mod:`seawall.chaos._idempotency`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError, json_response, read_params, vendor_work
from seawall.chaos._idempotency import IDEMPOTENCY_HEADER, respond_idempotently
from seawall.chaos.simulators import _stripe_params as param
from seawall.chaos.simulators._base import Vendor
from seawall.chaos.simulators._ledger import Charge, PaymentLedger, Subscription, card_outcome

__all__ = ["StripeApi", "build_stripe", "render_stripe_error"]

_STRIPE_TTL_SECONDS = 24 * 3600


def render_stripe_error(error: VendorError) -> web.Response:
    """Stripe's error object; ``type`` follows the status unless a handler set it."""
    details = dict(error.details)
    payload: dict[str, Any] = {"type": details.pop("type", None) or _error_type(error.status)}
    if error.code:
        payload["code"] = error.code
        payload["doc_url"] = "https://stripe.com/docs/error-codes/" + error.code.replace("_", "-")
    payload["message"] = error.message
    if error.field:
        payload["param"] = error.field
    payload.update(details)
    return json_response({"error": payload}, status=error.status, headers=error.headers)


def _error_type(status: int) -> str:
    if status == 402:
        return "card_error"
    if status >= 500:
        return "api_error"
    return "invalid_request_error"


class StripeApi:
    """Route handlers over one :class:`PaymentLedger`."""

    def __init__(self, ledger: PaymentLedger) -> None:
        self.ledger = ledger

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/charges", self.create_charge),
            web.get("/v1/charges/{charge_id}", self.get_charge),
            web.post("/v1/subscriptions", self.create_subscription),
            web.get("/v1/subscriptions/{subscription_id}", self.get_subscription),
            web.post("/v1/subscriptions/{subscription_id}/renew", self.renew_subscription),
        ]

    async def create_charge(self, request: web.Request) -> web.Response:
        params = await read_params(request)

        async def execute() -> web.Response:
            amount = param.amount(params)
            currency = param.currency(params)
            customer = param.optional_str(params, "customer")
            number = param.card_number(params)
            if number is None and customer is None:
                raise VendorError(
                    400,
                    "Must provide source or customer.",
                    code="parameter_missing",
                    field="source",
                )
            await vendor_work(request)
            outcome = card_outcome(number)
            charge = self.ledger.record_charge(
                amount=amount,
                currency=currency,
                outcome=outcome,
                customer=customer,
                description=param.optional_str(params, "description"),
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
                metadata=param.metadata(params),
            )
            if not outcome.approved:
                return _decline(charge)
            return json_response(stripe_charge(charge))

        return await self._idempotent(request, params, execute)

    async def get_charge(self, request: web.Request) -> web.Response:
        charge_id = request.match_info["charge_id"]
        charge = self.ledger.find_charge(charge_id)
        if charge is None:
            raise _missing("charge", charge_id)
        return json_response(stripe_charge(charge))

    async def create_subscription(self, request: web.Request) -> web.Response:
        params = await read_params(request)

        async def execute() -> web.Response:
            customer = param.optional_str(params, "customer")
            if customer is None:
                raise VendorError(
                    400,
                    "Missing required param: customer.",
                    code="parameter_missing",
                    field="customer",
                )
            price, amount = param.price_and_amount(params)
            currency = param.currency(params, default="usd")
            await vendor_work(request)
            outcome = card_outcome(param.card_number(params))
            subscription = self.ledger.open_subscription(
                customer=customer, amount=amount, currency=currency, price=price
            )
            # The first period is invoiced and paid when the subscription starts.
            charge = self.ledger.bill(
                subscription,
                outcome=outcome,
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
            if not outcome.approved:
                subscription.status = "incomplete"
                return _decline(charge)
            return json_response(stripe_subscription(subscription))

        return await self._idempotent(request, params, execute)

    async def get_subscription(self, request: web.Request) -> web.Response:
        subscription_id = request.match_info["subscription_id"]
        subscription = self.ledger.subscriptions.get(subscription_id)
        if subscription is None:
            raise _missing("subscription", subscription_id)
        return json_response(stripe_subscription(subscription))

    async def renew_subscription(self, request: web.Request) -> web.Response:
        subscription_id = request.match_info["subscription_id"]
        params = await read_params(request)

        async def execute() -> web.Response:
            subscription = self.ledger.subscriptions.get(subscription_id)
            if subscription is None:
                raise _missing("subscription", subscription_id)
            if subscription.status != "active":
                raise VendorError(
                    400,
                    f"Subscription {subscription_id} is {subscription.status}; only an active "
                    "subscription renews.",
                    code="subscription_inactive",
                )
            await vendor_work(request)
            charge = self.ledger.renew(
                subscription, idempotency_key=request.headers.get(IDEMPOTENCY_HEADER)
            )
            return json_response(stripe_charge(charge))

        return await self._idempotent(request, params, execute)

    async def _idempotent(
        self,
        request: web.Request,
        params: dict[str, Any],
        execute: Callable[[], Awaitable[web.Response]],
    ) -> web.Response:
        return await respond_idempotently(
            request,
            self.ledger.idempotency,
            params,
            execute,
            mismatch=_idempotency_mismatch,
            in_flight=_idempotency_in_flight,
            max_key_length=255,
        )


def stripe_charge(charge: Charge) -> dict[str, Any]:
    """A ``charge`` object as https://docs.stripe.com/api/charges/object shows it."""
    succeeded = charge.succeeded
    return {
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount if succeeded else 0,
        "amount_refunded": 0,
        "captured": succeeded,
        "created": charge.created,
        "currency": charge.currency,
        "customer": charge.customer,
        "description": charge.description,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "invoice": None,
        "livemode": False,
        "metadata": charge.metadata,
        "outcome": {
            "network_status": "approved_by_network" if succeeded else "declined_by_network",
            "type": "authorized" if succeeded else "issuer_declined",
        },
        "paid": succeeded,
        "payment_method_details": {
            "type": "card",
            "card": {"brand": charge.card_brand, "last4": charge.card_last4},
        },
        "refunded": False,
        "status": charge.status,
    }


def stripe_subscription(subscription: Subscription) -> dict[str, Any]:
    """A ``subscription`` object (https://docs.stripe.com/api/subscriptions/object)."""
    return {
        "id": subscription.id,
        "object": "subscription",
        "customer": subscription.customer,
        "status": subscription.status,
        "created": subscription.created,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "items": {
            "object": "list",
            "data": [
                {
                    "object": "subscription_item",
                    "price": {
                        "id": subscription.price,
                        "object": "price",
                        "unit_amount": subscription.amount,
                        "currency": subscription.currency,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                }
            ],
        },
        "latest_charge": subscription.charge_ids[-1] if subscription.charge_ids else None,
        "livemode": False,
        "metadata": subscription.metadata,
    }


def build_stripe(seed: int | None) -> Vendor:
    ledger = PaymentLedger(dialect="stripe", seed=seed, idempotency_ttl_seconds=_STRIPE_TTL_SECONDS)
    return Vendor(
        kind="payment",
        dialect="stripe",
        state=ledger,
        routes=StripeApi(ledger).routes(),
        render_error=render_stripe_error,
    )


def _decline(charge: Charge) -> web.Response:
    return render_stripe_error(
        VendorError(
            402,
            charge.failure_message or "Your card was declined.",
            code=charge.failure_code or "card_declined",
            details={
                "type": "card_error",
                "charge": charge.id,
                "decline_code": charge.decline_code,
            },
        )
    )


def _missing(resource: str, identifier: str) -> VendorError:
    return VendorError(
        404, f"No such {resource}: '{identifier}'", code="resource_missing", field="id"
    )


def _idempotency_mismatch(key: str) -> VendorError:
    return VendorError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        details={"type": "idempotency_error"},
    )


def _idempotency_in_flight(key: str) -> VendorError:
    return VendorError(
        409,
        f"There is currently another in-progress request using the idempotency key '{key}'. "
        "Please try again later.",
        code="idempotency_key_in_use",
        details={"type": "idempotency_error"},
    )
