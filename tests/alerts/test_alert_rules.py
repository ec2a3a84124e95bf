"""Tests for seawall.alerts._rules: compiling Config.alerts, labels and summaries."""

from __future__ import annotations

import pytest

from seawall.alerts import LiveMetrics, compile_rules, fingerprint
from seawall.alerts._format import format_metric
from seawall.alerts._rules import (
    BackupAgeRule,
    BaselineRule,
    BurnRateRule,
    FreshnessRule,
    Inapplicable,
    Measurement,
    NoDataRule,
    Sources,
    ThresholdRule,
)
from seawall.config import Config
from tests.alerts.conftest import MONDAY, make_config, traffic, unchecked_config

NO_RPO = """
integrations:
  email:
    providers:
      - {name: sendgrid, base_url: https://api.sendgrid.com}
slas:
  latency-only:
    provider: email/sendgrid
    objectives:
      - {metric: latency, percentile: 95, threshold: 800ms, target: 99%}
"""


def test_each_kind_compiles_with_its_parameters() -> None:
    """The six kinds, with their windows, bounds and derived limits."""
    config = make_config(
        """
        - {name: errors, integration: payments, metric: error_rate, above: 5%, for: 2m}
        - {name: slow, integration: inventory, metric: latency_p95, baseline: {deviations: 3}}
        - {name: burn, sla: stripe-standard, burn_rate: {long: 1h, short: 5m, factor: 14.4}}
        - {name: stale, integration: inventory, metric: freshness}
        - {name: backups, metric: backup_age, above: rpo}
        - {name: quiet, integration: email, metric: no_data, window: 10m}
        """
    )
    errors, slow, burn, stale, backups, quiet = compile_rules(config)
    assert isinstance(errors, ThresholdRule)
    assert (errors.above, errors.below, errors.window, errors.for_) == (0.05, None, 60.0, 120.0)
    assert isinstance(slow, BaselineRule)
    assert slow.window == 300.0
    assert slow.history.metric == "latency_p95"
    assert isinstance(burn, BurnRateRule)
    assert (burn.integration, burn.provider) == ("payments", "stripe")
    assert burn.budget == pytest.approx(0.001)
    assert (burn.long, burn.short, burn.needs) == (3600.0, 300.0, 3600.0)
    assert isinstance(stale, FreshnessRule)
    assert stale.max_age == 900.0
    assert isinstance(backups, BackupAgeRule)
    assert backups.above == 60.0  # the smallest rpo configured (payments)
    assert isinstance(quiet, NoDataRule)
    assert quiet.window == 600.0


def test_labels_hold_the_rule_the_series_and_the_users_labels() -> None:
    """alertname and severity always; integration, provider, sla when named; user labels too."""
    config = make_config(
        """
        - name: stripe-errors
          integration: payments
          provider: stripe
          metric: error_rate
          above: 5%
          severity: critical
          labels: {team: payments, severity: ignored}
        - {name: burn, sla: stripe-standard, burn_rate: {long: 1h, short: 5m, factor: 14.4}}
        """
    )
    errors, burn = compile_rules(config)
    assert errors.labels == {
        "alertname": "stripe-errors",
        "severity": "critical",
        "integration": "payments",
        "provider": "stripe",
        "team": "payments",
    }
    assert burn.labels == {
        "alertname": "burn",
        "severity": "warning",
        "integration": "payments",
        "provider": "stripe",
        "sla": "stripe-standard",
    }
    assert errors.fingerprint == fingerprint(errors.labels)
    assert errors.fingerprint != burn.fingerprint


def test_an_unchanged_definition_compiles_to_an_equal_rule() -> None:
    """Equal rules are how a reload keeps state; a changed bound is a different rule."""
    one = compile_rules(
        make_config("- {name: e, integration: payments, metric: error_rate, above: 5%}")
    )
    two = compile_rules(
        make_config("- {name: e, integration: payments, metric: error_rate, above: 5%}")
    )
    three = compile_rules(
        make_config("- {name: e, integration: payments, metric: error_rate, above: 6%}")
    )
    assert one == two
    assert one != three
    assert one[0].fingerprint == three[0].fingerprint


