"""Files other tools read, generated from the configuration.

- :func:`render_prometheus_rules`: recording and multi-window multi-burn-rate
  alerting rules for every SLA, for ``promtool check rules`` and Prometheus;
- :func:`render_grafana_dashboard`: a Grafana dashboard over seawall's metrics
  and those rules.
"""

from __future__ import annotations

from seawall.exports._grafana import grafana_dashboard, render_grafana_dashboard
from seawall.exports._prometheus_rules import (
    DURATION_BUCKETS,
    SloObjective,
    prometheus_rules,
    render_prometheus_rules,
    slo_objectives,
)

__all__ = [
    "DURATION_BUCKETS",
    "SloObjective",
    "grafana_dashboard",
    "prometheus_rules",
    "render_grafana_dashboard",
    "render_prometheus_rules",
    "slo_objectives",
]
