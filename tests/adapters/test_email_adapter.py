"""SendgridToMailgun: SendGrid v3 mail sends translated to Mailgun and back."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from seawall_adapters import MAX_BODY_BYTES, UntranslatableRequest
from seawall_adapters.email import SendgridToMailgun

from seawall.chaos import RunningSimulator
from seawall.engine import Request, Response
from seawall.engine._adapter import Adapter, load_adapter

MAIL: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "ann@example.com"}, {"email": "bob@example.org"}]}],
    "from": {"email": "shop@mail.acme.test"},
    "subject": "Your receipt",
    "content": [
        {"type": "text/plain", "value": "Thanks!"},
        {"type": "text/html", "value": "<p>Thanks!</p>"},
    ],
}


def send_request(payload: Any = None, *, key: str | None = "mail-key-1") -> Request:
    headers = [
        ("Authorization", "Bearer SG.secret"),
        ("Content-Type", "application/json"),
        ("On-Behalf-Of", "subuser"),
        ("X-Request-Id", "req-1"),
    ]
    if key is not None:
        headers.append(("Idempotency-Key", key))
    body = (
        payload if isinstance(payload, bytes) else json.dumps(MAIL if payload is None else payload)
    )
    return Request(
        "POST", "/v3/mail/send", headers, body if isinstance(body, bytes) else body.encode()
    )


def form(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode(), keep_blank_values=True, strict_parsing=True)


def mailgun_answer(status: int, payload: Any) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Response(
        status=status,
        headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        body=body,
        provider="mailgun",
        attempts=1,
    )


def sendgrid_errors(response: Response) -> list[dict[str, Any]]:
    body = json.loads(response.body)
    assert set(body) == {"errors"}
    errors: list[dict[str, Any]] = body["errors"]
    assert all(set(error) == {"message", "field", "help"} for error in errors)
    return errors


# --- requests -------------------------------------------------------------------------


def test_send_becomes_a_mailgun_form_on_the_senders_domain() -> None:
    """A SendGrid send becomes a urlencoded Mailgun message on the from-address's domain."""
    translated = SendgridToMailgun().to_provider(send_request())
    assert (translated.method, translated.target) == ("POST", "/v3/mail.acme.test/messages")
    assert form(translated) == [
        ("from", "shop@mail.acme.test"),
        ("to", "ann@example.com"),
        ("to", "bob@example.org"),
        ("subject", "Your receipt"),
        ("text", "Thanks!"),
        ("html", "<p>Thanks!</p>"),
    ]
    assert translated.headers == [
        ("X-Request-Id", "req-1"),
        ("Idempotency-Key", "mail-key-1"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]


def test_every_supported_sendgrid_field_reaches_its_mailgun_name() -> None:
    """Names, cc/bcc, reply-to, headers, custom args, categories, send_at and settings all map."""
    payload = {
        "personalizations": [
            {
                "to": [{"email": "ann@example.com", "name": "Ann Example"}],
                "cc": [{"email": "cc@example.com"}],
                "bcc": [{"email": "bcc@example.com"}],
                "subject": "Personal subject",
                "headers": {"X-Campaign": "june"},
                "custom_args": {"user": "42"},
            }
        ],
        "from": {"email": "shop@acme.test", "name": "Acme Shop"},
        "reply_to": {"email": "help@acme.test", "name": "Help"},
        "subject": "Ignored for the personalization's",
        "content": [{"type": "text/plain", "value": "Hi"}],
        "headers": {"X-Campaign": "default", "X-Priority": "1"},
        "custom_args": {"source": "checkout"},
        "categories": ["receipt", "june"],
        "send_at": 1718100000,
        "mail_settings": {"sandbox_mode": {"enable": True}, "spam_check": {"enable": True}},
        "tracking_settings": {
            "click_tracking": {"enable": False},
            "open_tracking": {"enable": True},
        },
        "ip_pool_name": "transactional",
    }
    translated = SendgridToMailgun().to_provider(send_request(payload))
    assert translated.target == "/v3/acme.test/messages"
    assert form(translated) == [
        ("from", "Acme Shop <shop@acme.test>"),
        ("to", "Ann Example <ann@example.com>"),
        ("cc", "cc@example.com"),
        ("bcc", "bcc@example.com"),
        ("subject", "Personal subject"),
        ("text", "Hi"),
        ("h:Reply-To", "Help <help@acme.test>"),
        ("h:X-Campaign", "june"),
        ("h:X-Priority", "1"),
        ("v:source", "checkout"),
        ("v:user", "42"),
        ("o:tag", "receipt"),
        ("o:tag", "june"),
        ("o:deliverytime", "Tue, 11 Jun 2024 10:00:00 GMT"),
        ("o:testmode", "yes"),
        ("o:tracking-clicks", "no"),
        ("o:tracking-opens", "yes"),
    ]


def test_several_personalizations_become_one_batch_send() -> None:
    """One-recipient personalizations become a Mailgun batch, so no recipient sees another."""
    payload = {
        **MAIL,
        "personalizations": [
            {"to": [{"email": "ann@example.com"}]},
            {"to": [{"email": "bob@example.org", "name": "Bob"}], "subject": "Your receipt"},
        ],
    }
    fields = form(SendgridToMailgun().to_provider(send_request(payload)))
    assert ("to", "ann@example.com") in fields
    assert ("to", "Bob <bob@example.org>") in fields
    variables = dict(fields)["recipient-variables"]
    assert json.loads(variables) == {"ann@example.com": {}, "bob@example.org": {}}


def test_translation_is_deterministic() -> None:
    """The same SendGrid request always translates to the same Mailgun request."""
    adapter = SendgridToMailgun()
    assert adapter.to_provider(send_request()) == adapter.to_provider(send_request())


def test_domain_is_set_by_subclassing() -> None:
    """A subclass naming its Mailgun domain sends there whatever the from-address says."""

    class Mine(SendgridToMailgun):
        domain = "mg.acme.test"

    assert Mine().to_provider(send_request()).target == "/v3/mg.acme.test/messages"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"template_id": "d-123"}, "template"),
        ({"attachments": [{"content": "aGk=", "filename": "a.txt"}]}, "attachments"),
        ({"asm": {"group_id": 1}}, "unsubscribe groups"),
        ({"unknown_thing": 1}, "unknown_thing"),
        ({"from": None}, "not a domain"),
        ({"from": {"email": "nobody"}}, "not a domain"),
        ({"from": {"email": "x@bad_domain.test/../"}}, "not a domain"),
        ({"from": "shop@acme.test"}, "must be an object"),
        ({"content": [{"type": "text/calendar", "value": "x"}]}, "no Mailgun field"),
        (
            {
                "content": [
                    {"type": "text/plain", "value": "a"},
                    {"type": "text/plain", "value": "b"},
                ]
            },
            "second",
        ),
        ({"content": "hello"}, "must be a list"),
        ({"headers": {"X-Evil": "a\r\nBcc: victim@example.com"}}, "not a valid header"),
        ({"headers": {"Bad Name": "x"}}, "not a valid header"),
        ({"reply_to": {"email": "a@b.test"}, "reply_to_list": [{"email": "c@d.test"}]}, "both"),
        ({"send_at": "tomorrow"}, "Unix timestamp"),
        ({"mail_settings": {"footer": {"enable": True, "text": "x"}}}, "footer"),
        (
            {"tracking_settings": {"subscription_tracking": {"enable": True}}},
            "subscription_tracking",
        ),
        (
            {"personalizations": [{"to": [{"email": "a@b.test"}], "dynamic_template_data": {}}]},
            "template",
        ),
        ({"personalizations": [{"to": "a@b.test"}]}, "must be a list"),
        ({"personalizations": [{"to": [{"email": 5}]}]}, "must be strings"),
        (
            {
                "personalizations": [
                    {"to": [{"email": "a@b.test"}], "subject": "A"},
                    {"to": [{"email": "c@d.test"}], "subject": "B"},
                ]
            },
            "different subjects",
        ),
        (
            {
                "personalizations": [
                    {"to": [{"email": "a@b.test"}, {"email": "e@f.test"}]},
                    {"to": [{"email": "c@d.test"}]},
                ]
            },
            "exactly one to",
        ),
        (
            {
                "personalizations": [
                    {"to": [{"email": "a@b.test"}], "custom_args": {"a": "1"}},
                    {"to": [{"email": "c@d.test"}]},
                ]
            },
            "per-recipient",
        ),
        (
            {
                "personalizations": [
                    {"to": [{"email": "a@b.test"}]},
                    {"to": [{"email": "A@b.test"}]},
                ]
            },
            "appears twice",
        ),
    ],
)
def test_sends_mailgun_cannot_express_raise_untranslatable(
    change: dict[str, Any], reason: str
) -> None:
    """SendGrid features with no Mailgun form, and malformed fields, raise UntranslatableRequest."""
    with pytest.raises(UntranslatableRequest, match=reason):
        SendgridToMailgun().to_provider(send_request({**MAIL, **change}))


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request("GET", "/v3/mail/send", [], b""), "only for POST /v3/mail/send"),
        (Request("POST", "/v3/templates", [], b"{}"), "only for POST /v3/mail/send"),
        (Request("POST", "/v3/mail/send", [("Content-Type", "text/plain")], b"hi"), "text/plain"),
        (Request("POST", "/v3/mail/send", [], b"{oops"), "not valid JSON"),
        (Request("POST", "/v3/mail/send", [], b""), "not valid JSON"),
        (Request("POST", "/v3/mail/send", [], b'"a string"'), "JSON object"),
        (Request("POST", "/v3/mail/send", [], b"\xff\xfe"), "not valid JSON"),
        (Request("POST", "/v3/mail/send", [], b"{}" + b" " * MAX_BODY_BYTES), "at most"),
    ],
)
def test_unmapped_or_malformed_requests_raise_untranslatable(
    request_: Request, reason: str
) -> None:
    """Other endpoints, non-JSON and oversized bodies raise UntranslatableRequest naming the call."""
    with pytest.raises(UntranslatableRequest, match=reason) as caught:
        SendgridToMailgun().to_provider(request_)
    assert caught.value.path == request_.target


