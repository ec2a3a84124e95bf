"""The incident book on SQLite and PostgreSQL: who opens, who joins, the state machine, recovery."""

from __future__ import annotations

import asyncio

import pytest

from seawall._states import BreakerState
from seawall.config import Config
from seawall.incidents import AUTO, IncidentBook, IncidentState, InvalidIncidentMove
from seawall.store import Store
from tests.incidents.conftest import M0, MINUTE, firing, minute, resolved
from tests.store.conftest import OpenStore


async def _incident_events(store: Store) -> list[tuple[str, int]]:
    found = await store.events.query(since=0, until=M0 * 2)
    return [(e.kind, e.data["incident_id"]) for e in found if e.kind.startswith("incident-")]


async def test_a_critical_alert_opens_an_incident(store: Store, book: IncidentBook) -> None:
    """A critical firing opens one incident of its integration and provider, linked to its episode."""
    t = firing("payments-errors", at=M0, active_since=M0 - 120, summary="errors at 25%")
    change = await book.on_transition(t)
    assert change is not None
    assert change.action == "opened"
    incident = change.incident
    assert incident.state is IncidentState.OPEN
    assert (incident.title, incident.severity) == ("payments: errors at 25%", "critical")
    assert incident.trigger.startswith("alert payments-errors (critical) fired at ")
    assert (incident.integrations, incident.providers) == (("payments",), ("payments/stripe",))
    assert (incident.opened_at, incident.impact_started_at) == (M0, M0 - 120)
    (episode,) = await store.alerts.of_incident(incident.id)
    assert (episode.fingerprint, episode.firing) == (t.fingerprint, True)
    assert await _incident_events(store) == [("incident-opened", incident.id)]


async def test_a_second_alert_of_the_integration_joins(store: Store, book: IncidentBook) -> None:
    """Another critical alert of the same integration joins the open incident: one incident."""
    first = await book.on_transition(firing("payments-errors", at=M0))
    second = await book.on_transition(
        firing("payments-latency", at=M0 + 60, provider="adyen", active_since=M0 - 600)
    )
    assert first is not None
    assert second is not None
    assert second.action == "joined"
    assert second.incident.id == first.incident.id
    assert second.incident.providers == ("payments/stripe", "payments/adyen")
    assert second.incident.impact_started_at == M0 - 600  # the joining alert was active earlier
    assert len(await store.incidents.list()) == 1
    assert len(await store.alerts.of_incident(first.incident.id)) == 2
    incident_id = first.incident.id
    assert await _incident_events(store) == [
        ("incident-opened", incident_id),
        ("incident-joined", incident_id),
    ]


async def test_the_same_firing_twice_changes_nothing(store: Store, book: IncidentBook) -> None:
    """A firing transition seen again (a replay, a second replica) leaves the incident as it was."""
    t = firing("payments-errors", at=M0)
    first = await book.on_transition(t)
    again = await book.on_transition(t)
    assert first is not None
    assert again is not None
    assert (again.action, again.incident.id) == ("unchanged", first.incident.id)
    assert len(await store.alerts.open_episodes()) == 1
    assert len(await _incident_events(store)) == 1


async def test_a_warning_never_opens_but_joins(store: Store, book: IncidentBook) -> None:
    """A warning alone opens nothing; with an incident of its integration open, it joins it."""
    assert await book.on_transition(firing("payments-slow", at=M0, severity="warning")) is None
    assert await store.incidents.list() == []
    opened = await book.on_transition(firing("payments-errors", at=M0 + 60))
    warned = await book.on_transition(
        firing("payments-slow-adyen", at=M0 + 120, severity="warning", provider="adyen")
    )
    assert opened is not None
    assert warned is not None
    assert (warned.action, warned.incident.id) == ("joined", opened.incident.id)
    assert warned.incident.severity == "critical"
    assert (
        await book.on_transition(
            firing("stock", at=M0, severity="warning", integration="inventory", provider="shipbob")
        )
        is None
    )
    assert len(await store.incidents.list()) == 1


async def test_one_vendor_outage_is_one_incident(store: Store, book: IncidentBook) -> None:
    """An alert of another integration on the same provider joins, adding its integration."""
    opened = await book.on_transition(firing("payments-errors", at=M0))
    billing = await book.on_transition(
        firing("billing-errors", at=M0 + 30, integration="billing", severity="critical")
    )
    assert opened is not None
    assert billing is not None
    assert (billing.action, billing.incident.id) == ("joined", opened.incident.id)
    assert billing.incident.integrations == ("payments", "billing")
    assert billing.incident.providers == ("payments/stripe", "billing/stripe")
    assert len(await store.incidents.list()) == 1


async def test_an_sla_alert_concerns_the_slas_provider(store: Store, book: IncidentBook) -> None:
    """A burn-rate alert naming only an SLA opens its incident on the SLA's integration/provider."""
    t = firing(
        "payments-sla-burn",
        at=M0,
        integration=None,
        provider=None,
        extra={"sla": "stripe-standard"},
    )
    change = await book.on_transition(t)
    assert change is not None
    assert change.incident.providers == ("payments/stripe",)


