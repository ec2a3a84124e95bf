"""Escalation chains: steps at their times, contacts by email with evidence, unreachable contacts, ack."""

from __future__ import annotations

from typing import Any

import pytest

from seawall import ConfigError
from seawall.notify import GroupView, Notifier

from ._notify_support import (
    T0,
    Hook,
    Mailbox,
    make_notifier,
    notifications,
    resolved,
    sent,
    settle,
    transition,
)

HOOK = "json://127.0.0.1:9/"
CHAIN = [
    {"after": 0, "notify": ["slack-ops", "sms-lead"], "role": "on-call engineer"},
    {"after": 900, "notify": ["email-oncall"], "role": "engineering manager"},
    {"after": 1800, "notify": ["vendor-stripe"], "role": "vendor escalation"},
]


def _config(**data: Any) -> Any:
    base: dict[str, Any] = {
        "group_wait": 0,
        "channels": {
            "slack-ops": {"url": HOOK},
            "sms-lead": {"url": HOOK},
            "email-oncall": {"url": HOOK},
        },
        "contacts": {"vendor-stripe": {"name": "Stripe support", "url": HOOK}},
        "routes": [{"match": {"severity": "critical"}, "escalation": "critical-path"}],
        "escalations": {"critical-path": CHAIN},
    }
    base.update(data)
    return notifications(**base)


def _notifier(**data: Any) -> Notifier:
    notifier, _ = make_notifier(_config(**data))
    return notifier


async def test_steps_fire_at_exactly_0m_15m_and_30m() -> None:
    """Each step fires at chain start + after, not a moment before, with its role."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    first = await notifier.tick(T0)
    assert sent(first) == [("slack-ops", "escalation", 0), ("sms-lead", "escalation", 0)]
    assert first[0].body.startswith("You are the on-call engineer for this alert.")
    assert "Escalation critical-path, step 1 of 3." in first[0].body
    assert await notifier.tick(T0 + 899.9) == []
    second = await notifier.tick(T0 + 900)
    assert sent(second) == [("email-oncall", "escalation", 1)]
    assert "You are the engineering manager for this alert." in second[0].body
    assert await notifier.tick(T0 + 1799.9) == []
    third = await notifier.tick(T0 + 1800)
    assert sent(third) == [("vendor-stripe", "escalation", 2)]
    assert third[0].target_kind == "contact"
    assert "You are the vendor escalation for this alert." in third[0].body
    assert "Acknowledge" not in third[0].body  # a vendor does not acknowledge our alerts
    assert await notifier.tick(T0 + 3599) == []


async def test_a_route_channel_named_by_a_step_gets_one_message() -> None:
    """When a step and the route name the same channel, it hears the escalation once."""
    notifier = _notifier(
        repeat_every=600,
        routes=[
            {
                "match": {"severity": "critical"},
                "channels": ["slack-ops", "email-oncall"],
                "escalation": "critical-path",
            }
        ],
    )
    notifier.submit([transition(at=T0)])
    assert sent(await notifier.tick(T0)) == [
        ("slack-ops", "escalation", 0),
        ("sms-lead", "escalation", 0),
        ("email-oncall", "firing", None),
    ]
    assert sent(await notifier.tick(T0 + 600)) == [
        ("slack-ops", "repeat", None),
        ("email-oncall", "repeat", None),
        ("sms-lead", "repeat", None),
    ]
    assert sent(await notifier.tick(T0 + 900)) == [("email-oncall", "escalation", 1)]


async def test_the_first_step_waits_for_group_wait() -> None:
    """A step with after 0 goes out with the group's first message, after group_wait."""
    notifier = _notifier(group_wait=30)
    notifier.submit([transition(at=T0)])
    assert await notifier.tick(T0 + 29) == []
    assert [n.step for n in await notifier.tick(T0 + 30)] == [0, 0]
    assert [n.step for n in await notifier.tick(T0 + 900)] == [1]


async def test_ack_stops_the_chain() -> None:
    """After an acknowledgement no later step fires; the status says who stopped it."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0)
    assert notifier.ack("route0/integration=payments", by="alice", at=T0 + 600)
    assert await notifier.tick(T0 + 900) == []
    assert await notifier.tick(T0 + 1800) == []
    [group] = notifier.status().groups
    assert group.escalation_stopped == "acknowledged by alice"
    assert group.next_step is None
    assert group.next_step_at is None


async def test_status_shows_the_next_step_and_when() -> None:
    """The admin view names the next step and its due time."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0)
    [group] = notifier.status().groups
    assert (group.escalation, group.next_step, group.next_step_at) == (
        "critical-path",
        1,
        T0 + 900,
    )
    assert group.reached == ("slack-ops", "sms-lead")


