"""The Grafana dashboard: valid JSON, unique ids, no overlapping panels, valid PromQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from seawall.config import Config
from seawall.exports import (
    grafana_dashboard,
    prometheus_rules,
    render_grafana_dashboard,
    slo_objectives,
)
from tests.exports.conftest import PromtoolRun


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in _panels(dashboard) for t in p["targets"]]


def test_dashboard_is_stable_json(reference_config: Config) -> None:
    """The rendered dashboard is JSON that reads back to the same document, run to run."""
    text = render_grafana_dashboard(reference_config)
    assert text == render_grafana_dashboard(reference_config)
    dashboard = json.loads(text)
    assert dashboard == grafana_dashboard(reference_config)
    assert dashboard["schemaVersion"] == 39
    assert dashboard["uid"] == "seawall-overview"


def test_ids_unique_and_panels_query_prometheus(reference_config: Config) -> None:
    """Panel ids are unique; every panel has the templated data source and targets with expr."""
    dashboard = grafana_dashboard(reference_config)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == "${datasource}"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))


def test_grid_has_no_overlaps(reference_config: Config) -> None:
    """Every panel sits inside the 24-column grid and no two panels share a cell."""
    taken: dict[tuple[int, int], str] = {}
    for panel in grafana_dashboard(reference_config)["panels"]:
        pos = panel["gridPos"]
        assert min(pos["x"], pos["y"]) >= 0, panel["title"]
        assert min(pos["w"], pos["h"]) > 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_variables_read_the_metrics(reference_config: Config) -> None:
    """A data source variable, and integration/provider variables from label_values queries."""
    variables = {v["name"]: v for v in grafana_dashboard(reference_config)["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("integration", "provider"):
        assert variables[name]["type"] == "query"
        assert variables[name]["definition"].startswith("label_values(")
        assert variables[name]["definition"].endswith(f", {name})")
        assert variables[name]["includeAll"] is True


def test_panels_cover_seawall_metrics(reference_config: Config) -> None:
    """The panels read every metric the issue names, and the breaker states are mapped."""
    dashboard = grafana_dashboard(reference_config)
    text = "\n".join(_exprs(dashboard))
    for metric in (
        "seawall_requests_total",
        "seawall_attempts_total",
        "seawall_request_duration_seconds_bucket",
        "seawall_circuit_state",
        "seawall_retries_total",
        "seawall_rejections_total",
        "seawall_failovers_total",
        "seawall_probe_success",
        "seawall_outbox_depth",
        "seawall_outbox_oldest_seconds",
    ):
        assert metric in text, metric
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}," in text
    (circuit,) = [p for p in _panels(dashboard) if p["title"] == "Circuit breaker state"]
    (mapping,) = circuit["fieldConfig"]["defaults"]["mappings"]
    assert {k: v["text"] for k, v in mapping["options"].items()} == {
        "0": "closed",
        "1": "half-open",
        "2": "open",
    }


def test_sla_panels_use_the_recording_rules(reference_config: Config) -> None:
    """Each SLA objective has burn-rate panels over series the generated rules record."""
    dashboard = grafana_dashboard(reference_config)
    recorded = {
        rule["record"]
        for group in prometheus_rules(reference_config)["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert "SLA stripe-standard (payments/stripe)" in rows
    for slo in slo_objectives(reference_config):
        mine = [e for e in _exprs(dashboard) if f'sloth_id="{slo.sloth_id}"' in e]
        assert mine, slo.sloth_id
        used = {name for e in mine for name in re.findall(r"slo:[a-z_]+:[a-z_0-9]+", e)}
        assert used <= recorded, used - recorded
        assert "slo:error_budget:ratio" in used


def test_every_query_is_valid_promql(
    reference_config: Config, promtool: PromtoolRun, tmp_path: Path
) -> None:
    """With Grafana's variables filled in, promtool parses every panel and variable query."""
    dashboard = grafana_dashboard(reference_config)
    substitutions = {"$__rate_interval": "5m", "$integration": ".*", "$provider": ".*"}
    rules = []
    for i, query in enumerate(_exprs(dashboard)):
        expr = query
        for variable, value in substitutions.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        rules.append({"record": f"dashboard:query:{i}", "expr": expr})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
