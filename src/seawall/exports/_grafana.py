"""A Grafana dashboard over seawall's metrics and its SLA recording rules.

One dashboard (schema 39, Grafana 10/11): a data source variable and
``integration`` / ``provider`` variables read from the metrics themselves, then
rows for traffic, latency, resilience (breakers, retries, rejections,
failovers, fallbacks), provider health, queues, and one row a configured SLA
with its burn rates and remaining error budget. Panels are laid out on
Grafana's 24-column grid left to right, so none overlap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from seawall.config import Config
from seawall.exports._prometheus_rules import SloObjective, slo_objectives

__all__ = ["grafana_dashboard", "render_grafana_dashboard"]

SCHEMA_VERSION = 39
DASHBOARD_UID = "seawall-overview"

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_WIDTH = 24

#: every series of an integration's provider the variables select
_BY_PROVIDER = 'integration=~"$integration", provider=~"$provider"'
_BY_INTEGRATION = 'integration=~"$integration"'
_RATE = "[$__rate_interval]"

_BAD = "failure|timeout|connect-error"
_ANSWERED = f"success|final|{_BAD}"

#: the burn-rate windows of the workbook's alerts, shortest first
_BURN_WINDOWS = ("5m", "30m", "1h", "6h", "1d", "3d")

_GREEN, _YELLOW, _ORANGE, _RED = "green", "yellow", "orange", "red"


class _Grid:
    """Places panels on Grafana's grid, left to right then down; hands out ids."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self._x = 0
        self._y = 0
        self._line_height = 0

    def _newline(self) -> None:
        self._y += self._line_height
        self._x = 0
        self._line_height = 0

    def row(self, title: str) -> None:
        self._newline()
        self._add({"type": "row", "title": title, "collapsed": False, "panels": []}, _WIDTH, 1)
        self._newline()

    def panel(self, panel: dict[str, Any], *, w: int, h: int = 8) -> None:
        if self._x + w > _WIDTH:
            self._newline()
        self._add(panel, w, h)

    def _add(self, panel: dict[str, Any], w: int, h: int) -> None:
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self._x, "y": self._y}
        self.panels.append(panel)
        self._x += w
        self._line_height = max(self._line_height, h)


def grafana_dashboard(config: Config) -> dict[str, Any]:
    """The dashboard as a JSON-ready mapping (import it, or provision the file)."""
    grid = _Grid()
    _overview(grid)
    _traffic(grid)
    _resilience(grid)
    _health(grid)
    _queues(grid)
    _slas(grid, slo_objectives(config))
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": "seawall: the third-party services this platform depends on, "
        "seawall's protections, and the vendors' SLAs.",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": grid.panels,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["seawall"],
        "templating": {"list": _variables()},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": "seawall",
        "uid": DASHBOARD_UID,
        "version": 1,
        "weekStart": "",
    }


def render_grafana_dashboard(config: Config) -> str:
    """The dashboard as indented JSON, stable run to run."""
    return json.dumps(grafana_dashboard(config), indent=2, ensure_ascii=False) + "\n"


# -- variables -----------------------------------------------------------------


def _variables() -> list[dict[str, Any]]:
    # seawall_circuit_state is declared at 0 for every configured provider at
    # start, so the lists are complete before the first call.
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "includeAll": False,
            "multi": False,
            "options": [],
            "refresh": 1,
            "regex": "",
        },
        _query_variable(
            "integration", "Integration", "label_values(seawall_circuit_state, integration)"
        ),
        _query_variable(
            "provider",
            "Provider",
            f"label_values(seawall_circuit_state{{{_BY_INTEGRATION}}}, provider)",
        ),
    ]


def _query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(_DATASOURCE),
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "options": [],
        "refresh": 2,
        "regex": "",
        "sort": 1,
    }


# -- rows ----------------------------------------------------------------------


