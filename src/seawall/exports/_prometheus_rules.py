"""Prometheus recording and alerting rules for every SLA, in the style of Sloth.

For each objective of each SLA the rules follow the Google SRE workbook,
"Alerting on SLOs" (https://sre.google/workbook/alerting-on-slos/), as Sloth
(https://sloth.dev) generates them, with Sloth's record names and labels so
Sloth's Grafana dashboards read them too:

- **SLI recordings**: ``slo:sli_error:ratio_rate<window>``, the share of bad
  events over 5m, 30m, 1h, 2h, 6h, 1d and 3d (and any window a configured
  ``burn_rate`` alert names), straight from seawall's counters; the period
  window (30d for ``monthly``) sums two 5m helper rates instead, so it is
  weighted by traffic and one idle five minutes (0/0) cannot poison a month.
- **metadata recordings**: objective, error budget, period, current and
  period burn rate, error budget remaining.
- **alerts**: the multi-window, multi-burn-rate pair: *page* when 2% of a
  30-day budget goes in an hour or 5% in six, *ticket* when 10% goes in three
  days; plus every alert of the configuration with a ``burn_rate:`` block.

The SLIs:

- availability: vendor faults over the attempts the vendor answered, from
  ``seawall_attempts_total``: ``failure``, ``timeout`` and ``connect-error``
  are bad, ``success`` and ``final`` (a definitive answer such as a card
  decline) are good, and ``throttled`` (429) counts neither way, since a rate
  limit is seawall's load, not the vendor's fault.
- latency: calls slower than the threshold over all calls, from the
  ``seawall_request_duration_seconds`` histogram, against the objective's
  ``target`` (the share of calls that must be within the threshold), as
  :mod:`seawall.sla` judges it too. A histogram only counts at its bucket
  bounds: a threshold between two bounds is read at the bound below, which
  counts some fast-enough calls as slow (stricter, never laxer), and the
  rules say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from seawall.config import Alert, Config, Sla, format_duration
from seawall.store import LATENCY_BOUNDS

__all__ = [
    "DURATION_BUCKETS",
    "SloObjective",
    "prometheus_rules",
    "render_prometheus_rules",
    "slo_objectives",
]

#: the bucket bounds of ``seawall_request_duration_seconds``: the store's rollup
#: bounds, which include the thresholds SLAs usually name (800 ms, 2 s ...)
DURATION_BUCKETS: tuple[float, ...] = LATENCY_BOUNDS

_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86400.0

#: the SLI windows of the workbook's multi-window alerts
_SLI_WINDOWS = (5 * _MINUTE, 30 * _MINUTE, _HOUR, 2 * _HOUR, 6 * _HOUR, _DAY, 3 * _DAY)

#: the SLA ``period`` keywords as the rolling window that approximates them
_PERIODS = {"daily": _DAY, "weekly": 7 * _DAY, "monthly": 30 * _DAY, "quarterly": 90 * _DAY}

_BAD_ATTEMPTS = ("failure", "timeout", "connect-error")
_GOOD_ATTEMPTS = ("success", "final")

_SLI_ERROR = "slo:sli_error:ratio_rate{window}"
_BAD_EVENTS_5M = "slo:sli_error_events:rate5m"
_ALL_EVENTS_5M = "slo:sli_total_events:rate5m"


@dataclass(frozen=True, slots=True)
class _BurnWindows:
    """One multi-window condition: the burn rate over both windows exceeds ``factor``."""

    long: float
    short: float
    factor: float


@dataclass(frozen=True, slots=True)
class _Severity:
    """A workbook alert: page or ticket, each the ``or`` of two window pairs."""

    name: Literal["page", "ticket"]
    severity: str
    conditions: tuple[_BurnWindows, ...]


#: Table 5-7 of the workbook: burn rates for a 30-day budget
_SEVERITIES = (
    _Severity(
        "page",
        "critical",
        (_BurnWindows(_HOUR, 5 * _MINUTE, 14.4), _BurnWindows(6 * _HOUR, 30 * _MINUTE, 6.0)),
    ),
    _Severity(
        "ticket",
        "warning",
        (_BurnWindows(_DAY, 2 * _HOUR, 3.0), _BurnWindows(3 * _DAY, 6 * _HOUR, 1.0)),
    ),
)

#: the alert name of the workbook's page and ticket alerts
ALERT_NAME = "SeawallSlaErrorBudgetBurn"


@dataclass(frozen=True, slots=True)
class SloObjective:
    """One objective of one SLA, as the rules and the dashboard name it."""

    sla: str
    slo: str
    kind: Literal["availability", "latency"]
    integration: str
    provider: str
    #: the share of good events the objective asks for
    objective: float
    #: the rolling window of the SLA period, in seconds
    period: float
    #: "availability 99.99%" or "p95 latency within 800ms for 99% of calls"
    title: str
    #: the histogram bound read for a latency objective
    bucket: float | None = None
    #: why the SLI may differ from the objective's words ("" when it does not)
    note: str = ""
    exclude_maintenance: bool = False

    @property
    def sloth_id(self) -> str:
        return f"{self.sla}-{self.slo}"

    @property
    def period_window(self) -> str:
        """The period as a PromQL duration, e.g. ``30d``."""
        return _window(self.period)

    @property
    def error_budget(self) -> float:
        return 1.0 - self.objective

    def labels(self) -> dict[str, str]:
        """The labels every series of this objective carries (but the window)."""
        return {
            "integration": self.integration,
            "objective": self.slo,
            "provider": self.provider,
            "sla": self.sla,
            "sloth_id": self.sloth_id,
            "sloth_service": self.sla,
            "sloth_slo": self.slo,
        }

    def selector(self) -> str:
        """The matcher that picks this objective's recorded series."""
        return f"{{sloth_id={_quote(self.sloth_id)}}}"


