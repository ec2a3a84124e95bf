"""The incidents table on SQLite and PostgreSQL: round trips, the state machine, atomic open-or-join."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from seawall.store import (
    Incident,
    IncidentDraft,
    IncidentState,
    InvalidIncidentMove,
    Store,
)
from tests.store.conftest import T0, OpenStore
from tests.store.test_alert_tables import LABELS, firing

DRAFT = IncidentDraft(
    title="payments: error rate above 5%",
    severity="critical",
    trigger="alert payments-error-rate (critical) fired",
    opened_at=T0,
    impact_started_at=T0 - 300,
    integrations=("payments",),
    providers=("payments/stripe",),
)


def first_of(integration: str) -> Callable[[Sequence[Incident]], Incident | None]:
    """A pick, as the incident book passes one: the oldest incident of ``integration``."""

    def pick(incidents: Sequence[Incident]) -> Incident | None:
        return next((i for i in incidents if integration in i.integrations), None)

    return pick


async def _events(store: Store) -> list[tuple[str, object]]:
    found = await store.events.query(since=0, until=T0 * 2)
    return [(e.kind, e.data.get("incident_id")) for e in found]


async def test_an_incident_round_trips(store: Store) -> None:
    """open stores every field; get and list read them back; the opening is on the timeline."""
    incident = await store.incidents.open(DRAFT, data={"rule": "payments-error-rate"})
    assert incident.state is IncidentState.OPEN
    assert incident.active
    assert (incident.title, incident.severity, incident.trigger) == (
        DRAFT.title,
        "critical",
        DRAFT.trigger,
    )
    assert (incident.integrations, incident.providers) == (("payments",), ("payments/stripe",))
    assert (incident.opened_at, incident.impact_started_at) == (T0, T0 - 300)
    assert (incident.acknowledged_at, incident.resolved_at, incident.notes) == (None, None, None)
    assert await store.incidents.get(incident.id) == incident
    assert await store.incidents.get(incident.id + 1000) is None
    (event,) = await store.events.query(since=0, until=T0 * 2)
    assert (event.kind, event.at, event.integration, event.provider) == (
        "incident-opened",
        T0,
        "payments",
        "stripe",
    )
    assert event.data["incident_id"] == incident.id
    assert event.data["rule"] == "payments-error-rate"


async def test_listing_is_newest_first_and_filters_by_state(store: Store) -> None:
    """list returns newest first, honours limit, and narrows to a state."""
    ids = []
    for n in range(3):
        incident = await store.incidents.open(
            IncidentDraft(
                title=f"i{n}",
                severity="critical",
                trigger="t",
                opened_at=T0 + n,
                impact_started_at=T0 + n,
            )
        )
        ids.append(incident.id)
    await store.incidents.update_state(ids[1], IncidentState.RESOLVED, at=T0 + 10, by="ada")
    assert [i.id for i in await store.incidents.list()] == ids[::-1]
    assert [i.id for i in await store.incidents.list(limit=2)] == [ids[2], ids[1]]
    assert [i.id for i in await store.incidents.list(state="resolved")] == [ids[1]]
    open_ = await store.incidents.list(state=IncidentState.OPEN, limit=None)
    assert [i.id for i in open_] == [ids[2], ids[0]]


async def test_the_state_machine_goes_open_acknowledged_resolved(store: Store) -> None:
    """Acknowledge then resolve record who and when; every other move is refused clearly."""
    incident = await store.incidents.open(DRAFT)
    acked = await store.incidents.update_state(
        incident.id, IncidentState.ACKNOWLEDGED, at=T0 + 60, by="ada"
    )
    assert (acked.state, acked.acknowledged_at, acked.acknowledged_by) == (
        IncidentState.ACKNOWLEDGED,
        T0 + 60,
        "ada",
    )
    with pytest.raises(InvalidIncidentMove, match="is acknowledged; it cannot be acknowledged"):
        await store.incidents.update_state(incident.id, "acknowledged", at=T0 + 70, by="grace")
    with pytest.raises(InvalidIncidentMove, match="cannot be moved to open"):
        await store.incidents.update_state(incident.id, IncidentState.OPEN, at=T0 + 70, by="x")
    resolved = await store.incidents.update_state(
        incident.id, IncidentState.RESOLVED, at=T0 + 600, by="grace"
    )
    assert (resolved.state, resolved.resolved_at, resolved.resolved_by) == (
        IncidentState.RESOLVED,
        T0 + 600,
        "grace",
    )
    assert not resolved.active
    for state in (IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED):
        with pytest.raises(InvalidIncidentMove, match="is resolved") as caught:
            await store.incidents.update_state(incident.id, state, at=T0 + 700, by="ada")
        assert (caught.value.incident_id, caught.value.state) == (incident.id, resolved.state)
    with pytest.raises(LookupError, match="no incident 999"):
        await store.incidents.update_state(999, IncidentState.RESOLVED, at=T0, by="ada")
    assert await _events(store) == [
        ("incident-opened", incident.id),
        ("incident-acknowledged", incident.id),
        ("incident-resolved", incident.id),
    ]


async def test_resolve_if_quiet_waits_for_linked_episodes(store: Store) -> None:
    """An incident with a firing episode stays open; once it resolved, the incident resolves."""
    t = firing()
    episode_id = await store.alerts.open(t)
    incident = await store.incidents.open(DRAFT, episode_ids=[episode_id])
    assert await store.incidents.resolve_if_quiet(incident.id, at=T0 + 60, by="seawall") is None
    still = await store.incidents.get(incident.id)
    assert still is not None
    assert still.state is IncidentState.OPEN
    await store.alerts.resolve(t.fingerprint, T0 + 120)
    done = await store.incidents.resolve_if_quiet(
        incident.id, at=T0 + 180, by="seawall", data={"auto": True}
    )
    assert done is not None
    assert (done.state, done.resolved_by, done.resolved_at) == (
        IncidentState.RESOLVED,
        "seawall",
        T0 + 180,
    )
    (event,) = await store.events.query(since=0, until=T0 * 2, kinds=["incident-resolved"])
    assert event.data == {"incident_id": incident.id, "by": "seawall", "auto": True}
    with pytest.raises(InvalidIncidentMove):
        await store.incidents.resolve_if_quiet(incident.id, at=T0 + 200, by="seawall")


async def test_open_or_join_joins_what_pick_chooses(store: Store) -> None:
    """pick's incident is joined (integration, provider, episodes, earlier impact); else draft opens."""
    opened = await store.incidents.open_or_join(
        pick=first_of("payments"),
        draft=DRAFT,
        integration="payments",
        provider="stripe",
        at=T0,
    )
    assert opened is not None
    assert opened.action == "opened"
    incident = opened.incident

    episode_id = await store.alerts.open(firing({**LABELS, "integration": "billing"}))
    joined = await store.incidents.open_or_join(
        pick=first_of("payments"),
        draft=DRAFT,
        integration="billing",
        provider="stripe",
        at=T0 + 30,
        impact_started_at=T0 - 600,
        episode_ids=[episode_id],
        data={"rule": "billing-errors"},
    )
    assert joined is not None
    assert joined.action == "joined"
    assert joined.incident.id == incident.id
    assert joined.incident.integrations == ("payments", "billing")
    assert joined.incident.providers == ("payments/stripe", "billing/stripe")
    assert joined.incident.impact_started_at == T0 - 600
    assert [e.id for e in await store.alerts.of_incident(incident.id)] == [episode_id]

    again = await store.incidents.open_or_join(
        pick=first_of("payments"),
        draft=DRAFT,
        integration="payments",
        provider="stripe",
        at=T0 + 60,
        impact_started_at=T0,  # later than the impact start: kept as it was
    )
    assert again is not None
    assert again.action == "unchanged"
    assert again.incident.impact_started_at == T0 - 600

    nothing = await store.incidents.open_or_join(
        pick=first_of("inventory"), draft=None, integration="inventory", provider=None, at=T0
    )
    assert nothing is None
    assert len(await store.incidents.list()) == 1
    events = await store.events.query(since=0, until=T0 * 2, kinds=["incident-joined"])
    assert [(e.integration, e.provider, e.data["rule"]) for e in events] == [
        ("billing", "stripe", "billing-errors")
    ]


