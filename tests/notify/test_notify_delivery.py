"""Real deliveries over loopback: webhooks, email, retries, failures, shutdown and secrets."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr

from seawall import NotificationError
from seawall.notify import AppriseDeliverer, NoticeKind

from ._notify_support import (
    T0,
    Hook,
    Mailbox,
    free_port,
    make_notifier,
    notifications,
    resolved,
    settle,
    start_hook,
    transition,
)

pytestmark = pytest.mark.realserver

SECRETS = ("S3cretPassw0rd", "T0KENabcdef1234", "QueryS3cretValue")


def _routes(*channels: str) -> list[dict[str, Any]]:
    return [{"match": {}, "channels": list(channels)}]


async def test_grouped_alerts_arrive_as_one_json_webhook(hook: Hook) -> None:
    """Two alerts of one integration reach the webhook as one JSON payload listing both."""
    config = notifications(channels={"ops": {"url": hook.url()}}, routes=_routes("ops"))
    notifier, log = make_notifier(config)
    notifier.start()
    try:
        notifier.submit([transition(at=T0), transition("payments-latency", at=T0 + 1)])
        await notifier.tick(T0 + 30)
        await settle(notifier)
    finally:
        await notifier.stop()
    [payload] = hook.payloads
    assert payload["title"] == "[FIRING:2] payments (critical)"
    assert payload["type"] == "failure"
    assert "payments-errors above threshold" in payload["message"]
    assert "payments-latency above threshold" in payload["message"]
    [record] = log.records
    assert (record.target, record.kind, record.status, record.attempts) == (
        "ops",
        "firing",
        "delivered",
        1,
    )
    assert record.at == pytest.approx(T0 + 30, abs=5)
    assert len(record.fingerprints) == 2


async def test_email_reaches_the_smtp_server(mailbox: Mailbox) -> None:
    """A mailto:// channel sends through plain SMTP with subject, body and recipient."""
    config = notifications(
        channels={"mail": {"url": mailbox.url("oncall@example.com")}}, routes=_routes("mail")
    )
    notifier, log = make_notifier(config, ack_link=lambda key: f"https://seawall.example/ack/{key}")
    notifier.start()
    try:
        notifier.submit([transition(at=T0, summary="error rate 12% above 5%")])
        await notifier.tick(T0 + 30)
        notifier.submit([resolved(at=T0 + 40)])
        await notifier.tick(T0 + 90)
        await settle(notifier)
    finally:
        await notifier.stop()
    firing, done = mailbox.mails
    assert firing.recipients == ["oncall@example.com"]
    assert firing.sender == "seawall@example.com"
    assert firing.subject == "[FIRING:1] payments (critical)"
    assert "error rate 12% above 5%" in firing.text
    assert "value 0.12 (threshold 0.05), since 2027-01-15 07:58:00 UTC" in firing.text
    assert "Acknowledge: https://seawall.example/ack/route0/integration=payments" in firing.text
    assert done.subject == "[RESOLVED] payments"
    assert [r.kind for r in log.records] == ["firing", "resolved"]


async def test_a_failing_webhook_is_retried_then_recorded_failed(hook: Hook) -> None:
    """A webhook answering 500 is tried `attempts` times, recorded failed, and blocks no one."""
    hook.status = 500
    fine, runner = await start_hook()
    config = notifications(
        channels={"broken": {"url": hook.url()}, "fine": {"url": fine.url()}},
        routes=_routes("broken", "fine"),
    )
    notifier, log = make_notifier(config, attempts=3)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        notices = await notifier.tick(T0 + 30)
        assert len(notices) == 2
        await settle(notifier)
    finally:
        await notifier.stop()
        await runner.cleanup()
    assert hook.hits == 3
    assert len(fine.payloads) == 1
    records = {r.target: r for r in log.records}
    assert (records["broken"].status, records["broken"].attempts) == ("failed", 3)
    assert records["broken"].error is not None
    assert records["broken"].error.startswith("broken: ")
    assert "500" in records["broken"].error
    assert (records["fine"].status, records["fine"].attempts) == ("delivered", 1)
    status = {t.target: t for t in notifier.status().deliveries}
    assert (status["broken"].failed, status["broken"].delivered) == (1, 0)
    assert (status["fine"].failed, status["fine"].delivered) == (0, 1)


async def test_a_refused_port_fails_without_crashing_tick() -> None:
    """Nothing listening: the delivery fails after its attempts and tick carries on."""
    config = notifications(
        channels={"gone": {"url": f"json://127.0.0.1:{free_port()}/hook"}}, routes=_routes("gone")
    )
    notifier, log = make_notifier(config, attempts=2)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        await notifier.tick(T0 + 30)
        await settle(notifier)
        notifier.submit([transition("payments-latency", at=T0 + 31)])
        assert len(await notifier.tick(T0 + 90)) == 1
        await settle(notifier)
    finally:
        await notifier.stop()
    assert [(r.status, r.attempts) for r in log.records] == [("failed", 2), ("failed", 2)]
    assert log.records[0].error is not None
    assert "Connection error" in log.records[0].error


