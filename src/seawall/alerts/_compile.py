"""Compiling ``Config.alerts`` into :mod:`~seawall.alerts._rules` rule values.

Each entry becomes one rule of its kind, with its labels (``alertname``,
``severity``, and ``integration``, ``provider`` and ``sla`` when the rule
names them -- a burn rule names them through its SLA -- over the user's own
labels) and the limits it reads from elsewhere in the configuration: an SLA's
error budget, an integration's ``freshness.max_age`` or ``rpo``. What cannot
apply as configured becomes :class:`~seawall.alerts._rules.Inapplicable`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

from seawall.alerts._rules import (
    DEFAULT_BASELINE_WINDOW,
    DEFAULT_WINDOW,
    BackupAgeRule,
    BaselineRule,
    BurnRateRule,
    FreshnessRule,
    Inapplicable,
    NoDataRule,
    Rule,
    RuleKind,
    ThresholdRule,
)
from seawall.config import Alert, AvailabilityObjective, Config

__all__ = ["compile_rules", "rule_kind"]


class _Common(TypedDict):
    name: str
    severity: str
    labels: Mapping[str, str]
    for_: float
    keep_firing_for: float
    integration: str | None
    provider: str | None
    metric: str
    template: str
    window: float


def compile_rules(config: Config) -> list[Rule]:
    """One rule per ``config.alerts`` entry, in order."""
    return [_compile(alert, config) for alert in config.alerts]


def _labels(alert: Alert, integration: str | None, provider: str | None) -> dict[str, str]:
    labels = dict(alert.labels)
    labels["alertname"] = alert.name
    labels["severity"] = alert.severity
    for key, value in (("integration", integration), ("provider", provider), ("sla", alert.sla)):
        if value:
            labels[key] = value
    return labels


def _compile(alert: Alert, config: Config) -> Rule:
    integration, provider = alert.integration, alert.provider
    if alert.burn_rate is not None and alert.sla is not None:
        sla = config.slas.get(alert.sla)
        if sla is not None:
            integration, provider = sla.provider.split("/", 1)
    common = _Common(
        name=alert.name,
        severity=alert.severity,
        labels=_labels(alert, integration, provider),
        for_=alert.for_,
        keep_firing_for=alert.keep_firing_for,
        integration=integration,
        provider=provider,
        metric=alert.metric or "error_rate",
        template=alert.summary,
        window=alert.window or (DEFAULT_BASELINE_WINDOW if alert.baseline else DEFAULT_WINDOW),
    )

    def inapplicable(kind: RuleKind, reason: str) -> Rule:
        return Inapplicable(kind=kind, reason=reason, **common)

    if alert.burn_rate is not None:
        return _burn_rate(alert, config, common, inapplicable)
    if alert.metric == "backup_age":
        return _backup_age(alert, config, common, inapplicable)
    if integration is not None and integration not in config.integrations:
        return inapplicable(rule_kind(alert), f"no integration named {integration!r}")
    if alert.metric == "freshness":
        if integration is None:
            return inapplicable("freshness", "a freshness rule needs 'integration:'")
        fresh = config.integrations[integration].freshness
        limit = _number(alert.above)  # the rule's own bound is the more specific
        if limit is None and fresh is not None:
            limit = fresh.max_age
        if limit is None:
            return inapplicable(
                "freshness",
                f"integration {integration!r} has no freshness.max_age and the rule no 'above:'",
            )
        return FreshnessRule(kind="freshness", max_age=limit, **common)
    if alert.metric == "no_data":
        return NoDataRule(kind="no_data", **common)
    if integration is None:
        return inapplicable(rule_kind(alert), f"metric {alert.metric} needs 'integration:'")
    if alert.baseline is not None:
        return BaselineRule(kind="baseline", spec=alert.baseline, **common)
    return ThresholdRule(
        kind="threshold",
        above=_number(alert.above),
        below=_number(alert.below),
        **common,
    )


def rule_kind(alert: Alert) -> RuleKind:
    """The kind of rule ``alert`` compiles to."""
    if alert.burn_rate is not None:
        return "burn_rate"
    if alert.metric == "freshness":
        return "freshness"
    if alert.metric == "backup_age":
        return "backup_age"
    if alert.metric == "no_data":
        return "no_data"
    return "baseline" if alert.baseline is not None else "threshold"


def _number(value: float | str | None) -> float | None:
    return value if isinstance(value, float) else None


_Inapplicable = Callable[[RuleKind, str], Rule]


def _burn_rate(alert: Alert, config: Config, common: _Common, inapplicable: _Inapplicable) -> Rule:
    burn = alert.burn_rate
    assert burn is not None
    assert alert.sla is not None
    sla = config.slas.get(alert.sla)
    if sla is None:
        return inapplicable("burn_rate", f"no SLA named {alert.sla!r}")
    objective = next((o for o in sla.objectives if isinstance(o, AvailabilityObjective)), None)
    if objective is None:
        return inapplicable("burn_rate", f"SLA {alert.sla!r} has no availability objective")
    budget = 1.0 - objective.target
    if budget <= 0:
        return inapplicable("burn_rate", f"SLA {alert.sla!r} targets 100%: no error budget to burn")
    return BurnRateRule(
        kind="burn_rate",
        sla=alert.sla,
        budget=budget,
        long=burn.long,
        short=burn.short,
        factor=burn.factor,
        **common,
    )


def _backup_age(alert: Alert, config: Config, common: _Common, inapplicable: _Inapplicable) -> Rule:
    if alert.above != "rpo":
        limit = _number(alert.above)
        if limit is None:
            return inapplicable(
                "backup_age", "backup_age needs 'above: <duration>' or 'above: rpo'"
            )
        return BackupAgeRule(kind="backup_age", above=limit, **common)
    if alert.integration is not None:
        integ = config.integrations.get(alert.integration)
        rpo = None if integ is None else integ.rpo
        if rpo is None:
            return inapplicable("backup_age", f"integration {alert.integration!r} has no 'rpo:'")
    else:
        rpos = [i.rpo for i in config.integrations.values() if i.rpo is not None]
        if not rpos:
            return inapplicable("backup_age", "'above: rpo' but no integration has an 'rpo:'")
        rpo = min(rpos)
    return BackupAgeRule(kind="backup_age", above=rpo, source="rpo", **common)