async def test_a_breaker_opening_on_a_critical_integration_opens(
    store: Store, book: IncidentBook
) -> None:
    """Open and forced-open breakers of critical integrations open an incident; others do not."""
    assert await book.on_breaker("payments", "stripe", BreakerState.HALF_OPEN, M0) is None
    assert await book.on_breaker("inventory", "shipbob", "open", M0) is None  # high, not critical
    assert await book.on_breaker("nowhere", "x", "open", M0) is None  # not configured
    change = await book.on_breaker("payments", "stripe", BreakerState.OPEN, M0 + 10)
    assert change is not None
    assert change.action == "opened"
    incident = change.incident
    assert incident.title == "payments: stripe circuit breaker open"
    assert incident.trigger.startswith("breaker of payments/stripe open at ")
    assert (incident.opened_at, incident.impact_started_at) == (M0 + 10, M0 + 10)
    forced = await book.on_breaker("payments", "adyen", BreakerState.FORCED_OPEN, M0 + 20)
    assert forced is not None
    assert (forced.action, forced.incident.id) == ("joined", incident.id)
    again = await book.on_breaker("payments", "stripe", "open", M0 + 30)
    assert again is not None
    assert again.action == "unchanged"
    inventory = await book.on_breaker("inventory", "shipbob", "open", M0 + 40)
    assert inventory is None  # no open incident of inventory or shipbob to join
    assert len(await store.incidents.list()) == 1


async def test_the_impact_starts_at_the_run_of_failing_minutes(
    store: Store, book: IncidentBook
) -> None:
    """The impact starts at the first minute of the failing run before the alarm, not at a blip."""
    await store.rollups.add(
        [
            minute(M0 - 25 * MINUTE, success=99, failure=1),  # a blip, healthy minutes after it
            minute(M0 - 20 * MINUTE, success=100),
            minute(M0 - 7 * MINUTE, success=100),
            minute(M0 - 4 * MINUTE, success=60, timeout=40),
            minute(M0 - 3 * MINUTE, success=0, connect_error=100),
            # the breaker refused every call: no vendor traffic, the run goes on
            minute(M0 - 2 * MINUTE, provider="", rejected=50, calls=50),
            minute(M0 - 1 * MINUTE, provider="adyen", success=50),
            minute(M0 - 1 * MINUTE, success=0, failure=20),
        ]
    )
    t = firing("payments-errors", at=M0, active_since=M0 - 90)
    change = await book.on_transition(t)
    assert change is not None
    assert change.incident.impact_started_at == M0 - 4 * MINUTE
    breaker = await book.on_breaker("billing", "stripe", "open", M0 + 5)
    assert breaker is not None
    assert breaker.action == "joined"


async def test_the_impact_start_for_a_breaker_is_the_earliest_sign(
    store: Store, config: Config
) -> None:
    """A breaker's incident starts at the failing run when it began before the breaker opened."""
    await store.rollups.add([minute(M0 - 3 * MINUTE, failure=5), minute(M0, failure=10)])
    book = IncidentBook(store, config)
    change = await book.on_breaker("payments", "stripe", "open", M0 + 30)
    assert change is not None
    assert change.incident.impact_started_at == M0 - 3 * MINUTE


async def test_acknowledge_then_resolve(store: Store, book: IncidentBook) -> None:
    """ack and resolve walk open -> acknowledged -> resolved; wrong moves are clear errors."""
    opened = await book.on_transition(firing("payments-errors", at=M0))
    assert opened is not None
    incident_id = opened.incident.id
    acked = await book.ack(incident_id, "ada", M0 + 120)
    assert (acked.state, acked.acknowledged_by, acked.acknowledged_at) == (
        IncidentState.ACKNOWLEDGED,
        "ada",
        M0 + 120,
    )
    (episode,) = await store.alerts.of_incident(incident_id)
    assert (episode.acked_by, episode.acked_at) == ("ada", M0 + 120)  # its escalation stops
    with pytest.raises(InvalidIncidentMove, match=f"incident {incident_id} is acknowledged"):
        await book.ack(incident_id, "grace", M0 + 130)
    done = await book.resolve(incident_id, "grace")  # the book's clock: M0 + 1 hour
    assert (done.state, done.resolved_by, done.resolved_at) == (
        IncidentState.RESOLVED,
        "grace",
        M0 + 3600,
    )
    with pytest.raises(InvalidIncidentMove, match="is resolved; it cannot be resolved"):
        await book.resolve(incident_id, "ada", M0 + 3700)
    with pytest.raises(InvalidIncidentMove, match="is resolved; it cannot be acknowledged"):
        await book.ack(incident_id, "ada", M0 + 3700)
    with pytest.raises(LookupError, match="no incident 424242"):
        await book.ack(424242, "ada", M0)
    assert [kind for kind, _ in await _incident_events(store)] == [
        "incident-opened",
        "incident-acknowledged",
        "incident-resolved",
    ]


