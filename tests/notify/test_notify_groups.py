"""Grouping and Alertmanager timing: group_wait, group_interval, repeat, resolved notices.

These tests read the notices ``tick`` decides, with the clock passed by hand;
delivery itself is covered in test_notify_delivery.py.
"""

from __future__ import annotations

from typing import Any

from seawall.notify import Notifier

from ._notify_support import (
    T0,
    make_notifier,
    notifications,
    resolved,
    sent,
    transition,
)

HOOK = "json://127.0.0.1:9/"


def _notifier(**data: Any) -> Notifier:
    data.setdefault(
        "channels", {"ops": {"url": HOOK}, "pager": {"url": HOOK, "send_resolved": False}}
    )
    data.setdefault("routes", [{"match": {}, "channels": ["ops", "pager"]}])
    notifier, _ = make_notifier(notifications(**data))
    return notifier


async def test_related_alerts_go_out_as_one_message_after_group_wait() -> None:
    """Two alerts of one integration wait group_wait together and leave as one message."""
    notifier = _notifier()
    notifier.submit([transition("payments-errors", at=T0)])
    notifier.submit([transition("payments-latency", at=T0 + 5, value=2.5, threshold=1.0)])
    assert await notifier.tick(T0 + 29.9) == []
    notices = await notifier.tick(T0 + 30)
    assert sent(notices) == [("ops", "firing", None), ("pager", "firing", None)]
    ops = notices[0]
    assert ops.title == "[FIRING:2] payments (critical)"
    assert "payments-errors above threshold" in ops.body
    assert "payments-latency above threshold" in ops.body
    assert "value 2.5 (threshold 1)" in ops.body
    assert len(ops.fingerprints) == 2
    assert await notifier.tick(T0 + 31) == []


async def test_alerts_of_different_integrations_form_separate_groups() -> None:
    """group_by integration: payments and email alerts go out separately."""
    notifier = _notifier()
    notifier.submit([transition(at=T0), transition("email-errors", at=T0, integration="email")])
    notices = await notifier.tick(T0 + 30)
    titles = sorted({n.title for n in notices})
    assert titles == ["[FIRING:1] email (critical)", "[FIRING:1] payments (critical)"]
    assert {g.key for g in notifier.status().groups} == {
        "route0/integration=payments",
        "route0/integration=email",
    }


async def test_a_new_alert_joins_at_the_next_group_interval() -> None:
    """After the first message, a change waits group_interval from the last one."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    assert len(await notifier.tick(T0 + 30)) == 2
    notifier.submit([transition("payments-latency", at=T0 + 40)])
    assert await notifier.tick(T0 + 89) == []
    notices = await notifier.tick(T0 + 90)
    assert sent(notices) == [("ops", "firing", None), ("pager", "firing", None)]
    assert notices[0].title == "[FIRING:2] payments (critical)"


async def test_an_unchanged_group_repeats_every_repeat_every() -> None:
    """A still-firing group with nothing new is sent again after repeat_every."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0 + 30)
    assert await notifier.tick(T0 + 30 + 3599) == []
    notices = await notifier.tick(T0 + 30 + 3600)
    assert sent(notices) == [("ops", "repeat", None), ("pager", "repeat", None)]
    assert await notifier.tick(T0 + 30 + 3601) == []
    assert sent(await notifier.tick(T0 + 30 + 7200))[0] == ("ops", "repeat", None)


async def test_resolved_notice_goes_only_to_send_resolved_channels() -> None:
    """When every alert resolves, one resolved notice goes to send_resolved channels."""
    notifier = _notifier()
    notifier.submit([transition(at=T0), transition("payments-latency", at=T0)])
    await notifier.tick(T0 + 30)
    notifier.submit([resolved(at=T0 + 40), resolved("payments-latency", at=T0 + 45)])
    assert await notifier.tick(T0 + 60) == []
    notices = await notifier.tick(T0 + 90)
    assert sent(notices) == [("ops", "resolved", None)]
    assert notices[0].title == "[RESOLVED] payments"
    assert "All alerts of payments have resolved." in notices[0].body
    assert notifier.status().groups == ()
    assert await notifier.tick(T0 + 5000) == []


