"""Tests for seawall.policies._classify."""

from __future__ import annotations

import pytest

from seawall.policies import (
    ClassificationSettings,
    Outcome,
    classify_status,
    counts_against_breaker,
    counts_against_vendor,
)

DEFAULTS = ClassificationSettings()


@pytest.mark.parametrize("status", [100, 101, 200, 201, 204, 301, 304, 399])
def test_informational_success_and_redirects_are_success(status: int) -> None:
    """1xx, 2xx and 3xx answers are successes by default."""
    assert classify_status(DEFAULTS, status) is Outcome.SUCCESS


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422, 499])
def test_client_errors_are_final(status: int) -> None:
    """4xx answers (a card decline, a missing object) are final, not vendor faults."""
    assert classify_status(DEFAULTS, status) is Outcome.FINAL


def test_429_is_throttled() -> None:
    """429 Too Many Requests is back-pressure, not an outage."""
    assert classify_status(DEFAULTS, 429) is Outcome.THROTTLED


def test_408_is_a_failure() -> None:
    """408 Request Timeout is a vendor-side failure, unlike other 4xx."""
    assert classify_status(DEFAULTS, 408) is Outcome.FAILURE


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_server_errors_are_failures(status: int) -> None:
    """5xx answers are vendor faults by default."""
    assert classify_status(DEFAULTS, status) is Outcome.FAILURE


@pytest.mark.parametrize("status", [501, 505])
def test_not_implemented_and_bad_version_are_final(status: int) -> None:
    """501 and 505 will never change on a repeat, so they are final."""
    assert classify_status(DEFAULTS, status) is Outcome.FINAL


@pytest.mark.parametrize("status", [0, 99, 600, 999])
def test_garbled_statuses_are_failures(status: int) -> None:
    """A status outside 100-599 is a garbled answer and so a vendor failure."""
    assert classify_status(DEFAULTS, status) is Outcome.FAILURE


def test_overrides_beat_the_family_defaults() -> None:
    """Per-status sets in the settings take precedence over the status family."""
    settings = ClassificationSettings(
        success=frozenset({404}), failure=frozenset({409}), final=frozenset({503})
    )
    assert classify_status(settings, 404) is Outcome.SUCCESS
    assert classify_status(settings, 409) is Outcome.FAILURE
    assert classify_status(settings, 503) is Outcome.FINAL
    assert classify_status(settings, 501) is Outcome.FAILURE


def test_overlapping_sets_are_refused() -> None:
    """A status may appear in only one override set."""
    with pytest.raises(ValueError, match="429"):
        ClassificationSettings(final=frozenset({429}))


def test_statuses_outside_the_http_range_are_refused() -> None:
    """Override sets hold real HTTP statuses only."""
    with pytest.raises(ValueError, match="not HTTP statuses"):
        ClassificationSettings(failure=frozenset({700}))


def test_outcome_values_are_the_event_slugs() -> None:
    """Outcome values match the slugs AttemptFinished events carry."""
    assert {o.value for o in Outcome} == {
        "success",
        "final",
        "throttled",
        "failure",
        "timeout",
        "connect-error",
    }


@pytest.mark.parametrize(
    ("outcome", "counts"),
    [
        (Outcome.SUCCESS, False),
        (Outcome.FINAL, False),
        (Outcome.THROTTLED, False),
        (Outcome.FAILURE, True),
        (Outcome.TIMEOUT, True),
        (Outcome.CONNECT_ERROR, True),
    ],
)
def test_only_vendor_faults_count_against_breaker_and_vendor(
    outcome: Outcome, counts: bool
) -> None:
    """Failures, timeouts and connect errors count; successes, finals and 429s do not."""
    assert counts_against_breaker(outcome) is counts
    assert counts_against_vendor(outcome) is counts
