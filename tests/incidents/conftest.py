"""Fixtures: incident tests run on SQLite and the real PostgreSQL, with a small configuration.

The store fixtures are those of ``tests/store/conftest.py``: every test that
takes ``store`` runs once per backend.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from seawall.alerts import Transition
from seawall.config import Config, check_text
from seawall.incidents import IncidentBook
from seawall.store import RollupRow, Store
from tests.store import conftest as backends

sqlite_url = backends.sqlite_url
postgresql_url = backends.postgresql_url
url = backends.url
open_store = backends.open_store
store = backends.store

#: a minute boundary near the store tests' T0 (2023-11-14T22:14:00Z), in November 2023
M0 = 1_700_000_040.0
MINUTE = 60.0

CONFIG = """
version: 1
integrations:
  payments:
    criticality: critical
    impact_per_minute: 1200
    providers:
      - {name: stripe, base_url: "http://stripe.test"}
      - {name: adyen, role: backup, base_url: "http://adyen.test"}
    sla: stripe-standard
  billing:
    criticality: medium
    impact_per_minute: 50
    providers:
      - {name: stripe, base_url: "http://billing-stripe.test"}
  inventory:
    criticality: high
    impact_per_minute: 300
    providers:
      - {name: shipbob, base_url: "http://shipbob.test"}
slas:
  stripe-standard:
    provider: payments/stripe
    period: monthly
    objectives:
      - {metric: availability, target: 99.9%}
    credits:
      - {below: 99.9%, credit: 10%}
      - {below: 99%, credit: 25%}
    monthly_fee: 2000