def test_random_bodies_only_ever_raise_untranslatable() -> None:
    """Thousands of mutated SendGrid bodies either translate or raise UntranslatableRequest."""
    rng = random.Random(99)
    seed = json.dumps(MAIL).encode()
    adapter = SendgridToMailgun()
    outcomes = {"refused": 0, "translated": 0}
    for _ in range(3000):
        body = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = rng.choice(b'{}[]",:0aZ@.\\ \xff')
        try:
            translated = adapter.to_provider(send_request(bytes(body)))
        except UntranslatableRequest:
            outcomes["refused"] += 1
        else:
            form(translated)
            outcomes["translated"] += 1
    assert outcomes["refused"] > 0
    assert outcomes["translated"] > 0


# --- answers --------------------------------------------------------------------------


def test_queued_becomes_sendgrids_202_with_the_message_id() -> None:
    """Mailgun's 200 Queued becomes SendGrid's 202, empty body, X-Message-Id without brackets."""
    queued = {
        "id": "<20240611100000.ABCDEF0123456789@mail.acme.test>",
        "message": "Queued. Thank you.",
    }
    translated = SendgridToMailgun().from_provider(mailgun_answer(200, queued), send_request())
    assert (translated.status, translated.body) == (202, b"")
    assert translated.header("X-Message-Id") == "20240611100000.ABCDEF0123456789@mail.acme.test"
    assert translated.header("Content-Type") is None
    assert translated.header("Content-Length") is None
    assert (translated.provider, translated.attempts) == ("mailgun", 1)