def _overview(grid: _Grid) -> None:
    grid.row("Overview")
    for title, expr, unit, steps in (
        ("Calls per second", _sum("", "seawall_requests_total"), "reqps", None),
        (
            "Vendor error ratio",
            _vendor_error_ratio(""),
            "percentunit",
            [(None, _GREEN), (0.01, _YELLOW), (0.05, _RED)],
        ),
        ("p95 call latency", _quantile(0.95, "le", "seawall_request_duration_seconds"), "s", None),
        (
            "Open circuits",
            f"count(seawall_circuit_state{{{_BY_PROVIDER}}} == 2) or vector(0)",
            "none",
            [(None, _GREEN), (1, _RED)],
        ),
    ):
        grid.panel(_stat(title, expr, unit=unit, steps=steps), w=6, h=4)


def _traffic(grid: _Grid) -> None:
    grid.row("Traffic and latency")
    pair = "{{integration}}/{{provider}}"
    _chart(
        grid,
        "Calls by outcome",
        [(_sum("integration, outcome", "seawall_requests_total"), "{{integration}} {{outcome}}")],
        unit="reqps",
        description="Calls that left seawall, by the outcome the caller saw.",
    )
    _chart(
        grid,
        "Attempts by provider and outcome",
        [
            (
                _sum("integration, provider, outcome", "seawall_attempts_total"),
                f"{pair} {{{{outcome}}}}",
            )
        ],
        unit="reqps",
        description="Every attempt against a vendor, retries included.",
    )
    _chart(
        grid,
        "Vendor error ratio",
        [(_vendor_error_ratio("integration, provider"), pair)],
        unit="percentunit",
        description="Vendor faults (failure, timeout, connect-error) over the attempts the "
        "vendor answered; 429 throttling counts neither way.",
    )
    by = "le, integration, provider"
    _chart(
        grid,
        "Call latency p50 / p95 / p99",
        [
            (_quantile(q, by, "seawall_request_duration_seconds"), f"p{round(q * 100)} {pair}")
            for q in (0.5, 0.95, 0.99)
        ],
        unit="s",
        description="Whole-call duration, every retry and backoff included.",
    )


def _resilience(grid: _Grid) -> None:
    grid.row("Resilience")
    pair = "{{integration}}/{{provider}}"
    _states(
        grid,
        "Circuit breaker state",
        f"max by (integration, provider) (seawall_circuit_state{{{_BY_PROVIDER}}})",
        [(0, "closed", _GREEN), (1, "half-open", _YELLOW), (2, "open", _RED)],
        description="0 closed, 1 half-open, 2 open.",
    )
    transitions = _sum(
        "integration, provider, to", "seawall_breaker_transitions_total", fn="increase"
    )
    _chart(grid, "Breaker transitions", [(transitions, f"{pair} to {{{{to}}}}")], unit="short")
    retries = _sum("integration, provider", "seawall_retries_total")
    _chart(grid, "Retries", [(retries, pair)], unit="reqps", w=8)
    _chart(
        grid,
        "Rejections by reason",
        [
            (
                _sum("integration, reason", "seawall_rejections_total", _BY_INTEGRATION),
                "{{integration}} {{reason}}",
            )
        ],
        unit="reqps",
        w=8,
        description="Calls or attempts seawall refused itself: circuit open, rate "
        "limited, bulkhead full, retry budget exhausted, deadline.",
    )
    failovers = _sum("integration, source, target", "seawall_failovers_total", _BY_INTEGRATION)
    _chart(
        grid,
        "Failovers",
        [(failovers, "{{integration}}: {{source}} → {{target}}")],
        unit="reqps",
        w=8,
    )
    fallbacks = _sum("integration, kind", "seawall_fallbacks_total", _BY_INTEGRATION)
    _chart(grid, "Fallbacks served", [(fallbacks, "{{integration}} {{kind}}")], unit="reqps")
    _chart(
        grid,
        "In flight and queued for a bulkhead slot",
        [
            (_gauge("sum", "seawall_inflight"), "{{integration}} in flight"),
            (_gauge("sum", "seawall_bulkhead_queued"), "{{integration}} queued"),
        ],
        unit="short",
    )


