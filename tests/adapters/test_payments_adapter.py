"""StripeToAdyen: Stripe charge calls translated to Adyen Checkout and back."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import seawall_adapters
from seawall_adapters import MAX_BODY_BYTES, UntranslatableRequest
from seawall_adapters.payments import StripeToAdyen

from seawall.chaos import RunningSimulator
from seawall.engine import Request, Response
from seawall.engine._adapter import Adapter, load_adapter

API_KEY = {"X-API-Key": "adyen_test_key"}
FORM = "application/x-www-form-urlencoded"
CHARGE = {
    "amount": "2000",
    "currency": "usd",
    "customer": "cus_42",
    "source": "tok_visa",
    "description": "Order 42",
    "metadata[order_id]": "42",
}
DECLINED = "4000000000000002"


def charge_request(
    params: dict[str, str] | None = None,
    *,
    key: str | None = "key-charge-1",
    target: str = "/v1/charges",
    extra_headers: list[tuple[str, str]] | None = None,
) -> Request:
    headers = [
        ("Authorization", "Bearer sk_test_stripe"),
        ("Stripe-Version", "2024-06-20"),
        ("Content-Type", FORM),
        ("Accept", "application/json"),
    ]
    if key is not None:
        headers.append(("Idempotency-Key", key))
    headers.extend(extra_headers or [])
    body = urlencode(CHARGE if params is None else params).encode()
    return Request("POST", target, headers, body)


def json_request(payload: Any, *, target: str = "/v1/charges", key: str = "key-json") -> Request:
    return Request(
        "POST",
        target,
        [("Content-Type", "application/json"), ("Idempotency-Key", key)],
        json.dumps(payload).encode(),
    )


def adyen_answer(status: int, payload: Any, **headers: str) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Response(
        status=status,
        headers=[("Content-Type", "application/json"), ("Content-Length", "999"), *headers.items()],
        body=body,
        provider="adyen",
        attempts=2,
    )


def stripe_error(response: Response) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    return error


AUTHORISED = {
    "additionalData": {"cardSummary": "4242"},
    "pspReference": "993617895204576J",
    "resultCode": "Authorised",
    "amount": {"value": 2000, "currency": "USD"},
    "merchantReference": "key-charge-1",
}


# --- requests -------------------------------------------------------------------------


def test_form_charge_becomes_an_adyen_payment() -> None:
    """A form-encoded Stripe charge becomes Adyen's /v71/payments JSON with the same key."""
    translated = StripeToAdyen().to_provider(charge_request())
    assert (translated.method, translated.target) == ("POST", "/v71/payments")
    assert json.loads(translated.body) == {
        "amount": {"value": 2000, "currency": "USD"},
        "reference": "key-charge-1",
        "paymentMethod": {"type": "scheme", "number": "4242424242424242"},
        "shopperReference": "cus_42",
        "metadata": {"order_id": "42"},
    }
    assert translated.headers == [
        ("Accept", "application/json"),
        ("Idempotency-Key", "key-charge-1"),
        ("Content-Type", "application/json"),
    ]


def test_json_charge_with_a_card_object_maps_every_card_field() -> None:
    """A JSON charge's card object, metadata, capture=false and receipt fields reach Adyen's names."""
    request = json_request(
        {
            "amount": 1500,
            "currency": "EUR",
            "card": {
                "number": "4111 1111 1111 1111",
                "exp_month": 3,
                "exp_year": 2030,
                "cvc": "737",
                "name": "Ada Lovelace",
            },
            "metadata": {"order": 7, "gift": True},
            "capture": False,
            "receipt_email": "ada@example.com",
            "statement_descriptor": "ACME",
        }
    )
    payment = json.loads(StripeToAdyen().to_provider(request).body)
    assert payment == {
        "amount": {"value": 1500, "currency": "EUR"},
        "reference": "key-json",
        "paymentMethod": {
            "type": "scheme",
            "number": "4111111111111111",
            "expiryMonth": "03",
            "expiryYear": "2030",
            "cvc": "737",
            "holderName": "Ada Lovelace",
        },
        "shopperEmail": "ada@example.com",
        "shopperStatement": "ACME",
        "additionalData": {"manualCapture": "true"},
        "metadata": {"order": "7", "gift": "true"},
    }


