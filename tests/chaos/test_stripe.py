"""The Stripe dialect of the payment simulator: charges, subscriptions, idempotency."""

from __future__ import annotations

import httpx

from seawall._types import ManualClock
from seawall.chaos import RunningSimulator
from seawall.chaos.simulators._ledger import BILLING_PERIOD_SECONDS

from ._support import CHARGE, DECLINED_CARD


async def test_form_encoded_charge_succeeds_and_is_counted(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A form-encoded charge returns a Stripe charge object and lands in the ledger."""
    form = {**CHARGE, "metadata[order]": "A-1"}
    response = await http.post(f"{stripe.url}/v1/charges", data=form)
    assert response.status_code == 200
    charge = response.json()
    assert charge["id"].startswith("ch_")
    assert charge["object"] == "charge"
    assert (charge["amount"], charge["currency"], charge["status"]) == (2000, "usd", "succeeded")
    assert charge["paid"] is True
    assert charge["metadata"] == {"order": "A-1"}
    assert stripe.state.charge_count == 1
    assert stripe.state.charges_by_customer() == {"cus_1": 1}
    fetched = await http.get(f"{stripe.url}/v1/charges/{charge['id']}")
    assert fetched.json()["id"] == charge["id"]


async def test_json_charge_with_a_card_number_succeeds(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A JSON charge carrying a card number is accepted like the form one."""
    body = {"amount": 500, "currency": "EUR", "card": {"number": "5555 5555 5555 4444"}}
    response = await http.post(f"{stripe.url}/v1/charges", json=body)
    assert response.status_code == 200
    details = response.json()["payment_method_details"]["card"]
    assert details == {"brand": "mastercard", "last4": "4444"}
    assert response.json()["currency"] == "eur"


async def test_declined_card_answers_402_card_error_and_takes_no_money(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Card 4000000000000002 gets 402 card_declined; the attempt is a decline, not a charge."""
    response = await http.post(f"{stripe.url}/v1/charges", data={**CHARGE, "source": DECLINED_CARD})
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline"
    assert stripe.state.charge_count == 0
    assert [decline.id for decline in stripe.state.declines] == [error["charge"]]


async def test_charge_validation_errors_name_the_parameter(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Missing or invalid parameters get 400 invalid_request_error with the param named."""
    cases = [
        ({"currency": "usd", "source": "tok_visa"}, "parameter_missing", "amount"),
        ({**CHARGE, "amount": "ten"}, "parameter_invalid_integer", "amount"),
        ({**CHARGE, "amount": "10"}, "amount_too_small", "amount"),
        ({"amount": 900, "source": "tok_visa"}, "parameter_missing", "currency"),
        ({"amount": 900, "currency": "usd"}, "parameter_missing", "source"),
    ]
    for form, code, param in cases:
        response = await http.post(f"{stripe.url}/v1/charges", data=form)
        assert response.status_code == 400, form
        error = response.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            code,
            param,
        )
    assert stripe.state.charge_count == 0


async def test_unknown_charge_is_resource_missing(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """GET of an unknown charge id is 404 resource_missing."""
    response = await http.get(f"{stripe.url}/v1/charges/ch_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


async def test_idempotent_retry_replays_the_stored_response_byte_for_byte(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """The same key and parameters replay the first response exactly, marked Idempotent-Replayed."""
    headers = {"Idempotency-Key": "k-1"}
    first = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    second = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert stripe.state.charge_count == 1
    (record,) = stripe.state.idempotency.snapshot()
    assert (record["key"], record["status"], record["replays"]) == ("k-1", 200, 1)


async def test_idempotent_replay_ignores_encoding_and_key_order(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A retry sent as JSON instead of a form is still the same request."""
    headers = {"Idempotency-Key": "k-enc"}
    await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    body = dict(reversed(list(CHARGE.items())))
    again = await http.post(f"{stripe.url}/v1/charges", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stripe.state.charge_count == 1


async def test_declines_are_replayed_too(stripe: RunningSimulator, http: httpx.AsyncClient) -> None:
    """A stored 402 is replayed to a retry instead of trying the card again."""
    headers = {"Idempotency-Key": "k-decline"}
    form = {**CHARGE, "source": DECLINED_CARD}
    first = await http.post(f"{stripe.url}/v1/charges", data=form, headers=headers)
    second = await http.post(f"{stripe.url}/v1/charges", data=form, headers=headers)
    assert (first.status_code, second.status_code) == (402, 402)
    assert second.content == first.content
    assert len(stripe.state.declines) == 1


async def test_same_key_with_different_parameters_is_an_idempotency_error(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Reusing a key with other parameters gets 400 idempotency_error and charges nothing."""
    headers = {"Idempotency-Key": "k-2"}
    await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    other = await http.post(
        f"{stripe.url}/v1/charges", data={**CHARGE, "amount": 2500}, headers=headers
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert stripe.state.charge_count == 1


async def test_same_key_on_another_endpoint_is_an_idempotency_error(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A key first used for a charge cannot be reused for a subscription."""
    headers = {"Idempotency-Key": "k-3"}
    await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    other = await http.post(
        f"{stripe.url}/v1/subscriptions", data={"customer": "cus_1"}, headers=headers
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


async def test_a_request_that_fails_validation_does_not_store_its_key(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A 400 for bad parameters stores nothing, so the key works for the corrected request."""
    headers = {"Idempotency-Key": "k-4"}
    bad = await http.post(f"{stripe.url}/v1/charges", data={"currency": "usd"}, headers=headers)
    assert bad.status_code == 400
    assert stripe.state.idempotency.snapshot() == []
    good = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert good.status_code == 200
    assert "Idempotent-Replayed" not in good.headers


async def test_keys_expire_after_24_hours(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A key older than 24 hours is forgotten: the same request charges again."""
    clock = ManualClock(start=1_700_000_000.0)
    stripe.state.clock = clock
    headers = {"Idempotency-Key": "k-5"}
    await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    clock.advance(23 * 3600)
    replay = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    clock.advance(3600)
    fresh = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert "Idempotent-Replayed" not in fresh.headers
    assert stripe.state.charge_count == 2


async def test_overlong_idempotency_key_is_refused(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A key longer than 255 characters gets 400 and no charge."""
    headers = {"Idempotency-Key": "k" * 256}
    response = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert response.status_code == 400
    assert stripe.state.charge_count == 0


async def test_subscription_creation_bills_the_first_period(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A new subscription is active, ends its period 30 days on, and charges once."""
    stripe.state.clock = ManualClock(start=1_700_000_000.0)
    response = await http.post(
        f"{stripe.url}/v1/subscriptions", data={"customer": "cus_9", "items[0][price]": "price_pro"}
    )
    assert response.status_code == 200
    subscription = response.json()
    assert subscription["id"].startswith("sub_")
    assert (subscription["customer"], subscription["status"]) == ("cus_9", "active")
    assert subscription["current_period_end"] == 1_700_000_000 + BILLING_PERIOD_SECONDS
    assert subscription["items"]["data"][0]["price"]["unit_amount"] == 2900
    assert stripe.state.charges_by_subscription() == {subscription["id"]: 1}
    fetched = await http.get(f"{stripe.url}/v1/subscriptions/{subscription['id']}")
    assert fetched.json()["latest_charge"] == stripe.state.charges[0].id


async def test_renewal_charges_the_amount_and_advances_the_period(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Each renewal is a new charge of the subscription's amount and moves the period on."""
    created = await http.post(
        f"{stripe.url}/v1/subscriptions", json={"customer": "cus_2", "amount": 1500}
    )
    subscription = created.json()
    renewal = await http.post(f"{stripe.url}/v1/subscriptions/{subscription['id']}/renew")
    assert renewal.status_code == 200
    charge = renewal.json()
    assert (charge["object"], charge["amount"], charge["customer"]) == ("charge", 1500, "cus_2")
    assert charge["metadata"] == {"subscription": subscription["id"]}
    fetched = (await http.get(f"{stripe.url}/v1/subscriptions/{subscription['id']}")).json()
    assert fetched["current_period_end"] == (
        subscription["current_period_end"] + BILLING_PERIOD_SECONDS
    )
    assert stripe.state.charges_by_subscription() == {subscription["id"]: 2}


async def test_renewal_with_a_key_bills_once(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Retrying a renewal under the same key replays it instead of billing again."""
    created = await http.post(
        f"{stripe.url}/v1/subscriptions", data={"customer": "cus_3", "price": "price_basic"}
    )
    url = f"{stripe.url}/v1/subscriptions/{created.json()['id']}/renew"
    headers = {"Idempotency-Key": "renew-2026-01"}
    first = await http.post(url, headers=headers)
    second = await http.post(url, headers=headers)
    assert second.json()["id"] == first.json()["id"]
    assert stripe.state.charges_by_subscription() == {created.json()["id"]: 2}


async def test_unknown_subscription_is_resource_missing(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Reading or renewing an unknown subscription is 404 resource_missing."""
    for response in (
        await http.get(f"{stripe.url}/v1/subscriptions/sub_nope"),
        await http.post(f"{stripe.url}/v1/subscriptions/sub_nope/renew"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"


async def test_subscription_needs_a_customer(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A subscription without a customer is 400 parameter_missing."""
    response = await http.post(f"{stripe.url}/v1/subscriptions", data={"price": "price_basic"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "customer"
