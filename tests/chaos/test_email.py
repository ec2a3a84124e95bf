"""The email simulator: SendGrid and Mailgun dialects, exactly-once delivery."""

from __future__ import annotations

import httpx
import pytest

from seawall.chaos import RunningSimulator, SimulatorControl

from ._support import DROPPED, StartSimulator

MAIL = {
    "personalizations": [
        {"to": [{"email": "ann@example.com"}, {"email": "bob@example.com"}]},
    ],
    "from": {"email": "shop@example.com"},
    "subject": "Your order shipped",
    "content": [{"type": "text/plain", "value": "It is on its way."}],
}


@pytest.fixture
async def sendgrid(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("email")


@pytest.fixture
async def mailgun(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("email", dialect="mailgun")


async def test_sendgrid_send_is_202_with_a_message_id_and_records_each_recipient(
    sendgrid: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A valid send is 202 with X-Message-Id and an empty body; each recipient is logged in order."""
    response = await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL)
    assert response.status_code == 202
    assert response.content == b""
    message_id = response.headers["X-Message-Id"]
    delivered = sendgrid.state.messages
    assert [message.recipient for message in delivered] == ["ann@example.com", "bob@example.com"]
    assert {message.message_id for message in delivered} == {message_id}
    assert delivered[0].subject == "Your order shipped"
    assert delivered[0].sender == "shop@example.com"


async def test_sendgrid_reports_every_validation_error_at_once(
    sendgrid: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A send missing from, subject and content gets 400 listing each field."""
    body = {"personalizations": [{"to": [{"email": "not-an-address"}]}]}
    response = await http.post(f"{sendgrid.url}/v3/mail/send", json=body)
    assert response.status_code == 400
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == [
        "personalizations.0.to.0.email",
        "from.email",
        "subject",
        "content",
    ]
    assert sendgrid.state.message_count == 0


async def test_sendgrid_idempotency_key_sends_once_with_the_same_message_id(
    sendgrid: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A retried send under the same key gets the same message id and is not sent again."""
    headers = {"Idempotency-Key": "welcome-ann"}
    first = await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL, headers=headers)
    second = await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL, headers=headers)
    assert second.status_code == 202
    assert second.headers["X-Message-Id"] == first.headers["X-Message-Id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert sendgrid.state.per_recipient() == {"ann@example.com": 1, "bob@example.com": 1}
    assert {message.idempotency_key for message in sendgrid.state.messages} == {"welcome-ann"}


async def test_sendgrid_key_reused_for_another_message_is_422(
    sendgrid: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A key reused with a different message is refused with 422 in SendGrid's shape."""
    headers = {"Idempotency-Key": "k"}
    await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL, headers=headers)
    other = {**MAIL, "subject": "Something else"}
    response = await http.post(f"{sendgrid.url}/v3/mail/send", json=other, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_sendgrid_commit_then_fail_then_keyed_retry_delivers_exactly_once(
    sendgrid: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A send whose response was lost is delivered once when retried under the same key."""
    await SimulatorControl(sendgrid.url).add_fault(kind="commit_then_fail", first=1)
    headers = {"Idempotency-Key": "receipt-1"}
    with pytest.raises(DROPPED):
        await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL, headers=headers)
    retry = await http.post(f"{sendgrid.url}/v3/mail/send", json=MAIL, headers=headers)
    assert retry.status_code == 202
    assert sendgrid.state.message_count == 2  # two recipients, one delivery each
    assert sendgrid.state.messages[0].message_id == retry.headers["X-Message-Id"]


async def test_mailgun_form_send_is_queued(
    mailgun: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A form-encoded Mailgun send answers 200 Queued with an id on the domain."""
    form = {
        "from": "Shop <shop@mg.example.com>",
        "to": "ann@example.com, bob@example.com",
        "subject": "Hello",
        "text": "Hi there",
    }
    response = await http.post(f"{mailgun.url}/v3/mg.example.com/messages", data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Queued. Thank you."
    assert body["id"].startswith("<")
    assert body["id"].endswith("@mg.example.com>")
    assert [message.recipient for message in mailgun.state.messages] == [
        "ann@example.com",
        "bob@example.com",
    ]


async def test_mailgun_accepts_multipart_like_curl_dash_f(
    mailgun: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A multipart body (curl -F) with repeated to fields is accepted."""
    fields = [
        ("from", "shop@mg.example.com"),
        ("to", "ann@example.com"),
        ("to", "cy@example.com"),
        ("subject", "Multipart"),
        ("html", "<p>Hi</p>"),
    ]
    files = [(name, (None, value)) for name, value in fields]
    response = await http.post(f"{mailgun.url}/v3/mg.example.com/messages", files=files)
    assert response.status_code == 200
    assert mailgun.state.per_recipient() == {"ann@example.com": 1, "cy@example.com": 1}


async def test_mailgun_missing_parameters_are_400_messages(
    mailgun: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Missing from, to or body text get Mailgun's 400 {"message": ...}."""
    url = f"{mailgun.url}/v3/mg.example.com/messages"
    cases = [
        ({"to": "a@example.com", "text": "x"}, "'from' parameter is missing"),
        ({"from": "s@example.com", "text": "x"}, "'to' parameter is missing"),
        ({"from": "s@example.com", "to": "a@example.com"}, "Need at least one of"),
    ]
    for form, message in cases:
        response = await http.post(url, data=form)
        assert response.status_code == 400
        assert response.json()["message"].startswith(message)
    assert (await http.post(f"{mailgun.url}/v3/localhost/messages", data={})).status_code == 404


async def test_mailgun_idempotency_key_sends_once(
    mailgun: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A Mailgun send retried under the same key returns the same id and delivers once."""
    url = f"{mailgun.url}/v3/mg.example.com/messages"
    form = {"from": "s@example.com", "to": "ann@example.com", "subject": "S", "text": "T"}
    headers = {"Idempotency-Key": "mg-1"}
    first = await http.post(url, data=form, headers=headers)
    second = await http.post(url, data=form, headers=headers)
    assert second.json()["id"] == first.json()["id"]
    assert mailgun.state.message_count == 1