def test_translation_is_deterministic_and_derives_a_reference_without_a_key() -> None:
    """The same keyless request translates to the same bytes, with a derived seawall- reference."""
    adapter = StripeToAdyen()
    first = adapter.to_provider(charge_request(key=None))
    second = adapter.to_provider(charge_request(key=None))
    assert first == second
    reference = json.loads(first.body)["reference"]
    assert reference.startswith("seawall-")
    assert len(reference) == len("seawall-") + 32
    assert all(name.lower() != "idempotency-key" for name, _ in first.headers)


def test_a_key_longer_than_adyen_allows_is_replaced_by_its_digest() -> None:
    """An Idempotency-Key over 64 characters becomes its SHA-256 hex digest, header and reference alike."""
    key = "k" * 100
    translated = StripeToAdyen().to_provider(charge_request(key=key))
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert ("Idempotency-Key", digest) in translated.headers
    assert json.loads(translated.body)["reference"] == digest


def test_declining_test_tokens_map_to_declining_test_cards() -> None:
    """Stripe's tok_chargeDeclined reaches Adyen as the declining test card number."""
    params = {**CHARGE, "source": "tok_chargeDeclined"}
    payment = json.loads(StripeToAdyen().to_provider(charge_request(params)).body)
    assert payment["paymentMethod"] == {"type": "scheme", "number": DECLINED}


def test_merchant_account_is_set_by_subclassing() -> None:
    """A subclass naming merchant_account adds Adyen's merchantAccount to every payment."""

    class AcmeAdyen(StripeToAdyen):
        merchant_account = "AcmeECOM"

    payment = json.loads(AcmeAdyen().to_provider(charge_request()).body)
    assert payment["merchantAccount"] == "AcmeECOM"


def test_renewal_with_amount_and_card_becomes_a_recurring_payment() -> None:
    """A renewal carrying amount, currency and card becomes a ContAuth Subscription payment."""
    params = {"amount": "900", "currency": "usd", "customer": "cus_7", "source": "tok_visa"}
    request = charge_request(params, target="/v1/subscriptions/sub_123/renew")
    payment = json.loads(StripeToAdyen().to_provider(request).body)
    assert payment == {
        "amount": {"value": 900, "currency": "USD"},
        "reference": "sub_123",
        "paymentMethod": {"type": "scheme", "number": "4242424242424242"},
        "shopperReference": "cus_7",
        "shopperInteraction": "ContAuth",
        "recurringProcessingModel": "Subscription",
        "metadata": {"subscription": "sub_123"},
    }


