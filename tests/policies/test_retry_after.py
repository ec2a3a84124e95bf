"""Tests for seawall.policies._retry_after."""

from __future__ import annotations

import pytest

from seawall.policies import MAX_RETRY_AFTER, parse_retry_after

# 2015-10-21 07:28:00 GMT
WALL = 1445412480.0


def test_delay_seconds() -> None:
    """Retry-After: 120 means two minutes."""
    assert parse_retry_after({"Retry-After": "120"}, wall_now=WALL) == 120.0


def test_header_names_are_case_insensitive() -> None:
    """Header lookup ignores case, as HTTP field names do."""
    assert parse_retry_after({"retry-after": "3"}, wall_now=WALL) == 3.0
    assert parse_retry_after({"RETRY-AFTER": "4"}, wall_now=WALL) == 4.0


def test_http_date() -> None:
    """An IMF-fixdate is turned into seconds from wall_now."""
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}
    assert parse_retry_after(headers, wall_now=WALL) == pytest.approx(30.0)


def test_obsolete_date_formats_are_accepted() -> None:
    """RFC 850 dates, which recipients must accept, work too."""
    headers = {"Retry-After": "Wednesday, 21-Oct-15 07:29:00 GMT"}
    assert parse_retry_after(headers, wall_now=WALL) == pytest.approx(60.0)


def test_a_date_in_the_past_means_now() -> None:
    """A Retry-After date already past gives 0, not a negative wait."""
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:00:00 GMT"}
    assert parse_retry_after(headers, wall_now=WALL) == 0.0


def test_negative_seconds_mean_now() -> None:
    """A negative delay is clamped to 0."""
    assert parse_retry_after({"Retry-After": "-5"}, wall_now=WALL) == 0.0


def test_fractional_seconds_are_tolerated() -> None:
    """A fractional delay, which some vendors send, is read as is."""
    assert parse_retry_after({"Retry-After": " 1.5 "}, wall_now=WALL) == 1.5


@pytest.mark.parametrize("value", ["soon", "", "1e3", "inf", "nan", "1_000", "Wed, 99 Foo"])
def test_garbage_gives_none(value: str) -> None:
    """An unparseable Retry-After, with nothing else to go on, gives None."""
    assert parse_retry_after({"Retry-After": value}, wall_now=WALL) is None


def test_no_headers_gives_none() -> None:
    """Without any of the headers there is no advice."""
    assert parse_retry_after({"Content-Type": "application/json"}, wall_now=WALL) is None


def test_absurd_values_are_capped_at_a_day() -> None:
    """A vendor asking for a week is treated as asking for a day."""
    assert parse_retry_after({"Retry-After": "604800"}, wall_now=WALL) == MAX_RETRY_AFTER
    assert MAX_RETRY_AFTER == 86_400.0


def test_ratelimit_reset_is_delta_seconds() -> None:
    """RateLimit-Reset (IETF draft) is a delay in seconds."""
    assert parse_retry_after({"RateLimit-Reset": "7"}, wall_now=WALL) == 7.0


def test_x_ratelimit_reset_as_epoch_seconds() -> None:
    """An X-RateLimit-Reset above 1e9 is a Unix time (GitHub style)."""
    headers = {"X-RateLimit-Reset": str(int(WALL) + 42)}
    assert parse_retry_after(headers, wall_now=WALL) == pytest.approx(42.0)


def test_x_ratelimit_reset_as_delta() -> None:
    """A small X-RateLimit-Reset is a delay in seconds."""
    assert parse_retry_after({"x-ratelimit-reset": "12"}, wall_now=WALL) == 12.0


def test_x_ratelimit_reset_as_epoch_milliseconds() -> None:
    """A reset far above any epoch-seconds value is read as epoch milliseconds."""
    headers = {"X-RateLimit-Reset": str(int(WALL * 1000) + 2500)}
    assert parse_retry_after(headers, wall_now=WALL) == pytest.approx(2.5)


def test_x_rate_limit_reset_epoch_in_the_past_means_now() -> None:
    """X-Rate-Limit-Reset (X/Twitter) in the past gives 0."""
    headers = {"X-Rate-Limit-Reset": str(int(WALL) - 10)}
    assert parse_retry_after(headers, wall_now=WALL) == 0.0


def test_ratelimit_structured_field() -> None:
    """The reset= or t= parameter of a RateLimit field is a delay in seconds."""
    assert parse_retry_after({"RateLimit": "limit=10, remaining=0, reset=9"}, wall_now=WALL) == 9.0
    assert parse_retry_after({"RateLimit": '"default";r=0;t=11'}, wall_now=WALL) == 11.0


def test_retry_after_wins_over_reset_headers() -> None:
    """Retry-After, the standard, is preferred to any rate-limit reset."""
    headers = {"Retry-After": "2", "X-RateLimit-Reset": "30", "RateLimit-Reset": "20"}
    assert parse_retry_after(headers, wall_now=WALL) == 2.0


def test_garbage_retry_after_falls_through_to_reset_headers() -> None:
    """An unparseable Retry-After does not hide a usable reset header."""
    headers = {"Retry-After": "later", "RateLimit-Reset": "5"}
    assert parse_retry_after(headers, wall_now=WALL) == 5.0
