"""An incident's timeline on SQLite and PostgreSQL: the right events, in time order, in words."""

from __future__ import annotations

from seawall.incidents import IncidentBook, describe, timeline
from seawall.store import Store
from tests.incidents.conftest import M0, REPORT_AT, firing, seed_outage


async def test_the_timeline_tells_the_outage_in_order(store: Store, book: IncidentBook) -> None:
    """Breaker, failover, fallback, alert, notifications and incident events, oldest first."""
    incident_id = await seed_outage(store, book)
    incident = await store.incidents.get(incident_id)
    assert incident is not None
    entries = await timeline(store, incident, now=REPORT_AT)
    assert [(e.at - M0, e.kind, e.count) for e in entries] == [
        (100, "breaker-changed", 1),
        (110, "failed-over", 2),
        (115, "fallback-served", 3),
        (180, "alert-firing", 1),
        (180, "incident-opened", 1),
        (200, "notification-sent", 1),
        (210, "notification-failed", 1),
        (300, "incident-acknowledged", 1),
        (300, "alert-acknowledged", 1),
        (1000, "config-reload", 1),
        (2900, "breaker-changed", 1),
        (2950, "alert-resolved", 1),
        (3000, "incident-resolved", 1),
        (3030, "notification-sent", 1),
    ]
    texts = {e.kind + str(int(e.at - M0)): e.text for e in entries}
    assert texts["breaker-changed100"] == "Circuit breaker opened (was closed): failure rate 50%"
    assert texts["failed-over110"] == "Failed over from stripe to adyen: upstream-status"
    assert texts["fallback-served115"] == "Served the static fallback: no-provider"
    assert (
        texts["alert-firing180"] == "Alert payments-errors firing (critical): error rate 50% > 5%"
    )
    assert texts["incident-opened180"].startswith(
        f"Incident #{incident_id} opened: alert payments-errors"
    )
    assert (
        texts["notification-sent200"] == "Notified slack-ops (channel): firing, escalation step 0"
    )
    assert texts["notification-failed210"] == (
        "Notification to sms-lead (channel) failed: firing; <b>no route</b> | 503"
    )
    assert texts["incident-acknowledged300"] == "Incident acknowledged by ada"
    assert texts["alert-acknowledged300"] == "Alert payments-errors acknowledged by ada"
    assert texts["config-reload1000"] == "Configuration reloaded"
    assert texts["breaker-changed2900"] == "Circuit breaker closed (was half_open)"
    assert texts["incident-resolved3000"] == (
        "Incident resolved automatically: alerts resolved and breakers closed"
    )
    folded = entries[1]
    assert (folded.integration, folded.provider, folded.last_at) == ("payments", "stripe", M0 + 111)


async def test_an_ongoing_incident_reads_until_now(store: Store, book: IncidentBook) -> None:
    """While the incident lasts, the timeline runs to now; later events are not in it yet."""
    change = await book.on_transition(firing("payments-errors", at=M0))
    assert change is not None
    await store.events.append(
        "operator-action",
        at=M0 + 60,
        integration="payments",
        data={"by": "ada", "action": "forced failover", "detail": "to adyen"},
    )
    await store.events.append(
        "breaker-changed",
        at=M0 + 900,
        integration="payments",
        provider="stripe",
        data={"old": "open", "new": "closed"},
    )
    entries = await timeline(store, change.incident, now=M0 + 120)
    assert [e.kind for e in entries] == ["alert-firing", "incident-opened", "operator-action"]
    assert entries[-1].text == "ada: forced failover: to adyen"
    later = await timeline(store, change.incident, now=M0 + 1000)
    assert [e.kind for e in later][-1] == "breaker-changed"


async def test_an_alert_without_integration_is_found_by_its_series(
    store: Store, book: IncidentBook
) -> None:
    """An incident of an alert naming no integration still shows that alert's events."""
    t = firing("backups-behind-rpo", at=M0, integration=None, provider=None)
    change = await book.on_transition(t)
    assert change is not None
    assert change.incident.integrations == ()
    entries = await timeline(store, change.incident, now=M0 + 60)
    assert [e.kind for e in entries] == ["alert-firing", "incident-opened"]


def test_every_kind_has_words() -> None:
    """Each stored kind reads as a sentence; unknown kinds list their data."""
    assert describe(
        "health-changed", {"old": "healthy", "new": "ejected", "reason": "5 failures"}
    ) == ("Health healthy -> ejected: 5 failures")
    assert describe(
        "maintenance-changed", {"phase": "open", "planned": True, "reason": "weekly"}
    ) == ("Maintenance open (planned): weekly")
    assert (
        describe("probe-changed", {"ok": False, "detail": "HTTP 503"})
        == "Health probe failing: HTTP 503"
    )
    assert describe("probe-changed", {"ok": True}) == "Health probe passing again"
    assert describe("config-reload", {"ok": False}) == "Configuration reload refused"
    assert describe("breaker-changed", {"old": "closed", "new": "forced_open"}) == (
        "Circuit breaker was forced open (was closed)"
    )
    assert describe(
        "incident-joined",
        {"incident_id": 3, "rule": "r", "integration": "billing", "provider": "stripe"},
    ) == ("alert r, billing/stripe joined incident #3")
    assert describe("incident-resolved", {"by": "ada"}) == "Incident resolved by ada"
    assert describe("alert-resolved", {"rule": "r"}) == "Alert r resolved"
    assert describe("something-new", {"b": 2, "a": 1}) == "something-new: a=1, b=2"