def test_renewal_without_amount_is_untranslatable() -> None:
    """A bare renewal cannot be expressed: Adyen does not know the subscription's price."""
    request = charge_request({}, target="/v1/subscriptions/sub_123/renew")
    with pytest.raises(UntranslatableRequest, match="keeps no Stripe subscriptions") as caught:
        StripeToAdyen().to_provider(request)
    assert (caught.value.method, caught.value.path) == ("POST", "/v1/subscriptions/sub_123/renew")


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1/charges/ch_123"),
        ("POST", "/v1/refunds"),
        ("GET", "/v1/charges"),
        ("POST", "/v1/charges/ch_1/capture"),
        ("POST", "/v1/subscriptions/bad id/renew"),
    ],
)
def test_unmapped_calls_name_their_method_and_path(method: str, target: str) -> None:
    """A call with no Adyen mapping raises UntranslatableRequest naming its method and path."""
    request = Request(method, target, [("Content-Type", FORM)], b"")
    with pytest.raises(UntranslatableRequest) as caught:
        StripeToAdyen().to_provider(request)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{method} {target.partition('?')[0]} cannot be translated")


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ([("Content-Type", "application/json")], b"{not json", "not valid JSON"),
        ([("Content-Type", "application/json")], b"[1, 2]", "JSON object"),
        ([("Content-Type", "application/json")], b'{"amount": NaN}', "not valid JSON"),
        ([("Content-Type", "application/json")], b"[" * 100_000, "not valid JSON"),
        ([("Content-Type", FORM)], b"amount=%ff%fe", "cannot be parsed"),
        ([("Content-Type", FORM)], b"a[b][c][d][e]=1", "nested too deep"),
        ([("Content-Type", FORM)], b"card=1&card[number]=2", "conflicts"),
        ([("Content-Type", FORM)], b"tags[]=1&tags[x]=2", "mixes"),
        ([("Content-Type", FORM)], b"x]=1", "malformed"),
        ([("Content-Type", FORM)], b"&".join([b"a=1"] * 1001), "cannot be parsed"),
        ([("Content-Type", "multipart/form-data; boundary=x")], b"--x--", "not translated"),
        ([("Content-Type", FORM), ("Content-Encoding", "gzip")], b"\x1f\x8b", "gzip"),
        (
            [("Content-Type", FORM)],
            b"amount=100&transfer_data[destination]=acct_1",
            "transfer_data",
        ),
        (
            [("Content-Type", FORM)],
            b"amount=100&currency=usd&source=tok_live_abc",
            "stored at Stripe",
        ),
        ([("Content-Type", FORM)], b"amount=100&currency=usd&customer=cus_1", "customer's card"),
        ([("Content-Type", FORM)], b"amount=100&capture=maybe&source=tok_visa", "capture"),
        ([("Content-Type", "application/json")], b'{"metadata": {"a": {"b": 1}}}', "nested"),
        ([("Content-Type", "application/json")], b'{"customer": 5}', "string"),
        ([("Content-Type", "application/json")], b'{"card": {"cvc": "1"}}', "no number"),
        (
            [("Content-Type", FORM), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
            b"amount=100&currency=usd&source=tok_visa",
            "several different",
        ),
    ],
)
def test_malformed_or_unexpressible_requests_raise_untranslatable(
    headers: list[tuple[str, str]], body: bytes, reason: str
) -> None:
    """Malformed bodies and Stripe features Adyen cannot express raise UntranslatableRequest."""
    with pytest.raises(UntranslatableRequest, match=reason):
        StripeToAdyen().to_provider(Request("POST", "/v1/charges", headers, body))


def test_bodies_over_one_mebibyte_are_refused() -> None:
    """A canonical body larger than MAX_BODY_BYTES is refused before it is parsed."""
    body = b"description=" + b"x" * MAX_BODY_BYTES
    with pytest.raises(UntranslatableRequest, match="at most"):
        StripeToAdyen().to_provider(Request("POST", "/v1/charges", [("Content-Type", FORM)], body))


def test_random_bodies_only_ever_raise_untranslatable() -> None:
    """Thousands of random and mutated bodies either translate or raise UntranslatableRequest."""
    rng = random.Random(20240611)
    seeds = [
        urlencode(CHARGE).encode(),
        json.dumps({"amount": 5, "card": {"number": "4"}}).encode(),
    ]
    adapter = StripeToAdyen()
    outcomes = {"refused": 0, "translated": 0}
    for _ in range(3000):
        base = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            base[rng.randrange(len(base))] = rng.randrange(256)
        for kind in (FORM, "application/json", ""):
            headers = [("Content-Type", kind)] if kind else []
            try:
                translated = adapter.to_provider(
                    Request("POST", "/v1/charges", headers, bytes(base))
                )
            except UntranslatableRequest:
                outcomes["refused"] += 1
            else:
                assert isinstance(json.loads(translated.body), dict)
                outcomes["translated"] += 1
    assert outcomes["refused"] > 0
    assert outcomes["translated"] > 0


# --- answers --------------------------------------------------------------------------


def test_authorised_becomes_a_stripe_charge() -> None:
    """Adyen's Authorised answer becomes a Stripe charge object with the pspReference."""
    response = adyen_answer(200, AUTHORISED, Date="Tue, 11 Jun 2024 10:00:00 GMT")
    translated = StripeToAdyen().from_provider(response, charge_request())
    assert translated.status == 200
    assert (translated.provider, translated.attempts, translated.stale) == ("adyen", 2, None)
    assert translated.header("Content-Type") == "application/json"
    assert translated.header("Content-Length") is None
    charge = json.loads(translated.body)
    assert charge == {
        "id": "ch_993617895204576J",
        "object": "charge",
        "amount": 2000,
        "amount_captured": 2000,
        "amount_refunded": 0,
        "captured": True,
        "created": 1718100000,
        "currency": "usd",
        "customer": "cus_42",
        "description": "Order 42",
        "failure_code": None,
        "failure_message": None,
        "invoice": None,
        "livemode": False,
        "metadata": {"order_id": "42", "adyen_psp_reference": "993617895204576J"},
        "outcome": {"network_status": "approved_by_network", "type": "authorized"},
        "paid": True,
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "refunded": False,
        "status": "succeeded",
    }