def test_queued_without_an_id_is_still_accepted() -> None:
    """A 200 without a readable id is still SendGrid's 202, only without X-Message-Id."""
    translated = SendgridToMailgun().from_provider(mailgun_answer(200, b"OK"), send_request())
    assert (translated.status, translated.header("X-Message-Id")) == (202, None)


@pytest.mark.parametrize(
    ("status", "payload", "field"),
    [
        (400, {"message": "'to' parameter is missing"}, "personalizations.0.to"),
        (400, {"message": "'from' parameter is missing"}, "from.email"),
        (
            400,
            {"message": "Need at least one of 'text', 'html' or 'template' parameters specified"},
            "content",
        ),
        (404, {"message": "Domain not found: acme.test"}, "from.email"),
        (
            422,
            {"message": "Idempotency-Key 'k' was already used for a different message."},
            "Idempotency-Key",
        ),
        (401, b"Forbidden", None),
        (429, {"message": "Too many requests"}, None),
        (500, {"message": "Internal error"}, None),
        (503, b"", None),
    ],
)
def test_mailgun_errors_become_sendgrid_errors(
    status: int, payload: Any, field: str | None
) -> None:
    """Mailgun's errors keep their status and become SendGrid's errors list with the field."""
    translated = SendgridToMailgun().from_provider(mailgun_answer(status, payload), send_request())
    assert translated.status == status
    [error] = sendgrid_errors(translated)
    assert error["field"] == field
    assert error["message"]
    assert translated.header("X-Message-Id") is None


def test_unexpected_statuses_become_502() -> None:
    """A redirect or other non-answer from Mailgun becomes a SendGrid-shaped 502."""
    translated = SendgridToMailgun().from_provider(mailgun_answer(302, b""), send_request())
    assert translated.status == 502
    assert sendgrid_errors(translated)