def _health(grid: _Grid) -> None:
    grid.row("Provider health")
    pair = "{{integration}}/{{provider}}"
    _states(
        grid,
        "Probe success",
        f"min by (integration, provider) (seawall_probe_success{{{_BY_PROVIDER}}})",
        [(0, "failing", _RED), (1, "passing", _GREEN)],
        description="The last active health probe of each provider.",
    )
    probe_p95 = _quantile(0.95, "le, integration, provider", "seawall_probe_duration_seconds")
    _chart(grid, "Probe duration p95", [(probe_p95, pair)], unit="s")
    _states(
        grid,
        "In maintenance",
        f"max by (integration, provider) (seawall_provider_in_maintenance{{{_BY_PROVIDER}}})",
        [(0, "in service", _GREEN), (1, "maintenance", _ORANGE)],
        description="Draining for or inside a planned maintenance window.",
    )
    ejections = _sum(
        "integration, provider, reason", "seawall_provider_ejections_total", fn="increase"
    )
    _chart(
        grid,
        "Providers taken out of rotation",
        [(ejections, f"{pair} {{{{reason}}}}")],
        unit="short",
    )


def _queues(grid: _Grid) -> None:
    grid.row("Outbox")
    _chart(
        grid,
        "Outbox depth",
        [(_gauge("sum", "seawall_outbox_depth"), "{{integration}}")],
        unit="short",
        description="Queued writes accepted (202) and not yet delivered.",
    )
    _chart(
        grid,
        "Oldest undelivered write",
        [(_gauge("max", "seawall_outbox_oldest_seconds"), "{{integration}}")],
        unit="s",
    )


def _slas(grid: _Grid, objectives: list[SloObjective]) -> None:
    current = None
    for slo in objectives:
        if slo.sla != current:
            current = slo.sla
            grid.row(f"SLA {slo.sla} ({slo.integration}/{slo.provider})")
        selector = slo.selector()
        burn = [
            (
                f"slo:sli_error:ratio_rate{window}{selector}\n"
                f"/ on (sloth_id) group_left ()\nslo:error_budget:ratio{selector}",
                window,
            )
            for window in _BURN_WINDOWS
        ]
        panel = _timeseries(
            f"{slo.title}: error budget burn rate",
            burn,
            unit="none",
            description="How many times faster than the period allows the error budget is "
            "spent (1 = exactly used up by the end of the period). The lines mark the "
            "alert thresholds: page at 14.4 (1h and 5m) or 6 (6h and 30m), ticket at 3 "
            "(1d and 2h) or 1 (3d and 6h)." + (f" Note: {slo.note}." if slo.note else ""),
            steps=[(None, _GREEN), (1, _YELLOW), (6, _ORANGE), (14.4, _RED)],
        )
        panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] = {"mode": "line+area"}
        grid.panel(panel, w=12)
        grid.panel(
            _stat(
                f"{slo.title}: error budget remaining",
                f"slo:period_error_budget_remaining:ratio{selector}",
                unit="percentunit",
                steps=[(None, _RED), (0, _ORANGE), (0.25, _YELLOW), (0.5, _GREEN)],
                description=f"{slo.title}: share of this period's error budget not yet spent.",
            ),
            w=6,
        )
        grid.panel(
            _stat(
                f"{slo.title}: SLI over {slo.period_window}",
                f"1 - slo:sli_error:ratio_rate{slo.period_window}{selector}",
                unit="percentunit",
                steps=[(None, _RED), (slo.objective, _GREEN)],
                decimals=3,
                description=f"{slo.title}: good events over all events, objective "
                f"{slo.objective:.6g}.",
            ),
            w=6,
        )


# -- queries and panels --------------------------------------------------------


def _sum(by: str, metric: str, selector: str = _BY_PROVIDER, *, fn: str = "rate") -> str:
    group = f" by ({by})" if by else ""
    return f"sum{group} ({fn}({metric}{{{selector}}}{_RATE}))"


def _gauge(op: str, metric: str) -> str:
    return f"{op} by (integration) ({metric}{{{_BY_INTEGRATION}}})"