def test_refused_becomes_a_402_card_error() -> None:
    """Adyen's Refused (not enough balance) becomes Stripe's 402 insufficient_funds decline."""
    refused = {
        **AUTHORISED,
        "resultCode": "Refused",
        "refusalReason": "Not enough balance",
        "refusalReasonCode": "12",
    }
    translated = StripeToAdyen().from_provider(adyen_answer(200, refused), charge_request())
    assert translated.status == 402
    error = stripe_error(translated)
    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["decline_code"] == "insufficient_funds"
    assert error["charge"] == "ch_993617895204576J"
    assert error["message"] == "Your card has insufficient funds."


def test_shopper_action_becomes_authentication_required() -> None:
    """A 3-D Secure redirect becomes Stripe's 402 authentication_required."""
    action = {**AUTHORISED, "resultCode": "RedirectShopper"}
    error = stripe_error(StripeToAdyen().from_provider(adyen_answer(200, action), charge_request()))
    assert (error["type"], error["code"]) == ("card_error", "authentication_required")


def test_pending_becomes_a_pending_unpaid_charge() -> None:
    """A Pending result is a Stripe charge with status pending and paid false."""
    pending = {**AUTHORISED, "resultCode": "Pending"}
    translated = StripeToAdyen().from_provider(adyen_answer(200, pending), charge_request())
    charge = json.loads(translated.body)
    assert (translated.status, charge["status"], charge["paid"]) == (200, "pending", False)


@pytest.mark.parametrize(
    ("adyen", "status", "expected"),
    [
        (
            {"status": 422, "errorCode": "137", "message": "Invalid amount specified"},
            400,
            {
                "type": "invalid_request_error",
                "code": "parameter_invalid_integer",
                "param": "amount",
            },
        ),
        (
            {"status": 422, "errorCode": "138", "message": "Unsupported currency specified"},
            400,
            {
                "type": "invalid_request_error",
                "code": "parameter_invalid_string",
                "param": "currency",
            },
        ),
        (
            {"status": 422, "errorCode": "101", "message": "Invalid card number"},
            402,
            {"type": "card_error", "code": "incorrect_number", "param": "source"},
        ),
        (
            {"status": 422, "errorCode": "704", "message": "Key already used"},
            400,
            {"type": "idempotency_error"},
        ),
        (
            {"status": 401, "errorCode": "000", "message": "Unauthorized"},
            401,
            {"type": "invalid_request_error", "code": "api_key_invalid"},
        ),
        (
            {"status": 429, "errorCode": "000", "message": "Too many requests"},
            429,
            {"type": "invalid_request_error", "code": "rate_limit"},
        ),
        (
            {"status": 500, "errorCode": "000", "message": "Internal error"},
            500,
            {"type": "api_error"},
        ),
        (b"<html>503 Service Unavailable</html>", 503, {"type": "api_error"}),
    ],
)
def test_adyen_errors_become_stripe_error_objects(
    adyen: Any, status: int, expected: dict[str, str]
) -> None:
    """Adyen's validation, auth, idempotency and server errors become Stripe-shaped errors."""
    given = adyen["status"] if isinstance(adyen, dict) else status
    translated = StripeToAdyen().from_provider(adyen_answer(given, adyen), charge_request())
    assert translated.status == status
    error = stripe_error(translated)
    assert {name: error.get(name) for name in expected} == expected
    assert isinstance(error["message"], str)
    assert error["message"]


def test_in_flight_key_becomes_stripe_409() -> None:
    """Adyen's transient 704 (key still in progress) becomes Stripe's retryable 409."""
    busy = {
        "status": 422,
        "errorCode": "704",
        "message": "request already processed or in progress",
    }
    response = adyen_answer(422, busy, **{"Transient-Error": "true", "Retry-After": "1"})
    translated = StripeToAdyen().from_provider(response, charge_request())
    assert translated.status == 409
    assert stripe_error(translated)["code"] == "idempotency_key_in_use"
    assert translated.header("Transient-Error") is None
    assert translated.header("Retry-After") == "1"


