"""The SLA rules: valid for promtool, and right when promtool runs them on synthetic series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from seawall.config import Config, check_text
from seawall.exports import (
    DURATION_BUCKETS,
    prometheus_rules,
    render_prometheus_rules,
    slo_objectives,
)
from seawall.telemetry import _metrics
from tests.exports.conftest import PromtoolRun

STRIPE = 'integration="payments", provider="stripe"'
AVAILABILITY = "stripe-standard-availability"
LATENCY = "stripe-standard-latency-p95"


def _write_rules(tmp_path: Path, config: Config) -> Path:
    path = tmp_path / "seawall-rules.yaml"
    path.write_text(render_prometheus_rules(config))
    return path


def _alerts(config: Config, name: str, sloth_id: str) -> list[dict[str, Any]]:
    """The generated alert rules called ``name`` for one objective."""
    return [
        rule
        for group in prometheus_rules(config)["groups"]
        for rule in group["rules"]
        if rule.get("alert") == name and f'sloth_id="{sloth_id}"' in rule["expr"]
    ]


def _firing(config: Config, name: str, sloth_id: str, value: str) -> list[dict[str, Any]]:
    """What promtool should report for every alert ``name`` of one objective firing."""
    expected = []
    for rule in _alerts(config, name, sloth_id):
        objective = rule["labels"]["objective"]
        labels = {
            **rule["labels"],
            "sloth_id": sloth_id,
            "sloth_service": "stripe-standard",
            "sloth_slo": objective,
        }
        annotations = {
            k: v.replace("{{ $value | humanizePercentage }}", value)
            for k, v in rule["annotations"].items()
        }
        expected.append({"exp_labels": labels, "exp_annotations": annotations})
    return expected


def _unit_test(
    promtool: PromtoolRun,
    tmp_path: Path,
    config: Config,
    series: dict[str, str],
    *,
    alerts: Sequence[dict[str, Any]] = (),
    exprs: Sequence[dict[str, Any]] = (),
) -> None:
    rules = _write_rules(tmp_path, config)
    test = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": list(alerts),
                "promql_expr_test": list(exprs),
            }
        ],
    }
    path = tmp_path / "seawall-rules.test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    result = promtool("test", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


def _attempts(outcome: str) -> str:
    return f'seawall_attempts_total{{{STRIPE}, outcome="{outcome}"}}'


def _sli(window: str, sloth_id: str) -> str:
    return f'slo:sli_error:ratio_rate{window}{{sloth_id="{sloth_id}"}}'


def _sli_labels(sloth_id: str, window: str) -> str:
    objective = sloth_id.removeprefix("stripe-standard-")
    return (
        f'{{{STRIPE}, objective="{objective}", sla="stripe-standard", sloth_id="{sloth_id}", '
        f'sloth_service="stripe-standard", sloth_slo="{objective}", sloth_window="{window}"}}'
    )


def test_reference_rules_pass_promtool_check(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """The rules for the reference configuration pass `promtool check rules`, lint included."""
    result = promtool("check", "rules", _write_rules(tmp_path, reference_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_reference_rules_shape(reference_config: Config) -> None:
    """Every objective gets SLI, metadata and alert groups with unique, sanitised names."""
    groups = prometheus_rules(reference_config)["groups"]
    names = [g["name"] for g in groups]
    assert names == [
        f"seawall-sla-{kind}-{sloth_id}"
        for sloth_id in (AVAILABILITY, LATENCY)
        for kind in ("sli-recordings", "meta-recordings", "alerts")
    ]
    records = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
        assert f"slo:sli_error:ratio_rate{window}" in records
    assert {
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:period_error_budget_remaining:ratio",
    } <= records
    latency_meta = {r["record"]: r["expr"] for r in groups[4]["rules"]}
    assert latency_meta["slo:error_budget:ratio"] == "vector(0.01)"  # 1 - target, as seawall.sla
    page = _alerts(reference_config, "SeawallSlaErrorBudgetBurn", AVAILABILITY)[0]
    assert page["labels"] == {
        "sla": "stripe-standard",
        "objective": "availability",
        "integration": "payments",
        "provider": "stripe",
        "severity": "critical",
        "sloth_severity": "page",
    }
    assert "stripe-standard" in page["annotations"]["description"]
    assert "availability 99.99%" in page["annotations"]["description"]


def test_output_is_stable_yaml(reference_config: Config) -> None:
    """Two renders are byte-identical, and the YAML reads back to the same document."""
    text = render_prometheus_rules(reference_config)
    assert text == render_prometheus_rules(reference_config)
    assert yaml.safe_load(text) == prometheus_rules(reference_config)
    assert "&id" not in text  # no YAML anchors for Prometheus to trip over


def test_config_burn_rate_alert_is_generated(reference_config: Config) -> None:
    """The configured payments-sla-burn alert becomes a rule on its SLA's windows and factor."""
    (rule,) = _alerts(reference_config, "payments-sla-burn", AVAILABILITY)
    assert rule["labels"]["severity"] == "critical"
    assert _sli("1h", AVAILABILITY) + " > (14.4 * 0.0001)" in rule["expr"]
    assert _sli("5m", AVAILABILITY) + " > (14.4 * 0.0001)" in rule["expr"]