def _quantile(q: float, by: str, histogram: str) -> str:
    return f"histogram_quantile({q}, {_sum(by, histogram + '_bucket')})"


def _chart(
    grid: _Grid,
    title: str,
    queries: list[tuple[str, str]],
    *,
    unit: str,
    w: int = 12,
    description: str = "",
) -> None:
    grid.panel(_timeseries(title, queries, unit=unit, description=description), w=w)


def _states(
    grid: _Grid,
    title: str,
    expr: str,
    states: list[tuple[int, str, str]],
    *,
    description: str,
) -> None:
    """A state timeline: one band a series, each value named and coloured."""
    panel = _panel("state-timeline", title, [(expr, "{{integration}}/{{provider}}")])
    panel["description"] = description
    defaults = panel["fieldConfig"]["defaults"]
    defaults["mappings"] = [_value_mapping({str(v): (text, color) for v, text, color in states})]
    defaults["color"] = {"mode": "thresholds"}
    defaults["thresholds"] = _thresholds(
        [(None if i == 0 else v, color) for i, (v, _, color) in enumerate(states)]
    )
    panel["options"] = {"showValue": "never", "mergeValues": True, "rowHeight": 0.9}
    grid.panel(panel, w=12)


def _vendor_error_ratio(by: str) -> str:
    group = f" by ({by})" if by else ""
    attempts = "rate(seawall_attempts_total{{{matchers}}}{rate})"
    bad = attempts.format(matchers=f'{_BY_PROVIDER}, outcome=~"{_BAD}"', rate=_RATE)
    answered = attempts.format(matchers=f'{_BY_PROVIDER}, outcome=~"{_ANSWERED}"', rate=_RATE)
    return f"sum{group} ({bad})\n/\nsum{group} ({answered})"


def _target(expr: str, legend: str, ref: int) -> dict[str, Any]:
    return {
        "datasource": dict(_DATASOURCE),
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend,
        "range": True,
        "refId": chr(ord("A") + ref),
    }


def _panel(
    kind: str, title: str, queries: list[tuple[str, str]], *, description: str = ""
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": dict(_DATASOURCE),
        "targets": [_target(expr, legend, i) for i, (expr, legend) in enumerate(queries)],
        "fieldConfig": {"defaults": {"custom": {}}, "overrides": []},
        "options": {},
    }


def _timeseries(
    title: str,
    queries: list[tuple[str, str]],
    *,
    unit: str,
    description: str = "",
    steps: Sequence[tuple[float | None, str]] | None = None,
) -> dict[str, Any]:
    panel = _panel("timeseries", title, queries, description=description)
    defaults = panel["fieldConfig"]["defaults"]
    defaults["unit"] = unit
    defaults["min"] = 0
    defaults["custom"] = {
        "drawStyle": "line",
        "fillOpacity": 10,
        "lineWidth": 1,
        "spanNulls": False,
    }
    defaults["color"] = {"mode": "palette-classic"}
    if steps is not None:
        defaults["thresholds"] = _thresholds(steps)
    panel["options"] = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def _stat(
    title: str,
    expr: str,
    *,
    unit: str,
    steps: Sequence[tuple[float | None, str]] | None = None,
    decimals: int | None = None,
    description: str = "",
) -> dict[str, Any]:
    panel = _panel("stat", title, [(expr, title)], description=description)
    defaults = panel["fieldConfig"]["defaults"]
    defaults["unit"] = unit
    defaults["color"] = {"mode": "thresholds"}
    defaults["thresholds"] = _thresholds(steps or [(None, _GREEN)])
    if decimals is not None:
        defaults["decimals"] = decimals
    panel["options"] = {
        "colorMode": "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "auto",
    }
    return panel


def _thresholds(steps: Sequence[tuple[float | None, str]]) -> dict[str, Any]:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


def _value_mapping(values: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "value",
        "options": {
            value: {"text": text, "color": color, "index": i}
            for i, (value, (text, color)) in enumerate(values.items())
        },
    }
