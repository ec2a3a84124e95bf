"""The Adyen dialect of the payment simulator."""

from __future__ import annotations

import httpx
import pytest

from seawall.chaos import RunningSimulator

from ._support import DECLINED_CARD, StartSimulator

API_KEY = {"X-API-Key": "test_key"}
PAYMENT = {
    "amount": {"value": 1999, "currency": "EUR"},
    "reference": "order-7",
    "shopperReference": "shopper-1",
    "paymentMethod": {"type": "scheme", "number": "4111111111111111"},
}


@pytest.fixture
async def adyen(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("payment", dialect="adyen")


async def test_authorised_payment_is_recorded_in_the_shared_ledger(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An approved payment is Authorised with a pspReference, counted like a Stripe charge."""
    response = await http.post(f"{adyen.url}/v71/payments", json=PAYMENT, headers=API_KEY)
    assert response.status_code == 200
    result = response.json()
    assert result["resultCode"] == "Authorised"
    assert result["amount"] == {"value": 1999, "currency": "EUR"}
    assert result["merchantReference"] == "order-7"
    assert len(result["pspReference"]) == 16
    assert adyen.state.charge_count == 1
    assert adyen.state.charges[0].id == result["pspReference"]
    assert adyen.state.charges_by_customer() == {"shopper-1": 1}


async def test_refused_card_is_200_refused_not_an_http_error(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A declined card answers 200 with resultCode Refused, and no money is taken."""
    body = {**PAYMENT, "paymentMethod": {"type": "scheme", "number": DECLINED_CARD}}
    response = await http.post(f"{adyen.url}/v70/payments", json=body, headers=API_KEY)
    assert response.status_code == 200
    assert response.json()["resultCode"] == "Refused"
    assert response.json()["refusalReason"] == "Refused"
    assert adyen.state.charge_count == 0


async def test_missing_api_key_is_401_security_error(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Without X-API-Key the call is refused with Adyen's 401 service error."""
    response = await http.post(f"{adyen.url}/v71/payments", json=PAYMENT)
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "errorCode": "000",
        "message": "HTTP Status Response - Unauthorized",
        "errorType": "security",
    }


async def test_validation_errors_use_adyen_error_codes(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An invalid amount is 422 errorCode 137; a missing reference is 130."""
    bad_amount = {**PAYMENT, "amount": {"value": -1, "currency": "EUR"}}
    response = await http.post(f"{adyen.url}/v71/payments", json=bad_amount, headers=API_KEY)
    assert (response.status_code, response.json()["errorCode"]) == (422, "137")
    no_reference = {key: value for key, value in PAYMENT.items() if key != "reference"}
    response = await http.post(f"{adyen.url}/v71/payments", json=no_reference, headers=API_KEY)
    assert (response.status_code, response.json()["errorCode"]) == (422, "130")
    assert adyen.state.charge_count == 0


async def test_idempotency_key_replays_and_is_echoed(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """The same Idempotency-Key replays the first result, echoing the key, with one charge."""
    headers = {**API_KEY, "Idempotency-Key": "adyen-1"}
    first = await http.post(f"{adyen.url}/v71/payments", json=PAYMENT, headers=headers)
    second = await http.post(f"{adyen.url}/v71/payments", json=PAYMENT, headers=headers)
    assert first.headers["Idempotency-Key"] == "adyen-1"
    assert second.headers["Idempotency-Key"] == "adyen-1"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert adyen.state.charge_count == 1


async def test_adyen_keys_are_at_most_64_characters(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An Idempotency-Key over Adyen's 64-character limit is refused."""
    headers = {**API_KEY, "Idempotency-Key": "a" * 65}
    response = await http.post(f"{adyen.url}/v71/payments", json=PAYMENT, headers=headers)
    assert response.status_code == 400
    assert adyen.state.charge_count == 0


async def test_adyen_rejects_malformed_json_with_its_error_shape(
    adyen: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A body that is not JSON gets 400 errorCode 702 in Adyen's shape."""
    response = await http.post(
        f"{adyen.url}/v71/payments",
        content=b'{"amount": ',
        headers={**API_KEY, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "702"
    assert response.json()["errorType"] == "validation"