async def test_secrets_of_a_failing_url_appear_nowhere(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    """Password, path token and query secret stay out of records, errors, logs (Apprise's
    and urllib3's debug lines included), status and reprs."""
    hook.status = 500
    url = f"json://admin:{SECRETS[0]}@127.0.0.1:{hook.port}/hooks/{SECRETS[1]}?-key={SECRETS[2]}"
    refused = (
        f"json://admin:{SECRETS[0]}@127.0.0.1:{free_port()}/hooks/{SECRETS[1]}?-key={SECRETS[2]}"
    )
    config = notifications(
        channels={"ops": {"url": url}, "down": {"url": refused}}, routes=_routes("ops", "down")
    )
    caplog.set_level(logging.DEBUG, logger="seawall")
    caplog.set_level(logging.DEBUG, logger="apprise")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    notifier, log = make_notifier(config, attempts=2)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        await notifier.tick(T0 + 30)
        await settle(notifier)
    finally:
        await notifier.stop()
    assert hook.hits == 2
    assert {r.status for r in log.records} == {"failed"}
    texts = [
        *(str(r) for r in log.records),
        *(r.getMessage() for r in caplog.records),
        str(notifier.status().to_dict()),
        repr(notifier),
        repr(notifier.silences),
    ]
    assert any("ops" in t for t in texts)
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, text
    deliverer = AppriseDeliverer(timeout=5.0)
    with pytest.raises(NotificationError) as caught:
        await deliverer.send("down", SecretStr(refused), title="t", body="b", kind="firing")
    assert str(caught.value).startswith("down: ")
    for secret in SECRETS:
        assert secret not in str(caught.value)
        assert secret not in repr(deliverer)


class ExplodingDeliverer:
    """A deliverer whose failures quote the URL, as a careless back end might."""

    def __init__(self) -> None:
        self.calls = 0

    async def send(
        self, target_name: str, url: SecretStr, *, title: str, body: str, kind: NoticeKind
    ) -> None:
        self.calls += 1
        msg = f"cannot post to {url.get_secret_value()}"
        raise RuntimeError(msg)


async def test_a_foreign_deliverer_error_is_redacted_and_contained() -> None:
    """Any exception from a deliverer becomes a failed record with the URL's secrets masked."""
    url = f"json://admin:{SECRETS[0]}@127.0.0.1:9/hooks/{SECRETS[1]}"
    config = notifications(channels={"ops": {"url": url}}, routes=_routes("ops"))
    deliverer = ExplodingDeliverer()
    notifier, log = make_notifier(config, deliverer=deliverer, attempts=2)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        await notifier.tick(T0 + 30)
        await settle(notifier)
    finally:
        await notifier.stop()
    assert deliverer.calls == 2
    [record] = log.records
    assert record.status == "failed"
    assert record.error is not None
    assert record.error.startswith("ops: RuntimeError: cannot post to ")
    for secret in SECRETS[:2]:
        assert secret not in record.error


async def test_a_full_queue_records_the_overflow_as_failed() -> None:
    """When a target's queue is full, the notice is recorded failed instead of blocking tick."""
    config = notifications(channels={"ops": {"url": "json://127.0.0.1:9/"}}, routes=_routes("ops"))
    notifier, log = make_notifier(config, queue_size=1)
    notifier.submit([transition(at=T0), transition("b", at=T0, integration="email")])
    assert len(await notifier.tick(T0 + 30)) == 2
    [record] = log.records
    assert record.status == "failed"
    assert record.error == "the delivery queue of ops is full (1 waiting)"
    assert notifier.status().queued == 1
    await notifier.stop()
    assert [r.error for r in log.records][-1] == "not delivered: notifications stopped"


async def test_stop_drains_queued_deliveries(hook: Hook) -> None:
    """Deliveries queued before stop() still go out when they can within the drain timeout."""
    config = notifications(channels={"ops": {"url": hook.url()}}, routes=_routes("ops"))
    notifier, log = make_notifier(config)
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0 + 30)
    notifier.start()
    await notifier.stop()
    assert len(hook.payloads) == 1
    assert [r.status for r in log.records] == ["delivered"]
    assert notifier.status().running is False


async def test_the_reference_configuration_routes_and_escalates(reference_path: Any) -> None:
    """Critical alerts take the critical-path chain, others slack-ops; the vendor without a
    mailto channel (json URLs in the test environment) is reported unreachable."""
    from seawall import load_config
    from tests.conftest import REFERENCE_ENV

    config = load_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    notifier, log = make_notifier(config.notifications)
    assert "json://" not in repr(notifier)
    notifier.submit(
        [transition(at=T0), transition("slow", at=T0, severity="warning", integration="email")]
    )
    first = await notifier.tick(T0 + 30)
    assert sorted((n.target, n.kind, n.step) for n in first) == [
        ("slack-ops", "escalation", 0),
        ("slack-ops", "firing", None),
        ("sms-lead", "escalation", 0),
    ]
    assert [n.step for n in await notifier.tick(T0 + 900)] == [1]
    last = await notifier.tick(T0 + 1800)
    assert [(n.target, n.kind) for n in last] == [
        ("vendor-stripe", "unreachable"),
        ("slack-ops", "unreachable"),
        ("sms-lead", "unreachable"),
        ("email-oncall", "unreachable"),
    ]
    assert "Please call Stripe support at +1-555-0100" in last[1].body
    [record] = log.records
    assert record.error is not None
    assert record.error.startswith(
        "Stripe support has only an email address and no mailto:// channel"
    )