def test_page_fires_on_all_errors(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """An hour of vendor faults only fires the page, ticket and configured alerts."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        {_attempts("failure"): "0+10x120", _attempts("success"): "0+0x120"},
        alerts=[
            {
                "eval_time": "1h",
                "alertname": "SeawallSlaErrorBudgetBurn",
                "exp_alerts": _firing(
                    reference_config, "SeawallSlaErrorBudgetBurn", AVAILABILITY, "100%"
                ),
            },
            {
                "eval_time": "1h",
                "alertname": "payments-sla-burn",
                "exp_alerts": _firing(reference_config, "payments-sla-burn", AVAILABILITY, "100%"),
            },
        ],
        exprs=[
            {
                "eval_time": "1h",
                "expr": _sli("1h", AVAILABILITY),
                "exp_samples": [
                    {
                        "labels": "slo:sli_error:ratio_rate1h" + _sli_labels(AVAILABILITY, "1h"),
                        "value": 1,
                    }
                ],
            },
            {
                "eval_time": "1h",
                "expr": _sli("30d", AVAILABILITY),
                "exp_samples": [
                    {
                        "labels": "slo:sli_error:ratio_rate30d" + _sli_labels(AVAILABILITY, "30d"),
                        "value": 1,
                    }
                ],
            },
        ],
    )


def test_no_alert_without_errors(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """Only successes (no fault series exists yet) record an SLI of 0 and fire nothing."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        {_attempts("success"): "0+10x120"},
        alerts=[
            {"eval_time": "1h", "alertname": name, "exp_alerts": []}
            for name in ("SeawallSlaErrorBudgetBurn", "payments-sla-burn")
        ],
        exprs=[
            {
                "eval_time": "1h",
                "expr": _sli("1h", AVAILABILITY),
                "exp_samples": [
                    {
                        "labels": "slo:sli_error:ratio_rate1h" + _sli_labels(AVAILABILITY, "1h"),
                        "value": 0,
                    }
                ],
            }
        ],
    )


def test_ratio_counts_faults_over_answered_attempts(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """Timeouts and connect errors are bad, declines good, 429s neither: 2 bad of 4 is 0.5."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        {
            _attempts("timeout"): "0+1x120",
            _attempts("connect-error"): "0+1x120",
            _attempts("success"): "0+1x120",
            _attempts("final"): "0+1x120",
            _attempts("throttled"): "0+50x120",
        },
        exprs=[
            {
                "eval_time": "2h",
                "expr": _sli(window, AVAILABILITY),
                "exp_samples": [
                    {
                        "labels": f"slo:sli_error:ratio_rate{window}"
                        + _sli_labels(AVAILABILITY, window),
                        "value": 0.5,
                    }
                ],
            }
            for window in ("5m", "1h", "30d")
        ],
    )


def test_throttling_does_not_burn_budget(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """An hour of 429s is seawall's load, not a vendor fault: nothing fires."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        {_attempts("throttled"): "0+10x120", _attempts("success"): "0+1x120"},
        alerts=[
            {"eval_time": "1h", "alertname": name, "exp_alerts": []}
            for name in ("SeawallSlaErrorBudgetBurn", "payments-sla-burn")
        ],
    )


