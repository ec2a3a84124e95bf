"""Silences, inhibitions and acknowledgements keep a group quiet, and only as long as they should."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from seawall.notify import Notifier

from ._notify_support import T0, make_notifier, notifications, sent, transition

HOOK = "json://127.0.0.1:9/"


def _notifier(**kwargs: Any) -> Notifier:
    config = notifications(
        channels={"ops": {"url": HOOK}},
        routes=[{"match": {}, "channels": ["ops"]}],
    )
    notifier, _ = make_notifier(config, **kwargs)
    return notifier


async def test_a_silenced_alert_sends_nothing_until_the_silence_ends() -> None:
    """A silenced group stays quiet; when the silence ends it is notified at the next tick."""
    notifier = _notifier()
    await notifier.silences.add({"integration": "payments"}, starts_at=T0, ends_at=T0 + 600)
    notifier.submit([transition(at=T0)])
    assert await notifier.tick(T0 + 30) == []
    [group] = notifier.status().groups
    assert group.state == "silenced"
    assert group.alerts[0].muted is not None
    assert group.alerts[0].muted.startswith("silenced by ")
    assert await notifier.tick(T0 + 599) == []
    notices = await notifier.tick(T0 + 600)
    assert sent(notices) == [("ops", "firing", None)]


async def test_expiring_a_silence_lets_the_group_speak() -> None:
    """Expiring a live silence early un-mutes the alerts it held."""
    notifier = _notifier()
    record = await notifier.silences.add(
        {"alertname": "payments-errors"}, starts_at=T0, ends_at=T0 + 3600, comment="deploy"
    )
    notifier.submit([transition(at=T0)])
    assert await notifier.tick(T0 + 30) == []
    await notifier.silences.expire(record.id, T0 + 100)
    assert sent(await notifier.tick(T0 + 100)) == [("ops", "firing", None)]


async def test_a_partly_silenced_group_lists_only_the_audible_alerts() -> None:
    """Silenced alerts are left out of the message, and named as muted with the reason."""
    notifier = _notifier()
    await notifier.silences.add(
        {"alertname": "payments-latency"}, starts_at=T0, ends_at=T0 + 600, comment="known slow"
    )
    notifier.submit([transition(at=T0), transition("payments-latency", at=T0)])
    [notice] = await notifier.tick(T0 + 30)
    assert notice.title == "[FIRING:1] payments (critical)"
    assert "Muted (1, not notified): payments-latency: silenced by" in notice.body
    assert "(known slow)" in notice.body
    assert len(notice.fingerprints) == 1


async def test_silencing_an_announced_alert_sends_no_update() -> None:
    """Silencing an alert already announced is not a change, and stops its repeats."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0 + 30)
    await notifier.silences.add({"integration": "payments"}, starts_at=T0 + 60, ends_at=T0 + 9000)
    assert await notifier.tick(T0 + 120) == []
    assert await notifier.tick(T0 + 30 + 3600) == []


async def test_inhibited_alerts_are_not_notified() -> None:
    """The inhibition hook's reason mutes an alert; others still go out."""
    seen: list[float] = []

    def inhibited(labels: Mapping[str, str], at: float) -> str | None:
        seen.append(at)
        if labels.get("provider") == "stripe":
            return "maintenance window on payments/stripe"
        return None

    notifier = _notifier(inhibited=inhibited)
    notifier.submit([transition(at=T0, provider="stripe")])
    assert await notifier.tick(T0 + 30) == []
    [group] = notifier.status().groups
    assert group.alerts[0].muted == "inhibited: maintenance window on payments/stripe"
    assert seen == [T0 + 30]
    notifier.submit([transition(at=T0 + 40, provider="adyen")])
    [notice] = await notifier.tick(T0 + 90)
    assert "provider=adyen" in notice.body
    assert "provider=stripe" not in notice.body.split("Muted")[0]


async def test_a_failing_inhibition_hook_does_not_stop_notifications() -> None:
    """If the hook raises, the alert is notified rather than lost."""

    def inhibited(labels: Mapping[str, str], at: float) -> str | None:
        raise RuntimeError("maintenance store down")

    notifier = _notifier(inhibited=inhibited)
    notifier.submit([transition(at=T0)])
    assert sent(await notifier.tick(T0 + 30)) == [("ops", "firing", None)]


async def test_ack_pauses_repeats_until_something_new_fires() -> None:
    """An acknowledged group stops repeating; a new alert is a change and repeats resume."""
    notifier = _notifier()
    notifier.submit([transition(at=T0)])
    await notifier.tick(T0 + 30)
    assert notifier.ack("route0/integration=payments", by="alice", at=T0 + 100)
    [group] = notifier.status().groups
    assert (group.state, group.acked_by, group.acked_at) == ("acknowledged", "alice", T0 + 100)
    assert await notifier.tick(T0 + 30 + 3600) == []
    notifier.submit([transition("payments-latency", at=T0 + 4000)])
    [notice] = await notifier.tick(T0 + 4000)
    assert notice.kind == "firing"
    assert "Acknowledged by alice at 2027-01-15 08:01:40 UTC." in notice.body
    assert [n.kind for n in await notifier.tick(T0 + 4000 + 3600)] == ["repeat"]


async def test_ack_by_fingerprint_and_unknown_keys() -> None:
    """ack accepts an alert's fingerprint; an unknown key acknowledges nothing."""
    notifier = _notifier()
    alert = transition(at=T0)
    notifier.submit([alert])
    assert not notifier.ack("route0/integration=nothing", by="bob", at=T0)
    assert notifier.ack(alert.fingerprint, by="bob", at=T0 + 1)
    assert notifier.status().groups[0].acked_by == "bob"
    with pytest.raises(ValueError, match="who acknowledges"):
        notifier.ack(alert.fingerprint, by="", at=T0)