def test_rules_that_cannot_apply_are_reported_not_refused() -> None:
    """No freshness or rpo anywhere, or an SLA without availability: not applicable, with why."""
    alerts: list[dict[str, object]] = [
        {"name": "stale", "integration": "email", "metric": "freshness"},
        {"name": "backups", "metric": "backup_age", "above": "rpo"},
        {
            "name": "burn",
            "sla": "latency-only",
            "burn_rate": {"long": "1h", "short": "5m", "factor": 14.4},
        },
    ]
    config = unchecked_config(alerts, integrations=NO_RPO)
    rules = compile_rules(config)
    assert [type(r) for r in rules] == [Inapplicable] * 3
    reasons = [r.reason for r in rules if isinstance(r, Inapplicable)]
    assert "no freshness.max_age" in reasons[0]
    assert "rpo" in reasons[1]
    assert "no availability objective" in reasons[2]


def test_a_freshness_rule_uses_its_own_above_over_the_integrations_max_age() -> None:
    """``above:`` on a freshness rule is its limit; without it the integration's max_age."""
    config = unchecked_config(  # the checks want a max_age on the integration even with above:
        [
            {"name": "stale-email", "integration": "email", "metric": "freshness", "above": "30m"},
            {
                "name": "stale-inventory",
                "integration": "inventory",
                "metric": "freshness",
                "above": "5m",
            },
        ]
    )
    email, inventory = compile_rules(config)
    assert isinstance(email, FreshnessRule)
    assert isinstance(inventory, FreshnessRule)
    assert (email.max_age, inventory.max_age) == (1800.0, 300.0)


def test_backup_age_rpo_is_the_integrations_own() -> None:
    """``above: rpo`` with an integration is that integration's rpo."""
    config = make_config("- {name: b, integration: inventory, metric: backup_age, above: rpo}")
    [rule] = compile_rules(config)
    assert isinstance(rule, BackupAgeRule)
    assert rule.above == 300.0


def measure(config: Config, live: LiveMetrics, now: float) -> tuple[str, Measurement]:
    [rule] = compile_rules(config)
    measured = rule.measure(Sources(live), now)
    return rule.summary(measured), measured


def test_threshold_summary_reads_like_a_sentence() -> None:
    """ "payments error rate 30% is above 5% (over 1m)"."""
    clock = [MONDAY]
    live = LiveMetrics(clock=lambda: clock[0])
    traffic(live, ok=7, bad=3)
    config = make_config("- {name: e, integration: payments, metric: error_rate, above: 5%}")
    text, measured = measure(config, live, MONDAY + 5)
    assert measured.active
    assert text == "payments error rate 30% is above 5% (over 1m)"
    config = make_config("- {name: p, integration: payments, metric: latency_p95, above: 800ms}")
    text, measured = measure(config, live, MONDAY + 5)
    assert not measured.active
    assert text == "payments latency p95 98 ms is not above 800 ms (over 1m)"


def test_a_users_summary_is_filled_in_safely() -> None:
    """{value} and {threshold} are filled; unknown names stay; a broken template never raises."""
    clock = [MONDAY]
    live = LiveMetrics(clock=lambda: clock[0])
    traffic(live, ok=7, bad=3)
    template = (
        "- {{name: e, integration: payments, metric: error_rate, above: 5%, summary: '{text}'}}"
    )
    cases = {
        "{integration} failing: {value} > {threshold}": "payments failing: 30% > 5%",
        "{value} and {nobody}": "30% and {nobody}",
        "{0} {value}": "{0} 30%",
        "{value:.2f} {threshold}": "{value:.2f} 5%",
        "{value.real}": "{value.real}",
    }
    for summary, expected in cases.items():
        text, _ = measure(make_config(template.format(text=summary)), live, MONDAY + 5)
        assert text == expected, summary


def test_numbers_read_as_people_write_them() -> None:
    """Percentages, latencies, rates and ages in an alert's own units."""
    cases = [
        ("error_rate", 0.342, "34.2%"),
        ("availability", 0.9999, "99.99%"),
        ("error_rate", 0.00001, "0.001%"),
        ("latency_p95", 0.812, "812 ms"),
        ("latency_p99", 0.0005, "0.5 ms"),
        ("latency_p50", 12.3, "12.3 s"),
        ("throughput", 12.5, "12.5/s"),
        ("throughput", 0.05, "3/min"),
        ("freshness", 1020.0, "17m"),
        ("backup_age", 7500.0, "2h5m"),
        ("error_rate", None, "no data"),
    ]
    for metric, value, expected in cases:
        assert format_metric(metric, value) == expected, (metric, value)
