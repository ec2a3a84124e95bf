"""Tests for seawall.routing._maintenance."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.routing import ActiveWindow, MaintenanceCalendar, Window

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = 60.0


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).timestamp()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def sunday_sendgrid(**changes: Any) -> MaintenanceCalendar:
    """The reference config's window: sendgrid, 03:00 every Sunday, 30 minutes."""
    window = Window(provider="sendgrid", cron="0 3 * * SUN", duration=30 * MINUTE)
    return MaintenanceCalendar([dataclasses.replace(window, **changes)])


# -- Window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cron": "every sunday"}, "not a cron expression"),
        ({"cron": "0 0 30 2 *"}, "never fires"),
        ({"timezone": "Mars/Olympus"}, "not an IANA timezone"),
        ({"duration": 0.0}, "duration"),
        ({"drain_before": -1.0}, "drain_before"),
    ],
)
def test_window_rejects_invalid_settings(changes: dict[str, object], message: str) -> None:
    """A bad cron, timezone, duration or drain is refused naming the provider."""
    fields = {"provider": "sendgrid", "cron": "0 3 * * SUN", "duration": 1800.0, **changes}
    with pytest.raises(ValueError, match=message) as caught:
        Window(**fields)  # type: ignore[arg-type]
    assert "'sendgrid'" in str(caught.value)


def test_window_defaults() -> None:
    """A window drains 60 s early and reads its cron in UTC unless told otherwise."""
    window = Window(provider="sendgrid", cron="0 3 * * SUN", duration=1800.0)
    assert (window.drain_before, window.timezone) == (60.0, "UTC")


# -- active ----------------------------------------------------------------------------


def test_active_drains_before_opens_at_start_and_closes_at_end() -> None:
    """draining from drain_before before the start, open from the start, gone at the end."""
    calendar = sunday_sendgrid()
    start = utc(2024, 3, 3, 3, 0)  # a Sunday
    assert calendar.active("sendgrid", start - 60.001) is None
    draining = calendar.active("sendgrid", start - 60.0)
    assert draining == ActiveWindow(
        provider="sendgrid",
        phase="draining",
        start=start,
        end=start + 1800.0,
        reason="0 3 * * SUN",
    )
    opened = calendar.active("sendgrid", start)
    assert opened is not None
    assert opened.phase == "open"
    assert calendar.active("sendgrid", start + 1799.999) == opened
    assert calendar.active("sendgrid", start + 1800.0) is None


def test_active_knows_nothing_of_other_providers() -> None:
    """A provider without windows is never in maintenance."""
    calendar = sunday_sendgrid()
    assert calendar.active("mailgun", utc(2024, 3, 3, 3, 10)) is None


def test_unavailable_lists_draining_and_open_providers() -> None:
    """unavailable() holds the providers draining or in maintenance."""
    calendar = MaintenanceCalendar(
        [
            Window(provider="sendgrid", cron="0 3 * * SUN", duration=1800.0),
            Window(provider="mailgun", cron="0 4 * * SUN", duration=600.0, drain_before=300.0),
        ]
    )
    assert calendar.unavailable(utc(2024, 3, 3, 3, 10)) == {"sendgrid"}
    assert calendar.unavailable(utc(2024, 3, 3, 3, 56)) == {"mailgun"}
    assert calendar.unavailable(utc(2024, 3, 3, 5, 0)) == frozenset()


def test_open_window_wins_over_a_draining_one() -> None:
    """When one window is open and another drains, active() reports the open one."""
    calendar = MaintenanceCalendar(
        [
            Window(provider="crm", cron="0 3 * * *", duration=3600.0),
            Window(provider="crm", cron="30 3 * * *", duration=600.0, drain_before=600.0),
        ]
    )
    found = calendar.active("crm", utc(2024, 3, 3, 3, 25))
    assert found is not None
    assert (found.phase, found.reason) == ("open", "0 3 * * *")


def test_next_window_and_windows_between() -> None:
    """next_window gives the next (start, end); windows_between clips, merges and skips drains."""
    calendar = sunday_sendgrid()
    assert calendar.next_window("sendgrid", utc(2024, 3, 3, 3, 10)) == (
        utc(2024, 3, 10, 3, 0),
        utc(2024, 3, 10, 3, 30),
    )
    assert calendar.next_window("mailgun", 0.0) is None
    spans = calendar.windows_between("sendgrid", utc(2024, 3, 3, 3, 10), utc(2024, 3, 17, 3, 15))
    assert spans == [
        (utc(2024, 3, 3, 3, 10), utc(2024, 3, 3, 3, 30)),
        (utc(2024, 3, 10, 3, 0), utc(2024, 3, 10, 3, 30)),
        (utc(2024, 3, 17, 3, 0), utc(2024, 3, 17, 3, 15)),
    ]
    assert calendar.windows_between("sendgrid", 10.0, 10.0) == []