def slo_objectives(config: Config) -> list[SloObjective]:
    """Every objective of every SLA, by SLA name then in the order configured."""
    found: list[SloObjective] = []
    for sla_name in sorted(config.slas):
        sla = config.slas[sla_name]
        integration, provider = sla.provider.split("/", 1)
        period = _period_seconds(sla)
        used: set[str] = set()
        for objective in sla.objectives:
            if objective.metric == "availability":
                base = "availability"
            else:
                base = f"latency-p{objective.percentile:g}"
            slo, n = base, 2
            while slo in used:
                slo, n = f"{base}-{n}", n + 1
            used.add(slo)
            if objective.metric == "availability":
                note = ""
                if objective.measure == "minutes":
                    note = (
                        "the SLA measures availability in minutes; these alerts burn "
                        "the same budget by calls (vendor faults over answered attempts)"
                    )
                found.append(
                    SloObjective(
                        sla=sla_name,
                        slo=slo,
                        kind="availability",
                        integration=integration,
                        provider=provider,
                        objective=objective.target,
                        period=period,
                        title=f"availability {_percent(objective.target)}",
                        note=note,
                        exclude_maintenance=objective.exclude_maintenance,
                    )
                )
                continue
            bucket, note = _bucket_for(objective.threshold)
            found.append(
                SloObjective(
                    sla=sla_name,
                    slo=slo,
                    kind="latency",
                    integration=integration,
                    provider=provider,
                    objective=objective.target,
                    period=period,
                    title=(
                        f"p{objective.percentile:g} latency within "
                        f"{format_duration(objective.threshold)} for "
                        f"{_percent(objective.target)} of calls"
                    ),
                    bucket=bucket,
                    note=note,
                )
            )
    return found


def prometheus_rules(config: Config) -> dict[str, Any]:
    """The rule file's document: ``{"groups": [...]}``, three groups an objective."""
    groups: list[dict[str, Any]] = []
    names: set[str] = set()
    for slo in slo_objectives(config):
        alerts = [a for a in config.alerts if a.burn_rate is not None and a.sla == slo.sla]
        extra = [w for a in alerts if a.burn_rate for w in (a.burn_rate.long, a.burn_rate.short)]
        windows = sorted({*_SLI_WINDOWS, *extra})
        for kind, rules in (
            ("sli-recordings", _sli_rules(slo, windows)),
            ("meta-recordings", _meta_rules(slo)),
            ("alerts", [*_workbook_alerts(slo), *(_config_alert(slo, a) for a in alerts)]),
        ):
            groups.append({"name": _group_name(f"seawall-sla-{kind}-{slo.sloth_id}", names)})
            groups[-1]["rules"] = rules
    return {"groups": groups}