async def test_a_partial_resolution_is_a_change_for_send_resolved_channels() -> None:
    """One of two alerts resolving updates send_resolved channels and lists it as resolved."""
    notifier = _notifier()
    notifier.submit([transition(at=T0), transition("payments-latency", at=T0)])
    await notifier.tick(T0 + 30)
    notifier.submit([resolved("payments-latency", at=T0 + 40)])
    notices = await notifier.tick(T0 + 90)
    assert sent(notices) == [("ops", "firing", None)]
    assert notices[0].title == "[FIRING:1] payments (critical)"
    assert "Resolved (1):" in notices[0].body
    assert "resolved at 2027-01-15 08:00:40 UTC" in notices[0].body


async def test_an_alert_that_resolves_before_group_wait_sends_nothing() -> None:
    """A blip that fires and resolves within group_wait is never notified."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    notifier.submit([resolved(at=T0 + 10)])
    assert await notifier.tick(T0 + 30) == []
    assert notifier.status().groups == ()


async def test_pending_and_inactive_transitions_are_ignored() -> None:
    """Only firing and resolved matter; firing -> inactive counts as resolved."""
    notifier = _notifier()
    notifier.submit([transition(at=T0, state="pending", previous="inactive")])
    assert notifier.status().groups == ()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0 + 30)
    notifier.submit([transition(at=T0 + 40, state="inactive", previous="firing")])
    assert sent(await notifier.tick(T0 + 90)) == [("ops", "resolved", None)]


async def test_first_matching_route_wins() -> None:
    """The first route whose labels match takes the alert; later ones do not."""
    notifier = _notifier(
        channels={"crit": {"url": HOOK}, "ops": {"url": HOOK}},
        routes=[
            {"match": {"severity": "critical"}, "channels": ["crit"]},
            {"match": {}, "channels": ["ops"]},
        ],
    )
    notifier.submit([transition(at=T0), transition("slow", at=T0, severity="warning")])
    notices = await notifier.tick(T0 + 30)
    assert sorted((n.target, n.title) for n in notices) == [
        ("crit", "[FIRING:1] payments (critical)"),
        ("ops", "[FIRING:1] payments (warning)"),
    ]


async def test_continue_lets_an_alert_take_later_routes_too() -> None:
    """continue: true sends the alert on to later matching routes, each with its own group."""
    notifier = _notifier(
        channels={"crit": {"url": HOOK}, "ops": {"url": HOOK}, "email": {"url": HOOK}},
        routes=[
            {"match": {"severity": "critical"}, "channels": ["crit"], "continue": True},
            {"match": {"integration": "payments"}, "channels": ["ops"]},
            {"match": {}, "channels": ["email"]},
        ],
    )
    notifier.submit([transition(at=T0)])
    assert sorted(n.target for n in await notifier.tick(T0 + 30)) == ["crit", "ops"]


async def test_an_alert_no_route_matches_is_not_notified() -> None:
    """Without a matching route the alert opens no group."""
    notifier = _notifier(routes=[{"match": {"integration": "email"}, "channels": ["ops"]}])
    notifier.submit([transition(at=T0)])
    assert await notifier.tick(T0 + 30) == []
    assert notifier.status().groups == ()


async def test_group_by_several_labels_and_none() -> None:
    """group_by picks the labels that make a group; an empty group_by makes one group."""
    notifier = _notifier(
        routes=[
            {
                "match": {"severity": "critical"},
                "channels": ["ops"],
                "group_by": ["integration", "provider"],
            },
            {"match": {}, "channels": ["pager"], "group_by": []},
        ]
    )
    notifier.submit(
        [
            transition(at=T0, provider="stripe"),
            transition(at=T0, provider="adyen"),
            transition("a", at=T0, severity="warning", integration="email"),
            transition("b", at=T0, severity="info", integration="crm"),
        ]
    )
    notices = await notifier.tick(T0 + 30)
    assert sorted(n.title for n in notices if n.target == "ops") == [
        "[FIRING:1] payments/adyen (critical)",
        "[FIRING:1] payments/stripe (critical)",
    ]
    assert [n.title for n in notices if n.target == "pager"] == ["[FIRING:2] a, b (warning)"]