async def test_changes_and_resolution_reach_the_escalated_targets() -> None:
    """Channels and contacts reached by the chain hear about later changes and the resolution."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0)
    await notifier.tick(T0 + 1800)  # steps 1 and 2 together
    notifier.submit([transition("payments-latency", at=T0 + 1900)])
    update = await notifier.tick(T0 + 1900)
    assert sent(update) == [
        ("slack-ops", "firing", None),
        ("sms-lead", "firing", None),
        ("email-oncall", "firing", None),
    ]
    notifier.submit([resolved(at=T0 + 2000), resolved("payments-latency", at=T0 + 2000)])
    done = await notifier.tick(T0 + 2000)
    assert sorted(sent(done)) == [
        ("email-oncall", "resolved", None),
        ("slack-ops", "resolved", None),
        ("sms-lead", "resolved", None),
        ("vendor-stripe", "resolved", None),
    ]


async def test_a_chain_that_starts_silenced_starts_when_the_silence_ends() -> None:
    """Time spent silenced does not count: steps run from when the group became audible."""
    notifier = _notifier()
    await notifier.silences.add({"integration": "payments"}, starts_at=T0, ends_at=T0 + 1000)
    notifier.submit([transition(at=T0)])
    assert await notifier.tick(T0) == []
    assert await notifier.tick(T0 + 900) == []
    assert [n.step for n in await notifier.tick(T0 + 1000)] == [0, 0]
    assert await notifier.tick(T0 + 1899) == []
    assert [n.step for n in await notifier.tick(T0 + 1900)] == [1]


@pytest.mark.realserver
async def test_contact_by_email_through_the_mailto_channel_with_evidence(
    mailbox: Mailbox, hook: Hook
) -> None:
    """A contact with only an email is mailed through the first mailto channel, evidence included."""
    groups: list[GroupView] = []

    async def evidence(group: GroupView) -> str:
        groups.append(group)
        return "3 of the last 10 calls to api.stripe.com failed: 502, 502, timeout"

    config = _config(
        channels={
            "slack-ops": {"url": hook.url("ops")},
            "sms-lead": {"url": hook.url("sms")},
            "email-oncall": {"url": mailbox.url("oncall@example.com")},
        },
        contacts={
            "vendor-stripe": {
                "name": "Stripe support",
                "email": "support@stripe.example",
                "phone": "+1-555-0100",
            }
        },
    )
    notifier, log = make_notifier(
        config, evidence=evidence, ack_link=lambda key: f"https://seawall.example/ack?g={key}"
    )
    notifier.start()
    try:
        notifier.submit([transition(at=T0, summary="payments error rate 12% above 5%")])
        await notifier.tick(T0)
        await notifier.tick(T0 + 900)
        await notifier.tick(T0 + 1800)
        await settle(notifier)
    finally:
        await notifier.stop()

    assert [p["title"] for p in hook.payloads] == ["[FIRING:1] payments (critical)"] * 2
    manager, vendor = sorted(mailbox.mails, key=lambda m: m.recipients[0])
    assert manager.recipients == ["oncall@example.com"]
    assert manager.subject == "[FIRING:1] payments (critical)"
    assert "You are the engineering manager for this alert." in manager.text
    assert "https://seawall.example/ack?g=route0/integration=payments" in manager.text
    assert vendor.recipients == ["support@stripe.example"]
    assert vendor.sender == "seawall@example.com"
    assert vendor.subject == "[FIRING:1] payments (critical)"
    assert "You are the vendor escalation for this alert." in vendor.text
    assert "payments error rate 12% above 5%" in vendor.text
    assert "3 of the last 10 calls to api.stripe.com failed: 502, 502, timeout" in vendor.text
    assert "ack?" not in vendor.text
    assert [g.key for g in groups] == ["route0/integration=payments"]
    outcomes = [(r.target, r.target_kind, r.kind, r.step, r.status) for r in log.records]
    assert ("vendor-stripe", "contact", "escalation", 2, "delivered") in outcomes
    assert ("email-oncall", "channel", "escalation", 1, "delivered") in outcomes


@pytest.mark.realserver
async def test_unreachable_contact_is_recorded_and_the_team_is_asked_to_call(hook: Hook) -> None:
    """A contact with neither url nor email is recorded unreachable; reached channels are asked to phone."""
    config = _config(
        channels={
            "slack-ops": {"url": hook.url("ops")},
            "sms-lead": {"url": hook.url("sms")},
            "email-oncall": {"url": hook.url("email")},
        },
        contacts={"vendor-stripe": {"name": "Stripe support", "phone": "+1-555-0100"}},
    )
    notifier, log = make_notifier(config)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        await notifier.tick(T0)
        await notifier.tick(T0 + 900)
        await settle(notifier)
        hook.payloads.clear()
        notices = await notifier.tick(T0 + 1800)
        await settle(notifier)
    finally:
        await notifier.stop()

    assert sent(notices) == [
        ("vendor-stripe", "unreachable", 2),
        ("slack-ops", "unreachable", 2),
        ("sms-lead", "unreachable", 2),
        ("email-oncall", "unreachable", 2),
    ]
    assert len(hook.payloads) == 3
    assert {p["title"] for p in hook.payloads} == {"[ACTION] call Stripe support about payments"}
    payload = hook.payloads[0]
    assert payload["title"] == "[ACTION] call Stripe support about payments"
    assert (
        "Please call Stripe support at +1-555-0100 as the vendor escalation" in payload["message"]
    )
    assert "Evidence:" in payload["message"]
    [record] = [r for r in log.records if r.target_kind == "contact"]
    assert (record.kind, record.status, record.attempts, record.step) == (
        "unreachable",
        "failed",
        0,
        2,
    )
    assert record.error is not None
    assert "no url and no email" in record.error
    assert "asked slack-ops, sms-lead, email-oncall to call" in record.error


async def test_a_failing_evidence_hook_falls_back_to_the_alert_list() -> None:
    """If gathering evidence fails, the vendor still gets the alerts, values and times."""

    async def evidence(group: GroupView) -> str:
        raise RuntimeError("store down")

    notifier, _ = make_notifier(_config(), evidence=evidence)
    notifier.submit([transition(at=T0, value=0.12, threshold=0.05)])
    await notifier.tick(T0)
    notices = await notifier.tick(T0 + 1800)
    assert sent(notices) == [("email-oncall", "escalation", 1), ("vendor-stripe", "escalation", 2)]
    body = notices[1].body
    assert "- payments-errors: 0.12 against 0.05; since 2027-01-15 07:58:00 UTC; firing" in body
    assert "(more evidence could not be gathered: RuntimeError)" in body


def test_unknown_targets_are_a_config_error() -> None:
    """Routes and steps naming missing channels, contacts or escalations are refused."""
    config = notifications(
        channels={"ops": {"url": HOOK}},
        routes=[{"match": {}, "channels": ["nope"], "escalation": "missing"}],
        escalations={"chain": [{"after": 0, "notify": ["ghost"]}]},
    )
    with pytest.raises(ConfigError) as caught:
        Notifier(config)
    text = str(caught.value)
    assert "notifications.routes[0].channels: there is no channel 'nope'" in text
    assert "there is no escalation 'missing'" in text
    assert (
        "notifications.escalations.chain[0].notify: there is no channel or contact 'ghost'" in text
    )


async def test_an_alert_arriving_while_evidence_is_gathered_is_announced_later() -> None:
    """An alert submitted during a tick's awaits is not marked as sent; the next change carries it."""
    notifier: Notifier | None = None

    async def evidence(group: GroupView) -> str:
        assert notifier is not None
        notifier.submit([transition("payments-latency", at=T0 + 1)])
        return "recent failures"

    notifier, _ = make_notifier(
        _config(
            routes=[
                {"match": {}, "channels": ["slack-ops"], "escalation": "vendor-first"},
            ],
            escalations={"vendor-first": [{"after": 0, "notify": ["vendor-stripe"]}]},
        ),
        evidence=evidence,
    )
    notifier.submit([transition(at=T0)])
    first = await notifier.tick(T0)
    assert sent(first) == [("vendor-stripe", "escalation", 0), ("slack-ops", "firing", None)]
    assert first[1].title == "[FIRING:1] payments (critical)"
    [update] = await notifier.tick(T0 + 60)
    assert (update.target, update.kind, update.title) == (
        "slack-ops",
        "firing",
        "[FIRING:2] payments (critical)",
    )


async def test_delivered_steps_stop_on_ack(mailbox: Mailbox, hook: Hook) -> None:
    """Real deliveries: step 1 reaches the webhook; after an ack, step 2's email never leaves."""
    config = _config(
        channels={
            "slack-ops": {"url": hook.url("ops")},
            "sms-lead": {"url": hook.url("sms")},
            "email-oncall": {"url": mailbox.url("oncall@example.com")},
        },
    )
    notifier, log = make_notifier(config)
    notifier.start()
    try:
        notifier.submit([transition(at=T0)])
        await notifier.tick(T0)
        await settle(notifier)
        assert len(hook.payloads) == 2  # slack-ops and sms-lead, at once
        assert notifier.ack("route0/integration=payments", by="alice", at=T0 + 600)
        await notifier.tick(T0 + 900)
        await notifier.tick(T0 + 1800)
        await settle(notifier)
    finally:
        await notifier.stop()
    assert mailbox.mails == [], "the engineering manager is not paged after the ack"
    assert len(hook.payloads) == 2
    steps = sorted((r.target, r.step, r.status) for r in log.records)
    assert steps == [("slack-ops", 0, "delivered"), ("sms-lead", 0, "delivered")]