def test_maintenance_holds_the_page(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """Faults while the provider is in planned maintenance (excluded from the SLA) do not page."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        {
            _attempts("failure"): "0+10x120",
            f"seawall_provider_in_maintenance{{{STRIPE}}}": "1x120",
        },
        alerts=[
            {"eval_time": "1h", "alertname": name, "exp_alerts": []}
            for name in ("SeawallSlaErrorBudgetBurn", "payments-sla-burn")
        ],
    )


def _histogram(fast: int, slow: int) -> dict[str, str]:
    """Calls of payments/stripe a minute: ``fast`` within 800ms, ``slow`` between 800ms and 1s."""
    name = "seawall_request_duration_seconds"
    under = f"0+{fast}x120"
    every = f"0+{fast + slow}x120"
    series = {
        f'{name}_bucket{{{STRIPE}, le="{le!r}"}}': under if le <= 0.8 else every
        for le in DURATION_BUCKETS
    }
    series[f'{name}_bucket{{{STRIPE}, le="+Inf"}}'] = every
    series[f"{name}_count{{{STRIPE}}}"] = every
    return series


def test_latency_page_fires_on_slow_calls(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """An hour of calls slower than the bucket under 800ms fires the latency page."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        _histogram(0, 10),
        alerts=[
            {
                "eval_time": "1h",
                "alertname": "SeawallSlaErrorBudgetBurn",
                "exp_alerts": _firing(
                    reference_config, "SeawallSlaErrorBudgetBurn", LATENCY, "100%"
                ),
            }
        ],
    )


