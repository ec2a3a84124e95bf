"""The post-incident report on SQLite and PostgreSQL: exact times, traffic, impact and SLA credit."""

from __future__ import annotations

from fractions import Fraction

import pytest

from seawall.config import Config
from seawall.incidents import IncidentBook, build_incident_report
from seawall.store import Store
from tests.incidents.conftest import M0, MINUTE, REPORT_AT, firing, minute, seed_outage

#: November 2023, the SLA period the seeded outage falls in
NOVEMBER = (1_698_796_800.0, 1_701_388_800.0)


async def test_detection_and_recovery_times(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """MTTD, time to acknowledge and MTTR follow from the impact start, opening, ack and resolution."""
    report = await build_incident_report(
        store, config, await seed_outage(store, book), now=REPORT_AT
    )
    assert report.impact_start == M0  # the failing run began before the alert's pending
    assert report.incident.opened_at == M0 + 180
    assert report.time_to_detect == 180.0
    assert report.time_to_acknowledge == 120.0
    assert report.time_to_recover == 3000.0
    assert (report.impact_end, report.ongoing, report.as_of) == (M0 + 3000, False, REPORT_AT)


async def test_traffic_and_business_impact(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """Calls, failures, rejections and fallbacks come from the rollups and events of the impact span."""
    report = await build_incident_report(
        store, config, await seed_outage(store, book), now=REPORT_AT
    )
    assert report.impact_minutes == 50.0
    (payments,) = report.integrations
    assert (payments.name, payments.criticality, payments.impact_per_minute) == (
        "payments",
        "critical",
        1200.0,
    )
    assert (payments.minutes, payments.impact) == (50.0, 60_000.0)
    assert report.total_impact == 60_000.0
    assert (payments.calls, payments.failed, payments.rejected, payments.fallbacks) == (
        5050,
        2500,
        50,
        3,
    )
    assert [
        (p.provider, p.calls, p.attempts, p.failed, p.rejected, p.failovers)
        for p in payments.providers
    ] == [
        ("", 50, 0, 0, 50, 0),
        ("adyen", 2500, 2500, 0, 0, 0),
        ("stripe", 2500, 5000, 2500, 0, 2500),
    ]


async def test_sla_credit_implications(store: Store, book: IncidentBook, config: Config) -> None:
    """The SLA is measured so far this month: 50 bad minutes of 20,114 reach the 10% tier."""
    report = await build_incident_report(
        store, config, await seed_outage(store, book), now=REPORT_AT
    )
    (sla,) = report.slas
    assert (sla.name, sla.provider, sla.period) == ("stripe-standard", "payments/stripe", "2023-11")
    assert (sla.period_start, sla.period_end) == NOVEMBER
    assert (sla.measured_end, sla.complete) == (REPORT_AT, False)
    minutes = int((REPORT_AT - NOVEMBER[0]) // MINUTE)
    assert minutes == 20_114
    assert sla.availability == float(Fraction(minutes - 50, minutes))
    contract = config.slas["stripe-standard"]
    assert (sla.measure, sla.met) == ("minutes", False)
    assert sla.target == pytest.approx(0.999)
    assert (sla.minutes_in_incident, sla.failed_calls_in_incident) == (50, 2500)
    assert (sla.credit.tier_below, sla.credit.credit) == (contract.credits[0].below, 0.1)
    assert (sla.credit.amount, sla.credit.currency, sla.credit.fee) == (200.0, "USD", 2000.0)


async def test_alerts_notifications_and_notes(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """The report lists the incident's alert, its three notifications, and the people's notes."""
    incident_id = await seed_outage(store, book)
    report = await build_incident_report(store, config, incident_id, now=REPORT_AT)
    (alert,) = report.alerts
    assert (alert.rule, alert.fired_at, alert.resolved_at, alert.acked_by) == (
        "payments-errors",
        M0 + 180,
        M0 + 2950,
        "ada",
    )
    assert [(n.at - M0, n.target, n.status) for n in report.notifications] == [
        (200, "slack-ops", "sent"),
        (210, "sms-lead", "failed"),
        (3030, "slack-ops", "sent"),
    ]
    assert (report.root_cause, report.prevention) == (None, None)
    await book.write_notes(incident_id, root_cause="Stripe lost a database", prevention=None)
    noted = await build_incident_report(store, config, incident_id, now=REPORT_AT)
    assert (noted.root_cause, noted.prevention) == ("Stripe lost a database", None)
    assert len(noted.timeline) == 14


async def test_an_ongoing_incident_is_measured_to_now(
    store: Store, book: IncidentBook, config: Config
) -> None:
    """While it lasts: no recovery time, the impact runs to now, an unacknowledged incident has no ack time."""
    await store.rollups.add(
        [
            minute(M0 + k * MINUTE, integration="inventory", provider="shipbob", failure=3)
            for k in range(12)
        ]
    )
    change = await book.on_transition(firing("payments-errors", at=M0, active_since=M0 - 30))
    assert change is not None
    joined = await book.on_transition(
        firing(
            "stock-errors",
            at=M0 + 60,
            integration="inventory",
            provider="shipbob",
            severity="warning",
        )
    )
    assert joined is None  # no overlap: inventory's warning joins nothing
    await store.incidents.add_integration(change.incident.id, "inventory", "shipbob", at=M0 + 90)
    report = await build_incident_report(store, config, change.incident.id, now=M0 + 570)
    assert report.ongoing
    assert (report.time_to_detect, report.time_to_acknowledge, report.time_to_recover) == (
        30.0,
        None,
        None,
    )
    assert report.impact_minutes == 10.0
    assert [(i.name, i.impact) for i in report.integrations] == [
        ("payments", 12_000.0),
        ("inventory", 3000.0),
    ]
    assert report.total_impact == 15_000.0
    inventory = report.integrations[1]
    assert (inventory.failed, inventory.calls) == (30, 0)  # minutes M0-1 .. M0+9 of the span
    (sla,) = report.slas
    assert (sla.minutes_in_incident, sla.credit.credit) == (0, 0.0)


async def test_an_unknown_incident_is_a_lookup_error(store: Store, config: Config) -> None:
    """Asking for the report of an incident that does not exist says so."""
    with pytest.raises(LookupError, match="no incident 99"):
        await build_incident_report(store, config, 99, now=M0)