"""


def make_config(text: str = CONFIG) -> Config:
    config, findings = check_text(textwrap.dedent(text), env={}, check_imports=False)
    assert not findings, [str(f) for f in findings]
    assert config is not None
    return config


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def book(store: Store, config: Config) -> IncidentBook:
    """An incident book over the test store, whose clock stands still at M0 + 1 hour."""
    return IncidentBook(store, config, clock=lambda: M0 + 3600)


def firing(
    rule: str,
    *,
    at: float,
    integration: str | None = "payments",
    provider: str | None = "stripe",
    severity: str = "critical",
    active_since: float | None = None,
    summary: str = "",
    extra: dict[str, str] | None = None,
) -> Transition:
    """A transition to firing of ``rule``, labelled as the evaluator labels it."""
    labels = {"alertname": rule, "severity": severity, **(extra or {})}
    if integration is not None:
        labels["integration"] = integration
    if provider is not None:
        labels["provider"] = provider
    return Transition(
        rule=rule,
        labels=labels,
        state="firing",
        previous="pending",
        at=at,
        value=0.5,
        threshold=0.05,
        summary=summary,
        severity=severity,
        active_since=active_since,
        fired_at=at,
    )


def resolved(t: Transition, *, at: float) -> Transition:
    """The transition to resolved of the series ``t`` fired."""
    return Transition(
        rule=t.rule,
        labels=t.labels,
        state="resolved",
        previous="firing",
        at=at,
        value=0.0,
        threshold=t.threshold,
        summary=t.summary,
        severity=t.severity,
        active_since=t.active_since,
        fired_at=t.fired_at,
    )


def minute(
    start: float,
    *,
    integration: str = "payments",
    provider: str = "stripe",
    **counts: int,
) -> RollupRow:
    """A minute rollup row; ``attempts`` defaults to the sum of the outcome counts."""
    outcomes = ("success", "final", "throttled", "failure", "timeout", "connect_error")
    counts.setdefault("attempts", sum(counts.get(name, 0) for name in outcomes))
    fields: dict[str, Any] = dict(counts)
    return RollupRow(
        integration=integration, provider=provider, start=int(start), width=60, **fields
    )


#: when the seeded outage's report is built: ten minutes after it resolved
REPORT_AT = M0 + 3600


async def seed_outage(store: Store, book: IncidentBook) -> int:
    """A Stripe outage of exactly 50 minutes, as the recorder, evaluator and notifier store it.

    Minutes M0 .. M0+49m: stripe answers half its 100 attempts with failures
    (a bad minute), the other 50 calls fail over to adyen; for the first ten
    minutes seawall also rejects 5 calls a minute. The alert fires at M0+3m
    (active since M0+1m), is acknowledged at M0+5m, resolves at M0+49m10s;
    the incident resolves by itself at M0+50m. Returns the incident's id.
    """
    rows = [
        minute(M0 - 25 * MINUTE, success=99, failure=1),  # a blip, not the outage
        minute(M0 - 2 * MINUTE, success=100),
        minute(M0, integration="inventory", provider="shipbob", failure=10),
    ]
    for k in range(50):
        at = M0 + k * MINUTE
        rows.append(minute(at, success=50, failure=50, calls=50, failovers=50))
        rows.append(minute(at, provider="adyen", success=50, calls=50))
        if k < 10:
            rows.append(minute(at, provider="", rejected=5, calls=5))
    await store.rollups.add(rows)

    async def event(
        event_kind: str, at: float, integration: str | None, provider: str | None, **data: object
    ) -> None:
        await store.events.append(
            event_kind, at=at, integration=integration, provider=provider, data=data
        )

    await event("probe-changed", M0 - 600, "payments", "stripe", ok=False, detail="too early")
    await event(
        "breaker-changed",
        M0 + 100,
        "payments",
        "stripe",
        old="closed",
        new="open",
        cause="failure rate 50%",
    )
    for at in (M0 + 110, M0 + 111):
        await event(
            "failed-over",
            at,
            "payments",
            "stripe",
            source="stripe",
            target="adyen",
            cause="upstream-status",
        )
    for at in (M0 + 115, M0 + 116, M0 + 117):
        await event(
            "fallback-served",
            at,
            "payments",
            None,
            kind="static",
            cause="no-provider",
            reference="",
        )
    await event(
        "breaker-changed", M0 + 150, "inventory", "shipbob", old="closed", new="open", cause=""
    )
    await event("config-reload", M0 + 1000, None, None, ok=True)
    await event(
        "breaker-changed", M0 + 2900, "payments", "stripe", old="half_open", new="closed", cause=""
    )
    await event(
        "breaker-changed", M0 + 5000, "payments", "stripe", old="closed", new="open", cause="later"
    )

    alert = firing(
        "payments-errors", at=M0 + 180, active_since=M0 + 60, summary="error rate 50% > 5%"
    )
    change = await book.on_transition(alert)
    assert change is not None
    incident_id = change.incident.id
    await store.notifications.record(
        at=M0 + 200,
        group_key="critical-path",
        target="slack-ops",
        target_kind="channel",
        kind="firing",
        step=0,
        status="sent",
        attempts=1,
        error=None,
        fingerprints=[alert.fingerprint],
        incident_id=incident_id,
    )
    await store.notifications.record(
        at=M0 + 210,
        group_key="critical-path",
        target="sms-lead",
        target_kind="channel",
        kind="firing",
        step=0,
        status="failed",
        attempts=3,
        error="<b>no route</b> | 503",
        fingerprints=[alert.fingerprint],
    )
    await store.notifications.record(
        at=M0 + 220,
        group_key="other",
        target="slack-ops",
        target_kind="channel",
        kind="firing",
        step=None,
        status="sent",
        attempts=1,
        error=None,
        fingerprints=["ffffffffffffffff"],
    )
    await book.ack(incident_id, "ada", M0 + 300)
    await book.on_transition(resolved(alert, at=M0 + 2950))
    (done,) = await book.maybe_resolve(M0 + 3000, {("payments", "stripe"): "closed"})
    assert done.id == incident_id
    await store.notifications.record(
        at=M0 + 3030,
        group_key="critical-path",
        target="slack-ops",
        target_kind="channel",
        kind="resolved",
        step=None,
        status="sent",
        attempts=1,
        error=None,
        fingerprints=[alert.fingerprint],
    )
    return incident_id