def test_windows_between_merges_overlapping_windows() -> None:
    """Overlapping windows count once, so planned downtime is never double-counted."""
    calendar = MaintenanceCalendar(
        [
            Window(provider="crm", cron="0 3 * * *", duration=3600.0),
            Window(provider="crm", cron="30 3 * * *", duration=3600.0),
        ]
    )
    spans = calendar.windows_between("crm", utc(2024, 3, 3), utc(2024, 3, 4))
    assert spans == [(utc(2024, 3, 3, 3, 0), utc(2024, 3, 3, 4, 30))]


# -- time zones and daylight saving time -------------------------------------------------


def test_berlin_window_moves_one_hour_in_utc_across_dst() -> None:
    """03:00 Berlin time is 02:00 UTC in winter and 01:00 UTC in summer, both ways round."""
    calendar = sunday_sendgrid(timezone="Europe/Berlin")
    spring = calendar.windows_between("sendgrid", utc(2024, 3, 20), utc(2024, 4, 8))
    assert [start for start, _ in spring] == [
        utc(2024, 3, 24, 2, 0),  # CET, UTC+1
        utc(2024, 3, 31, 1, 0),  # the night clocks went forward: CEST, UTC+2
        utc(2024, 4, 7, 1, 0),
    ]
    autumn = calendar.windows_between("sendgrid", utc(2024, 10, 20), utc(2024, 11, 4))
    assert [start for start, _ in autumn] == [
        utc(2024, 10, 20, 1, 0),
        utc(2024, 10, 27, 2, 0),  # the night clocks went back: CET again
        utc(2024, 11, 3, 2, 0),
    ]
    assert all(end - start == 1800.0 for start, end in spring + autumn)
    assert calendar.active("sendgrid", berlin(2024, 3, 31, 3, 10)) is not None
    assert calendar.active("sendgrid", utc(2024, 3, 31, 2, 10)) is None  # 04:10 in Berlin


def test_time_skipped_by_dst_fires_at_the_end_of_the_gap() -> None:
    """02:30 does not exist in Berlin on 31 March 2024; the window opens at 03:00 CEST instead."""
    calendar = MaintenanceCalendar(
        [Window(provider="x", cron="30 2 * * *", duration=600.0, timezone="Europe/Berlin")]
    )
    starts = [s for s, _ in calendar.windows_between("x", berlin(2024, 3, 30), berlin(2024, 4, 2))]
    assert starts == [berlin(2024, 3, 30, 2, 30), utc(2024, 3, 31, 1, 0), berlin(2024, 4, 1, 2, 30)]


def test_repeated_hour_fires_a_fixed_time_once_and_an_hourly_one_twice() -> None:
    """When clocks go back, 02:30 daily fires once (Vixie cron); hourly fires in both 02:00 hours."""
    calendar = MaintenanceCalendar(
        [
            Window(provider="daily", cron="30 2 * * *", duration=600.0, timezone="Europe/Berlin"),
            Window(provider="hourly", cron="0 * * * *", duration=600.0, timezone="Europe/Berlin"),
        ]
    )
    night = (utc(2024, 10, 26, 22), utc(2024, 10, 27, 3))
    daily = [start for start, _ in calendar.windows_between("daily", *night)]
    assert daily == [utc(2024, 10, 27, 0, 30)]  # 02:30 CEST, not 02:30 CET an hour later
    hourly = [start for start, _ in calendar.windows_between("hourly", *night)]
    assert hourly == [utc(2024, 10, 26, 22 + i) for i in range(2)] + [
        utc(2024, 10, 27, i) for i in range(3)
    ]
    # Inside the second 02:30 (CET) the daily window is not open.
    assert calendar.active("daily", utc(2024, 10, 27, 1, 35)) is None
    assert calendar.active("daily", utc(2024, 10, 27, 0, 35)) is not None


# -- manual windows ----------------------------------------------------------------------