def test_random_answers_never_raise() -> None:
    """Random statuses and mutated bodies always translate to some SendGrid-shaped answer."""
    rng = random.Random(5)
    seed = json.dumps({"id": "<a@b.test>", "message": "Queued. Thank you."}).encode()
    adapter = SendgridToMailgun()
    for _ in range(2000):
        body = bytearray(seed)
        for _ in range(rng.randint(0, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        status = rng.choice([200, 204, 301, 400, 401, 404, 413, 429, 500, 502])
        translated = adapter.from_provider(mailgun_answer(status, bytes(body)), send_request())
        if translated.status == 202:
            assert translated.body == b""
        else:
            sendgrid_errors(translated)


def test_the_adapter_loads_as_the_reference_configuration_names_it(examples_dir: Path) -> None:
    """load_adapter builds SendgridToMailgun from its module:Class name, and it is an Adapter."""
    adapter = load_adapter("seawall_adapters.email:SendgridToMailgun", search=examples_dir)
    assert isinstance(adapter, Adapter)
    assert (type(adapter).__module__, type(adapter).__name__) == (
        SendgridToMailgun.__module__,
        "SendgridToMailgun",
    )
    request = send_request()
    assert adapter.to_provider(request) == SendgridToMailgun().to_provider(request)


# --- end to end against the Mailgun simulator --------------------------------------------


@pytest.fixture
async def mailgun(start_simulator: Any) -> RunningSimulator:
    simulator: RunningSimulator = await start_simulator("email", dialect="mailgun")
    return simulator


@pytest.fixture
async def sendgrid(start_simulator: Any) -> RunningSimulator:
    simulator: RunningSimulator = await start_simulator("email", dialect="sendgrid")
    return simulator


async def through_mailgun(mailgun: RunningSimulator, send: Any, request: Request) -> Response:
    adapter = SendgridToMailgun()
    answer: Response = await send(mailgun.url, adapter.to_provider(request))
    return adapter.from_provider(answer, request)


async def test_send_through_mailgun_is_delivered_and_answers_sendgrids_202(
    mailgun: RunningSimulator, send: Any
) -> None:
    """A SendGrid send through the adapter lands in Mailgun's delivery log and returns its id."""
    translated = await through_mailgun(mailgun, send, send_request())
    assert (translated.status, translated.body) == (202, b"")
    log: Any = mailgun.state
    delivered = [(m.recipient, m.sender, m.subject, m.idempotency_key) for m in log.messages]
    assert delivered == [
        ("ann@example.com", "shop@mail.acme.test", "Your receipt", "mail-key-1"),
        ("bob@example.org", "shop@mail.acme.test", "Your receipt", "mail-key-1"),
    ]
    message_id = log.messages[0].message_id
    assert message_id.startswith("<")
    assert message_id.endswith("@mail.acme.test>")
    assert translated.header("X-Message-Id") == message_id[1:-1]


async def test_same_key_twice_is_delivered_once(mailgun: RunningSimulator, send: Any) -> None:
    """A retried send with the same Idempotency-Key is delivered once, with the same message id."""
    first = await through_mailgun(mailgun, send, send_request())
    second = await through_mailgun(mailgun, send, send_request())
    assert first.header("X-Message-Id") == second.header("X-Message-Id")
    assert second.header("Idempotent-Replayed") == "true"
    log: Any = mailgun.state
    assert log.per_recipient() == {"ann@example.com": 1, "bob@example.org": 1}


async def test_batch_send_through_mailgun_reaches_each_recipient_once(
    mailgun: RunningSimulator, send: Any
) -> None:
    """Several personalizations become one Mailgun batch that reaches every recipient once."""
    payload = {
        **MAIL,
        "personalizations": [
            {"to": [{"email": "ann@example.com"}]},
            {"to": [{"email": "cy@example.net"}]},
        ],
    }
    translated = await through_mailgun(mailgun, send, send_request(payload, key="batch-1"))
    assert translated.status == 202
    log: Any = mailgun.state
    assert log.per_recipient() == {"ann@example.com": 1, "cy@example.net": 1}


async def test_mailgun_answers_match_what_sendgrid_itself_answers(
    mailgun: RunningSimulator, sendgrid: RunningSimulator, send: Any
) -> None:
    """A good send and one without content answer alike from SendGrid and through Mailgun."""
    cases = [
        send_request(key="parity-ok"),
        send_request(
            {key: value for key, value in MAIL.items() if key != "content"}, key="parity-bad"
        ),
    ]
    for request in cases:
        direct: Response = await send(sendgrid.url, request)
        translated = await through_mailgun(mailgun, send, request)
        assert translated.status == direct.status
        if direct.status == 202:
            assert translated.body == direct.body == b""
            assert translated.header("X-Message-Id")
            assert direct.header("X-Message-Id")
        else:
            assert [e["field"] for e in sendgrid_errors(translated)] == [
                e["field"] for e in sendgrid_errors(direct)
            ]