async def test_replicas_racing_to_open_make_one_incident(url: str, open_store: OpenStore) -> None:
    """Several stores opening-or-joining for one integration at once make exactly one incident."""
    stores = [await open_store(url) for _ in range(3)]
    changes = await asyncio.gather(
        *(
            s.incidents.open_or_join(
                pick=first_of("payments"),
                draft=DRAFT,
                integration="payments",
                provider=provider,
                at=T0,
            )
            for s in stores
            for provider in ("stripe", "adyen")
        )
    )
    assert sorted(c.action for c in changes if c is not None) == [
        "joined",
        "opened",
        "unchanged",
        "unchanged",
        "unchanged",
        "unchanged",
    ]
    (incident,) = await stores[0].incidents.list()
    assert set(incident.providers) == {"payments/stripe", "payments/adyen"}


async def test_add_integration_and_notes(store: Store) -> None:
    """add_integration widens an incident once; set_notes replaces the notes; unknown ids fail."""
    incident = await store.incidents.open(DRAFT)
    widened = await store.incidents.add_integration(incident.id, "inventory", "shipbob", at=T0 + 10)
    assert widened.integrations == ("payments", "inventory")
    assert widened.providers == ("payments/stripe", "inventory/shipbob")
    same = await store.incidents.add_integration(incident.id, "inventory", at=T0 + 20)
    assert same.integrations == widened.integrations
    noted = await store.incidents.set_notes(incident.id, "Root cause:\nDNS")
    assert noted.notes == "Root cause:\nDNS"
    with pytest.raises(LookupError, match="no incident"):
        await store.incidents.set_notes(incident.id + 1, "x")
    with pytest.raises(LookupError, match="no incident"):
        await store.incidents.add_integration(incident.id + 1, "x", at=T0)
    assert [kind for kind, _ in await _events(store)] == ["incident-opened", "incident-joined"]