def test_missing_amount_is_reported_as_stripes_parameter_missing() -> None:
    """Adyen's missing-amount error names Stripe's amount parameter as parameter_missing."""
    request = charge_request({"currency": "usd", "source": "tok_visa"})
    missing = {
        "status": 422,
        "errorCode": "137",
        "message": "Invalid amount specified",
        "errorType": "validation",
    }
    error = stripe_error(StripeToAdyen().from_provider(adyen_answer(422, missing), request))
    assert (error["code"], error["param"]) == ("parameter_missing", "amount")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"not json"),
        (200, b"{}"),
        (200, b'{"resultCode": "Nonsense", "pspReference": "X"}'),
        (302, b""),
    ],
)
def test_unreadable_answers_become_502_api_errors(status: int, body: bytes) -> None:
    """An answer the adapter cannot read becomes a Stripe api_error, never an exception."""
    translated = StripeToAdyen().from_provider(adyen_answer(status, body), charge_request())
    assert translated.status == 502
    assert stripe_error(translated)["type"] == "api_error"


def test_random_answers_never_raise() -> None:
    """Random statuses and mutated bodies always translate to some Stripe-shaped answer."""
    rng = random.Random(7)
    seed = json.dumps(AUTHORISED).encode()
    adapter = StripeToAdyen()
    for _ in range(2000):
        body = bytearray(seed)
        for _ in range(rng.randint(0, 5)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        status = rng.choice([200, 201, 302, 400, 401, 404, 422, 429, 500, 503, 599])
        translated = adapter.from_provider(adyen_answer(status, bytes(body)), charge_request())
        assert 200 <= translated.status < 600
        json.loads(translated.body)


def test_the_adapter_loads_as_the_reference_configuration_names_it(examples_dir: Path) -> None:
    """load_adapter builds StripeToAdyen from its module:Class name, and it is an Adapter."""
    adapter = load_adapter("seawall_adapters.payments:StripeToAdyen", search=examples_dir)
    assert isinstance(adapter, Adapter)
    assert (type(adapter).__module__, type(adapter).__name__) == (
        StripeToAdyen.__module__,
        "StripeToAdyen",
    )
    request = charge_request()
    assert adapter.to_provider(request) == StripeToAdyen().to_provider(request)


# --- end to end against the Adyen simulator ----------------------------------------------


@pytest.fixture
async def adyen(start_simulator: Any) -> RunningSimulator:
    simulator: RunningSimulator = await start_simulator("payment", dialect="adyen")
    return simulator


@pytest.fixture
async def stripe(start_simulator: Any) -> RunningSimulator:
    simulator: RunningSimulator = await start_simulator("payment", dialect="stripe")
    return simulator


async def through_adyen(adyen: RunningSimulator, send: Any, request: Request) -> Response:
    adapter = StripeToAdyen()
    answer: Response = await send(adyen.url, adapter.to_provider(request), auth=API_KEY)
    return adapter.from_provider(answer, request)


async def test_charge_through_adyen_is_a_stripe_charge_and_one_adyen_payment(
    adyen: RunningSimulator, send: Any
) -> None:
    """A Stripe charge sent through the adapter to the Adyen simulator makes exactly one payment."""
    translated = await through_adyen(adyen, send, charge_request())
    assert translated.status == 200
    charge = json.loads(translated.body)
    assert charge["object"] == "charge"
    assert (charge["amount"], charge["currency"], charge["customer"]) == (2000, "usd", "cus_42")
    assert (charge["status"], charge["paid"]) == ("succeeded", True)
    assert isinstance(charge["created"], int)
    ledger: Any = adyen.state
    assert ledger.charge_count == 1
    made = ledger.charges[0]
    assert charge["id"] == "ch_" + made.id
    assert charge["metadata"] == {"order_id": "42", "adyen_psp_reference": made.id}
    assert (made.amount, made.currency, made.customer) == (2000, "USD", "cus_42")
    assert (made.reference, made.idempotency_key) == ("key-charge-1", "key-charge-1")


async def test_same_key_twice_is_still_one_adyen_payment(
    adyen: RunningSimulator, send: Any
) -> None:
    """A retry with the same Idempotency-Key is replayed by Adyen: one payment, the same charge id."""
    first = await through_adyen(adyen, send, charge_request())
    second = await through_adyen(adyen, send, charge_request())
    assert (first.status, second.status) == (200, 200)
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    assert second.header("Idempotent-Replayed") == "true"
    ledger: Any = adyen.state
    assert ledger.charge_count == 1


async def test_declined_card_through_adyen_is_a_402_card_declined(
    adyen: RunningSimulator, send: Any
) -> None:
    """A declining test card is refused by Adyen and answered as Stripe's 402 card_declined."""
    translated = await through_adyen(adyen, send, charge_request({**CHARGE, "source": DECLINED}))
    assert translated.status == 402
    error = stripe_error(translated)
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    ledger: Any = adyen.state
    assert (ledger.charge_count, len(ledger.declines)) == (0, 1)


async def test_adyen_answers_match_what_stripe_itself_answers(
    adyen: RunningSimulator, stripe: RunningSimulator, send: Any
) -> None:
    """For one charge, one decline and one missing amount, Adyen-through-the-adapter answers like Stripe."""
    cases = [
        charge_request(key="parity-ok"),
        charge_request({**CHARGE, "source": "tok_chargeDeclined"}, key="parity-declined"),
        charge_request({"currency": "usd", "source": "tok_visa"}, key="parity-missing"),
    ]
    for request in cases:
        direct: Response = await send(stripe.url, request)
        translated = await through_adyen(adyen, send, request)
        assert translated.status == direct.status, request.header("Idempotency-Key")
        want, got = json.loads(direct.body), json.loads(translated.body)
        if direct.status == 200:
            for name in ("object", "amount", "currency", "customer", "status", "paid", "captured"):
                assert got[name] == want[name], name
            assert got["metadata"].items() >= want["metadata"].items()
        else:
            for name in ("type", "code", "decline_code", "param"):
                assert got["error"].get(name) == want["error"].get(name), name


async def test_reused_key_with_other_parameters_is_stripes_idempotency_error(
    adyen: RunningSimulator, send: Any
) -> None:
    """The same key with a different amount is refused by Adyen as Stripe's 400 idempotency_error."""
    await through_adyen(adyen, send, charge_request())
    changed = await through_adyen(adyen, send, charge_request({**CHARGE, "amount": "2500"}))
    assert changed.status == 400
    assert stripe_error(changed)["type"] == "idempotency_error"
    ledger: Any = adyen.state
    assert ledger.charge_count == 1


async def test_renewal_through_adyen_bills_the_subscription_reference(
    adyen: RunningSimulator, send: Any
) -> None:
    """A renewal with its amount and card becomes one Adyen payment referenced by the subscription."""
    params = {"amount": "900", "currency": "usd", "customer": "cus_7", "source": "tok_visa"}
    request = charge_request(params, key="renew-1", target="/v1/subscriptions/sub_9/renew")
    translated = await through_adyen(adyen, send, request)
    assert translated.status == 200
    charge = json.loads(translated.body)
    assert charge["description"] == "Subscription sub_9"
    assert charge["metadata"]["subscription"] == "sub_9"
    ledger: Any = adyen.state
    assert [(c.reference, c.customer, c.amount) for c in ledger.charges] == [
        ("sub_9", "cus_7", 900)
    ]


async def test_missing_backup_credentials_are_a_stripe_shaped_401(
    adyen: RunningSimulator, http: Any
) -> None:
    """Without X-API-Key Adyen answers 401, which comes back as a Stripe-shaped 401 error."""
    adapter = StripeToAdyen()
    request = charge_request()
    outgoing = adapter.to_provider(request)
    reply = await http.post(
        adyen.url + outgoing.target, headers=outgoing.headers, content=outgoing.body
    )
    answer = Response(reply.status_code, list(reply.headers.multi_items()), reply.content)
    translated = adapter.from_provider(answer, request)
    assert translated.status == 401
    assert stripe_error(translated)["type"] == "invalid_request_error"


def test_untranslatable_request_survives_pickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """UntranslatableRequest pickles with its method, path and reason intact."""
    monkeypatch.setitem(sys.modules, "seawall_adapters", seawall_adapters)
    error = UntranslatableRequest("POST", "/v1/refunds?x=1", "no mapping")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.method, copy.path, copy.reason, str(copy)) == (
        "POST",
        "/v1/refunds",
        "no mapping",
        str(error),
    )