async def test_an_open_incident_resolves_straight_away(store: Store, book: IncidentBook) -> None:
    """An incident nobody acknowledged may be resolved directly."""
    opened = await book.on_transition(firing("payments-errors", at=M0))
    assert opened is not None
    done = await book.resolve(opened.incident.id, "ada", M0 + 60)
    assert done.state is IncidentState.RESOLVED
    assert done.acknowledged_at is None


async def test_auto_resolve_waits_for_alerts_and_breakers(store: Store, book: IncidentBook) -> None:
    """An incident resolves by itself only once its alerts resolved and its breakers closed."""
    t = firing("payments-errors", at=M0)
    opened = await book.on_transition(t)
    assert opened is not None
    incident_id = opened.incident.id
    other = await store.incidents.get(incident_id)
    assert other is not None
    closed = {("payments", "stripe"): "closed", ("inventory", "shipbob"): "open"}

    assert await book.maybe_resolve(M0 + 60, closed) == []  # the alert still fires
    await book.on_transition(resolved(t, at=M0 + 300))
    (episode,) = await store.alerts.of_incident(incident_id)
    assert episode.resolved_at == M0 + 300
    half = {("payments", "stripe"): BreakerState.HALF_OPEN}
    assert await book.maybe_resolve(M0 + 360, half) == []
    assert await book.maybe_resolve(M0 + 400, {("payments", "adyen"): "forced_open"}) == []
    (done,) = await book.maybe_resolve(M0 + 420, closed)
    assert (done.id, done.state, done.resolved_by, done.resolved_at) == (
        incident_id,
        IncidentState.RESOLVED,
        AUTO,
        M0 + 420,
    )
    assert await book.maybe_resolve(M0 + 480, closed) == []
    (event,) = await store.events.query(since=0, until=M0 * 2, kinds=["incident-resolved"])
    assert event.data == {"incident_id": incident_id, "by": "seawall", "auto": True}


async def test_a_breaker_incident_resolves_when_the_breaker_closes(
    store: Store, book: IncidentBook
) -> None:
    """An incident a breaker opened, with no alerts, resolves once that breaker is closed."""
    opened = await book.on_breaker("payments", "stripe", "open", M0)
    assert opened is not None
    assert await book.maybe_resolve(M0 + 30, {("payments", "stripe"): "open"}) == []
    (done,) = await book.maybe_resolve(M0 + 60, {("payments", "stripe"): "closed"})
    assert done.id == opened.incident.id


async def test_concurrent_alarms_make_one_incident(
    url: str, open_store: OpenStore, config: Config
) -> None:
    """Alerts and breakers of one integration arriving at once, on two replicas, make one incident."""
    books = [IncidentBook(await open_store(url), config) for _ in range(2)]
    await asyncio.gather(
        *(
            alarm
            for book in books
            for alarm in (
                book.on_transition(firing("payments-errors", at=M0)),
                book.on_transition(firing("payments-latency", at=M0, provider="adyen")),
                book.on_breaker("payments", "stripe", "open", M0),
            )
        )
    )
    store = books[0]._store
    (incident,) = await store.incidents.list()
    assert set(incident.providers) == {"payments/stripe", "payments/adyen"}
    assert len(await store.alerts.of_incident(incident.id)) == 2
    kinds = [kind for kind, _ in await _incident_events(store)]
    assert kinds.count("incident-opened") == 1


async def test_notes_are_written_as_root_cause_and_prevention(
    store: Store, book: IncidentBook
) -> None:
    """write_notes stores both parts so that the report reads them back."""
    opened = await book.on_transition(firing("payments-errors", at=M0))
    assert opened is not None
    noted = await book.write_notes(
        opened.incident.id, root_cause="Stripe EU database failover", prevention="Probe /v1/charges"
    )
    assert noted.notes == (
        "Root cause:\nStripe EU database failover\n\nPrevention:\nProbe /v1/charges\n"
    )


async def test_a_replayed_firing_after_a_manual_resolve_opens_nothing(
    store: Store, book: IncidentBook
) -> None:
    """An episode belongs to one incident: replaying its firing after a person resolved it is a no-op."""
    t = firing("payments-errors", at=M0)
    opened = await book.on_transition(t)
    assert opened is not None
    await book.resolve(opened.incident.id, "ada", M0 + 60)
    replay = await book.on_transition(t)
    assert replay is not None
    assert (replay.action, replay.incident.id) == ("unchanged", opened.incident.id)
    assert replay.incident.state is IncidentState.RESOLVED
    assert len(await store.incidents.list()) == 1
    refired = await book.on_transition(firing("payments-errors", at=M0 + 600))
    assert refired is not None
    assert (refired.action, refired.incident.id) == ("unchanged", opened.incident.id)
    await book.on_transition(resolved(t, at=M0 + 700))
    fresh = await book.on_transition(firing("payments-errors", at=M0 + 900))
    assert fresh is not None
    assert fresh.action == "opened"  # a new episode after the old one resolved: a new incident