def render_prometheus_rules(config: Config) -> str:
    """The rule file as YAML, ready for ``promtool check rules``, stable run to run."""
    header = [
        "# Prometheus rules for seawall's SLAs: SLI recordings, SLO metadata and",
        "# multi-window multi-burn-rate alerts (Google SRE workbook, Sloth's names).",
        "# Generated by `seawall export prometheus-rules`; change the configuration",
        "# and generate again rather than editing. Check with: promtool check rules FILE",
    ]
    for slo in slo_objectives(config):
        if slo.note:
            header.append(f"# {slo.sloth_id}: {slo.note}")
    body = yaml.dump(
        prometheus_rules(config),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
    return "\n".join(header) + "\n" + body


# -- SLI recordings ------------------------------------------------------------


def _sli_rules(slo: SloObjective, windows: Sequence[float]) -> list[dict[str, Any]]:
    rules = [
        _record(_SLI_ERROR.format(window=_window(w)), _error_ratio(slo, w), slo, window=w)
        for w in windows
    ]
    rules.append(_record(_BAD_EVENTS_5M, _bad_rate(slo, 5 * _MINUTE), slo))
    rules.append(_record(_ALL_EVENTS_5M, _total_rate(slo, 5 * _MINUTE), slo))
    if slo.period not in windows:
        span = _window(slo.period)
        selector = slo.selector()
        expr = (
            f"sum_over_time({_BAD_EVENTS_5M}{selector}[{span}])\n"
            "/\n"
            f"sum_over_time({_ALL_EVENTS_5M}{selector}[{span}])"
        )
        rules.append(_record(_SLI_ERROR.format(window=span), expr, slo, window=slo.period))
    return rules


def _matchers(slo: SloObjective, **extra: str) -> str:
    pairs = {"integration": slo.integration, "provider": slo.provider, **extra}
    return ", ".join(f"{k}{_op(v)}{_quote(v.removeprefix('~'))}" for k, v in pairs.items())


def _op(value: str) -> str:
    return "=~" if value.startswith("~") else "="


def _attempts(slo: SloObjective, outcomes: Sequence[str], window: float) -> str:
    matchers = _matchers(slo, outcome="~" + "|".join(outcomes))
    return f"sum(rate(seawall_attempts_total{{{matchers}}}[{_window(window)}]))"


def _fast_calls(slo: SloObjective, window: float) -> str:
    assert slo.bucket is not None
    matchers = _matchers(slo, le=_le(slo.bucket))
    return f"sum(rate(seawall_request_duration_seconds_bucket{{{matchers}}}[{_window(window)}]))"


def _all_calls(slo: SloObjective, window: float) -> str:
    matchers = _matchers(slo)
    return f"sum(rate(seawall_request_duration_seconds_count{{{matchers}}}[{_window(window)}]))"


def _bad_rate(slo: SloObjective, window: float) -> str:
    if slo.kind == "availability":
        # no series exists until the first fault: read "none yet" as 0, not as absent
        return f"({_attempts(slo, _BAD_ATTEMPTS, window)} or vector(0))"
    return f"{_all_calls(slo, window)}\n-\n{_fast_calls(slo, window)}"


def _total_rate(slo: SloObjective, window: float) -> str:
    if slo.kind == "availability":
        return _attempts(slo, (*_GOOD_ATTEMPTS, *_BAD_ATTEMPTS), window)
    return _all_calls(slo, window)


def _error_ratio(slo: SloObjective, window: float) -> str:
    if slo.kind == "availability":
        return f"{_bad_rate(slo, window)}\n/\n{_total_rate(slo, window)}"
    return f"1 - (\n  {_fast_calls(slo, window)}\n  /\n  {_all_calls(slo, window)}\n)"


# -- metadata recordings -------------------------------------------------------


def _meta_rules(slo: SloObjective) -> list[dict[str, Any]]:
    selector = slo.selector()
    per_budget = f"/ on (sloth_id) group_left ()\nslo:error_budget:ratio{selector}"
    period = _SLI_ERROR.format(window=_window(slo.period))
    return [
        _record("slo:objective:ratio", f"vector({_number(slo.objective)})", slo),
        _record("slo:error_budget:ratio", f"vector({_number(slo.error_budget)})", slo),
        _record("slo:time_period:days", f"vector({_number(slo.period / _DAY)})", slo),
        _record(
            "slo:current_burn_rate:ratio",
            f"{_SLI_ERROR.format(window='5m')}{selector}\n{per_budget}",
            slo,
        ),
        _record("slo:period_burn_rate:ratio", f"{period}{selector}\n{per_budget}", slo),
        _record(
            "slo:period_error_budget_remaining:ratio",
            f"1 - slo:period_burn_rate:ratio{selector}",
            slo,
        ),
    ]


# -- alerts --------------------------------------------------------------------


def _workbook_alerts(slo: SloObjective) -> Iterator[dict[str, Any]]:
    for severity in _SEVERITIES:
        windows = " or ".join(
            f"{_factor(c.factor)}x over {_window(c.long)} and {_window(c.short)}"
            for c in severity.conditions
        )
        yield {
            "alert": ALERT_NAME,
            "expr": _burn_expr(slo, severity.conditions),
            "labels": {
                **_alert_labels(slo),
                "severity": severity.severity,
                "sloth_severity": severity.name,
            },
            "annotations": _annotations(slo, severity.name, windows),
        }


def _config_alert(slo: SloObjective, alert: Alert) -> dict[str, Any]:
    assert alert.burn_rate is not None
    burn = _BurnWindows(alert.burn_rate.long, alert.burn_rate.short, alert.burn_rate.factor)
    rule: dict[str, Any] = {"alert": alert.name, "expr": _burn_expr(slo, (burn,))}
    if alert.for_ > 0:
        rule["for"] = _window(alert.for_)
    if alert.keep_firing_for > 0:
        rule["keep_firing_for"] = _window(alert.keep_firing_for)
    rule["labels"] = {**_alert_labels(slo), "severity": alert.severity, **alert.labels}
    windows = f"{_factor(burn.factor)}x over {_window(burn.long)} and {_window(burn.short)}"
    rule["annotations"] = _annotations(slo, alert.name, windows, summary=alert.summary)
    return rule


def _alert_labels(slo: SloObjective) -> dict[str, str]:
    """The series already carry these; written out they tell the rules apart too."""
    return {
        "sla": slo.sla,
        "objective": slo.slo,
        "integration": slo.integration,
        "provider": slo.provider,
    }


def _burn_expr(slo: SloObjective, conditions: Sequence[_BurnWindows]) -> str:
    """``or`` of window pairs, each both windows above ``factor`` times the budget.

    ``max without (sloth_window)`` drops the one label the two windows differ
    in, so ``and`` matches them and the alert keeps one identity whichever
    pair fires.
    """
    budget = _number(slo.error_budget)
    pairs = []
    for c in conditions:
        sides = [
            f"max without (sloth_window) ({_SLI_ERROR.format(window=_window(w))}"
            f"{slo.selector()} > ({_factor(c.factor)} * {budget}))"
            for w in (c.long, c.short)
        ]
        pairs.append("(\n  " + "\n  and\n  ".join(sides) + "\n)")
    expr = "\nor\n".join(pairs)
    if slo.exclude_maintenance:
        # planned maintenance is excluded from the SLA: do not page for it
        maintenance = f"seawall_provider_in_maintenance{{{_matchers(slo)}}}"
        inner = "\n".join(f"  {line}" for line in expr.splitlines())
        expr = (
            f"(\n{inner}\n)\nunless on (integration, provider)\n"
            f"(max by (integration, provider) ({maintenance}) > 0)"
        )
    return expr


def _annotations(
    slo: SloObjective, kind: str, windows: str, *, summary: str = ""
) -> dict[str, str]:
    description = (
        f"SLA {slo.sla} ({slo.integration}/{slo.provider}), objective {slo.title}: "
        f"the error budget ({_percent(slo.error_budget)} of "
        f"{'calls' if slo.kind == 'availability' else 'calls slow'}) is burning "
        f"{windows}; the error ratio is {{{{ $value | humanizePercentage }}}} "
        "over the longer window."
    )
    if slo.note:
        description += f" Note: {slo.note}."
    return {
        "summary": summary
        or f"{slo.sla}: {slo.integration}/{slo.provider} {slo.title} error budget "
        f"is burning too fast ({kind})",
        "description": description,
    }


# -- helpers -------------------------------------------------------------------


def _record(
    name: str, expr: str, slo: SloObjective, *, window: float | None = None
) -> dict[str, Any]:
    labels = slo.labels()
    if window is not None:
        labels["sloth_window"] = _window(window)
    return {"record": name, "expr": expr, "labels": dict(sorted(labels.items()))}


def _bucket_for(threshold: float) -> tuple[float, str]:
    """The histogram bound to read for ``threshold`` and, unless exact, why it differs."""
    for bound in DURATION_BUCKETS:
        if math.isclose(bound, threshold, rel_tol=1e-9):
            return bound, ""
    below = [b for b in DURATION_BUCKETS if b < threshold]
    wanted = format_duration(threshold)
    if below:
        bound = below[-1]
        return bound, (
            f"{wanted} is not a bucket bound of seawall_request_duration_seconds; "
            f'calls slower than {format_duration(bound)} (le="{bound!r}", '
            "the nearest bound below) count as slow, so this SLI is stricter than the objective"
        )
    bound = DURATION_BUCKETS[0]
    return bound, (
        f"{wanted} is below every bucket bound of seawall_request_duration_seconds; "
        f"calls slower than {format_duration(bound)} (the smallest bound) count as slow, "
        "so this SLI is laxer than the objective"
    )


def _le(bound: float) -> str:
    """The ``le`` matcher value: prometheus_client writes ``1.0``, others ``1``."""
    if bound == int(bound):
        return f"~{int(bound)}|{int(bound)}\\.0"
    return repr(bound)


def _period_seconds(sla: Sla) -> float:
    if isinstance(sla.period, str):
        return _PERIODS[sla.period]
    return float(sla.period)


def _window(seconds: float) -> str:
    """A PromQL duration: whole units only (``1500ms``, not ``1.5s``)."""
    ms = max(1, round(seconds * 1000))
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _number(value: float) -> str:
    """A float as PromQL reads it, without binary noise (1 - 0.9999 is 0.0001)."""
    text = f"{value:.12g}"
    if "e" in text:
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text


def _factor(value: float) -> str:
    return f"{value:g}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.10g}%"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _group_name(wanted: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", wanted.lower()).strip("-")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line expressions, no anchors for shared mappings."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)
