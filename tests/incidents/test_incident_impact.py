"""Pure parts of the incident book: the failing run before an alarm, overlap, notes, spans."""

from __future__ import annotations

from dataclasses import replace

from seawall.incidents import (
    LOOKBACK,
    Incident,
    IncidentState,
    failing_since,
    join_notes,
    overlapping,
    split_notes,
)
from seawall.incidents._format import span
from tests.incidents.conftest import M0, MINUTE, minute


def test_no_rows_no_failing_run() -> None:
    """Without rollups, or with only healthy minutes, there is no earlier start."""
    assert failing_since([], M0) is None
    assert failing_since([minute(M0 - MINUTE, success=10)], M0) is None


def test_the_alarms_own_minute_counts() -> None:
    """Failures in the minute the alarm went off start the run there."""
    assert failing_since([minute(M0, failure=1)], M0 + 30) == M0


def test_a_healthy_minute_ends_the_run_and_quiet_ones_do_not() -> None:
    """Walking back, quiet minutes are skipped, a healthy one stops, faults of any kind extend."""
    rows = [
        minute(M0 - 6 * MINUTE, failure=9),
        minute(M0 - 5 * MINUTE, success=1),
        minute(M0 - 4 * MINUTE, timeout=1, success=100),
        minute(M0 - 3 * MINUTE, provider="", rejected=7),
        minute(M0 - 2 * MINUTE, connect_error=2),
        minute(M0 - 2 * MINUTE, provider="adyen", success=40),
        minute(M0 - 1 * MINUTE, throttled=5),  # back-pressure only: not vendor traffic
    ]
    assert failing_since(rows, M0) == M0 - 4 * MINUTE


def test_the_search_looks_back_thirty_minutes_only() -> None:
    """Faults older than the lookback, and rows after the alarm's minute, are ignored."""
    assert LOOKBACK == 1800
    rows = [
        minute(M0 - 40 * MINUTE, failure=1),
        minute(M0 + 5 * MINUTE, failure=1),
    ]
    assert failing_since(rows, M0) is None
    hour_row = replace(minute(M0 - 60, failure=1), width=3600)  # not a minute: not read
    assert failing_since([hour_row], M0) is None


def _incident(
    n: int,
    integrations: tuple[str, ...],
    providers: tuple[str, ...],
    state: IncidentState = IncidentState.OPEN,
) -> Incident:
    return Incident(
        id=n,
        title=f"i{n}",
        severity="critical",
        state=state,
        integrations=integrations,
        providers=providers,
        trigger="t",
        opened_at=M0 + n,
        impact_started_at=M0 + n,
    )


def test_overlap_prefers_the_integration_then_the_provider() -> None:
    """An alarm joins the oldest incident of its integration, else one sharing its provider name."""
    by_provider = _incident(1, ("billing",), ("billing/stripe",))
    by_integration = _incident(2, ("payments",), ("payments/adyen",))
    resolved = _incident(0, ("payments",), ("payments/stripe",), IncidentState.RESOLVED)
    incidents = [resolved, by_provider, by_integration]
    assert overlapping(incidents, "payments", "stripe") == by_integration
    assert overlapping(incidents, "checkout", "stripe") == by_provider
    assert overlapping(incidents, "checkout", "braintree") is None
    assert overlapping(incidents, None, None) is None
    assert overlapping([resolved], "payments", "stripe") is None


def test_notes_split_into_root_cause_and_prevention() -> None:
    """Headings in several spellings split the notes; text before any heading is the root cause."""
    assert split_notes(None) == (None, None)
    assert split_notes("") == (None, None)
    assert split_notes("DNS expired") == ("DNS expired", None)
    assert split_notes("## Root cause\nDNS expired\n\n## Prevention\nMonitor expiry\n") == (
        "DNS expired",
        "Monitor expiry",
    )
    assert split_notes("root cause: DNS\nprevention: a probe") == ("DNS", "a probe")
    assert split_notes("Prevention is hard to plan\nPrevention:\nrenew early") == (
        "Prevention is hard to plan",
        "renew early",
    )
    both = join_notes(root_cause="DNS expired", prevention="Monitor expiry")
    assert split_notes(both) == ("DNS expired", "Monitor expiry")
    assert split_notes(join_notes(root_cause=None, prevention="x")) == (None, "x")


def test_spans_read_as_people_say_them() -> None:
    """Durations in reports: seconds, minutes, hours and days, none for a missing one."""
    assert [span(s) for s in (0, 45, 180, 750, 3725, 90061, -30)] == [
        "0s",
        "45s",
        "3m",
        "12m 30s",
        "1h 2m 5s",
        "1d 1h 1m 1s",
        "-30s",
    ]
    assert span(None) == "-"