def test_manual_window_opens_now_and_stops_by_id() -> None:
    """start_now opens a window at once (no drain); stop(id) ends it."""
    calendar = MaintenanceCalendar()
    window_id = calendar.start_now("stripe", 1000.0, duration=None, reason="vendor incident")
    active = calendar.active("stripe", 1000.0)
    assert active == ActiveWindow(
        provider="stripe",
        phase="open",
        start=1000.0,
        end=None,
        reason="vendor incident",
        window_id=window_id,
    )
    assert calendar.unavailable(5000.0) == {"stripe"}
    ended = calendar.stop(window_id, 5000.0)
    assert [w.window_id for w in ended] == [window_id]
    assert calendar.unavailable(5000.0) == frozenset()
    assert calendar.stop(window_id, 5001.0) == []


def test_manual_window_with_duration_closes_by_itself() -> None:
    """A manual window with a duration ends after it, and ids are never reused."""
    calendar = MaintenanceCalendar()
    first = calendar.start_now("stripe", 0.0, duration=300.0, reason="deploy")
    assert calendar.active("stripe", 299.0) is not None
    assert calendar.active("stripe", 300.0) is None
    second = calendar.start_now("stripe", 400.0, duration=10.0, reason="again")
    assert first != second
    with pytest.raises(ValueError, match="positive"):
        calendar.start_now("stripe", 0.0, duration=-5.0, reason="nonsense")


def test_stop_by_provider_ends_manual_and_scheduled_windows() -> None:
    """stop(provider) ends its manual windows and cuts the current scheduled one short."""
    calendar = sunday_sendgrid()
    start = utc(2024, 3, 3, 3, 0)
    calendar.start_now("sendgrid", start + 60.0, duration=None, reason="extra")
    ended = calendar.stop("sendgrid", start + 600.0)
    assert sorted(w.reason for w in ended) == ["0 3 * * SUN", "extra"]
    assert calendar.active("sendgrid", start + 601.0) is None
    assert calendar.windows_between("sendgrid", start - 3600.0, start + 3600.0) == [
        (start, start + 600.0)
    ]
    # Next week's window is untouched.
    assert calendar.active("sendgrid", start + 7 * 86400.0) is not None


def test_stop_while_draining_skips_that_occurrence() -> None:
    """Stopping during the drain cancels the coming window; the one after still happens."""
    calendar = sunday_sendgrid()
    start = utc(2024, 3, 3, 3, 0)
    ended = calendar.stop("sendgrid", start - 30.0)
    assert [w.phase for w in ended] == ["draining"]
    assert calendar.active("sendgrid", start - 29.0) is None
    assert calendar.active("sendgrid", start + 10.0) is None
    assert calendar.windows_between("sendgrid", start - 3600.0, start + 3600.0) == []
    assert calendar.next_window("sendgrid", start - 30.0) == (
        start + 7 * 86400.0,
        start + 7 * 86400.0 + 1800.0,
    )


def test_stop_with_nothing_active_is_harmless() -> None:
    """Stopping a provider that is not in maintenance ends nothing."""
    assert sunday_sendgrid().stop("sendgrid", utc(2024, 3, 5)) == []


# -- properties --------------------------------------------------------------------------

CRONS = ["0 3 * * SUN", "*/20 * * * *", "30 2 * * *", "0 */6 * * *", "15 1 1 * *"]
YEAR_2024 = (utc(2024, 1, 1), utc(2025, 1, 1))


@settings(max_examples=150, deadline=None)
@given(
    cron=st.sampled_from(CRONS),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    duration=st.sampled_from([60.0, 600.0, 5400.0]),
    drain=st.sampled_from([0.0, 60.0, 900.0]),
    walls=st.lists(st.floats(*YEAR_2024), min_size=1, max_size=8),
)
def test_active_agrees_with_windows_between(
    cron: str, timezone: str, duration: float, drain: float, walls: list[float]
) -> None:
    """active() says open exactly inside a windows_between span, and draining exactly before one."""
    window = Window(
        provider="x", cron=cron, duration=duration, drain_before=drain, timezone=timezone
    )
    calendar = MaintenanceCalendar([window])
    for wall in sorted(walls) + walls:  # in and out of order: the cached bracket must not lie
        spans = calendar.windows_between("x", wall - duration - 1.0, wall + drain + 1.0)
        inside = any(low <= wall < high for low, high in spans)
        found = calendar.active("x", wall)
        if inside:
            assert found is not None
            assert found.phase == "open"
        elif found is not None:
            assert found.phase == "draining"
            assert found.start - drain <= wall < found.start
            assert any(low == found.start for low, _ in spans)
        else:
            upcoming = [low for low, _ in spans if low > wall]
            assert not upcoming or upcoming[0] - drain > wall