def test_latency_within_budget_is_quiet(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """1 slow call in 200 is half the 1% budget of a 99% target: the SLI reads 0.005, no alert."""
    _unit_test(
        promtool,
        tmp_path,
        reference_config,
        _histogram(199, 1),
        alerts=[{"eval_time": "2h", "alertname": "SeawallSlaErrorBudgetBurn", "exp_alerts": []}],
        exprs=[
            {
                "eval_time": "2h",
                "expr": f"round({_sli('1h', LATENCY)}, 0.0001)",
                "exp_samples": [{"labels": _sli_labels(LATENCY, "1h"), "value": 0.005}],
            }
        ],
    )


def test_buckets_match_the_histogram() -> None:
    """The bounds the rules read are the ones seawall's duration histogram exposes."""
    assert DURATION_BUCKETS == _metrics.DURATION_BUCKETS


def _config(slas: str, alerts: str = "") -> Config:
    text = (
        "version: 1\n"
        "integrations:\n"
        "  pay:\n"
        "    providers:\n"
        "      - {name: acme, base_url: 'https://api.acme.example'}\n"
        f"slas:\n{slas}"
        f"{alerts}"
    )
    config, findings = check_text(text, check_imports=False)
    assert config is not None, findings
    return config


def test_threshold_on_a_bound_is_read_exactly() -> None:
    """A bound threshold is read there (le 1 or 1.0), no note; the target is the objective."""
    config = _config(
        "  fast:\n    provider: pay/acme\n"
        "    objectives: [{metric: latency, percentile: 90, threshold: 1s, target: 99.5%}]\n"
    )
    (slo,) = slo_objectives(config)
    assert (slo.slo, slo.bucket, slo.note, slo.objective) == ("latency-p90", 1.0, "", 0.995)
    text = render_prometheus_rules(config)
    assert 'le=~"1|1\\\\.0"' in text
    assert "nearest bound" not in text


def test_threshold_between_bounds_is_named() -> None:
    """700ms is read at the 500ms bound below, and the header and alerts say so."""
    config = _config(
        "  slow:\n    provider: pay/acme\n"
        "    objectives: [{metric: latency, percentile: 95, threshold: 700ms, target: 99%}]\n"
    )
    (slo,) = slo_objectives(config)
    assert slo.bucket == 0.5
    text = render_prometheus_rules(config)
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("700ms" in line and 'le="0.5"' in line for line in header)
    for rule in prometheus_rules(config)["groups"][2]["rules"]:
        assert "nearest bound below" in rule["annotations"]["description"]


def test_custom_windows_and_period(promtool: PromtoolRun, tmp_path: Path) -> None:
    """A burn_rate alert on other windows gets their SLIs; a weekly period records 7d."""
    config = _config(
        "  weekly:\n    provider: pay/acme\n    period: weekly\n"
        "    objectives: [{metric: availability, target: 99.5%, measure: calls}]\n",
        "alerts:\n"
        "  - {name: slow-burn, sla: weekly, burn_rate: {long: 4h, short: 20m, factor: 2}, "
        "for: 5m, severity: warning, labels: {team: pay}}\n",
    )
    document = prometheus_rules(config)
    records = {r["record"] for g in document["groups"] for r in g["rules"] if "record" in r}
    assert {"slo:sli_error:ratio_rate4h", "slo:sli_error:ratio_rate20m"} <= records
    assert "slo:sli_error:ratio_rate7d" in records
    meta = {r["record"]: r["expr"] for r in document["groups"][1]["rules"]}
    assert meta["slo:time_period:days"] == "vector(7)"
    assert meta["slo:error_budget:ratio"] == "vector(0.005)"
    (custom,) = [r for r in document["groups"][2]["rules"] if r["alert"] == "slow-burn"]
    assert custom["for"] == "5m"
    assert custom["labels"]["team"] == "pay"
    result = promtool("check", "rules", _write_rules(tmp_path, config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_slas_is_an_empty_valid_file(promtool: PromtoolRun, tmp_path: Path) -> None:
    """Without SLAs the file holds no groups and still passes promtool."""
    config, _ = check_text(
        "version: 1\nintegrations:\n  pay:\n    providers:\n"
        "      - {name: acme, base_url: 'https://api.acme.example'}\n",
        check_imports=False,
    )
    assert config is not None
    assert prometheus_rules(config) == {"groups": []}
    result = promtool("check", "rules", _write_rules(tmp_path, config))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["99.9%", "100%"])
def test_budget_numbers_are_clean(target: str) -> None:
    """Error budgets are written without binary noise (1 - 0.999 is 0.001, not 0.0009999...)."""
    config = _config(
        "  s:\n    provider: pay/acme\n"
        f"    objectives: [{{metric: availability, target: {target}}}]\n"
    )
    meta = {r["record"]: r["expr"] for r in prometheus_rules(config)["groups"][1]["rules"]}
    assert meta["slo:error_budget:ratio"] == ("vector(0.001)" if target == "99.9%" else "vector(0)")


@pytest.mark.parametrize("le", ["1.0", "1"])
def test_whole_second_bound_matches_both_spellings(
    le: str, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """prometheus_client exposes le="1.0", other scrapers write le="1": both count as fast."""
    config = _config(
        "  fast:\n    provider: pay/acme\n"
        "    objectives: [{metric: latency, percentile: 99, threshold: 1s, target: 99%}]\n"
    )
    acme = 'integration="pay", provider="acme"'
    name = "seawall_request_duration_seconds"
    _unit_test(
        promtool,
        tmp_path,
        config,
        {
            f'{name}_bucket{{{acme}, le="0.5"}}': "0+5x60",
            f'{name}_bucket{{{acme}, le="{le}"}}': "0+10x60",
            f'{name}_bucket{{{acme}, le="+Inf"}}': "0+10x60",
            f"{name}_count{{{acme}}}": "0+10x60",
        },
        exprs=[
            {
                "eval_time": "30m",
                "expr": 'slo:sli_error:ratio_rate5m{sloth_id="fast-latency-p99"}',
                "exp_samples": [
                    {
                        "labels": "slo:sli_error:ratio_rate5m{"
                        f'{acme}, objective="latency-p99", sla="fast", sloth_id="fast-latency-p99", '
                        'sloth_service="fast", sloth_slo="latency-p99", sloth_window="5m"}',
                        "value": 0,
                    }
                ],
            }
        ],
    )
