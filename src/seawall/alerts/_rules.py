"""Alert rules, compiled from ``Config.alerts``: each measures its series and says if it holds.

Kinds (``Rule.kind``):

- ``threshold``: a metric of the last ``window`` (1m by default) above or
  below a bound: ``error_rate``, ``availability``, ``latency_p50/p95/p99``,
  ``throughput``.
- ``baseline``: the metric over ``window`` (5m by default) more than
  ``deviations`` spreads from what is usual for this hour
  (:mod:`seawall.alerts._baseline`); while history is short it is *learning*.
- ``burn_rate``: the SLA's error budget burning ``factor`` times too fast over
  both the long and the short window, the SRE Workbook's multiwindow alert
  (https://sre.google/workbook/alerting-on-slos/). The error rate is the
  vendor's (faults over answered attempts), as SLA reports and the exported
  Prometheus rules count it; seawall's own rejections are not the vendor's.
- ``freshness``: no successful attempt for longer than the integration's
  ``freshness.max_age`` (or the rule's ``above:``).
- ``backup_age``: the last backup older than ``above:`` (``rpo``: the
  integration's, or the smallest configured one).
- ``no_data``: nothing counted at all (calls, attempts, rejections) in the window.

A rule that cannot be evaluated as configured (a freshness rule with no
``max_age`` anywhere, an SLA without an availability objective) is compiled
as *not applicable* and reported so, rather than refused.

Rules are frozen values: two compilations of an unchanged definition are
equal, which is how a reload keeps their state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from seawall.alerts._baseline import Band
from seawall.alerts._counts import WindowCounts, metric_value
from seawall.alerts._format import fill_summary, format_age, format_metric, metric_label, percent
from seawall.alerts._history import Baselines, HistorySpec
from seawall.alerts._live import LiveMetrics
from seawall.alerts._types import fingerprint
from seawall.config import BaselineSpec, format_duration

__all__ = [
    "BackupAgeRule",
    "BaselineRule",
    "BurnRateRule",
    "FreshnessRule",
    "Inapplicable",
    "Measurement",
    "NoDataRule",
    "Rule",
    "RuleKind",
    "Sources",
    "ThresholdRule",
]

RuleKind = Literal["threshold", "baseline", "burn_rate", "freshness", "backup_age", "no_data"]

DEFAULT_WINDOW = 60.0
DEFAULT_BASELINE_WINDOW = 300.0
#: the smallest spread a baseline learns, per metric: a flat history is not a tight one
SPREAD_FLOOR = {
    "error_rate": 0.005,
    "availability": 0.005,
    "latency_p50": 0.005,
    "latency_p95": 0.005,
    "latency_p99": 0.005,
    "throughput": 0.05,
}


class Sources:
    """What rules measure from during one evaluation; windows are read once per evaluation."""

    __slots__ = ("_windows", "backup_age", "baselines", "live")

    def __init__(
        self,
        live: LiveMetrics,
        *,
        baselines: Baselines | None = None,
        backup_age: Callable[[str | None], float | None] = lambda name: None,
    ) -> None:
        self.live = live
        self.baselines = baselines
        self.backup_age = backup_age
        self._windows: dict[tuple[str, str | None, float, float], WindowCounts] = {}

    def window(
        self, integration: str, provider: str | None, seconds: float, now: float
    ) -> WindowCounts:
        key = (integration, provider, seconds, now)
        counts = self._windows.get(key)
        if counts is None:
            counts = self.live.window(integration, provider, seconds=seconds, now=now)
            self._windows[key] = counts
        return counts


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """One rule's reading at one evaluation."""

    value: float | None
    threshold: float | None
    active: bool
    spike: bool = False
    band: Band | None = None
    #: "learning", "no data", "not applicable: ...", "" when the value is plain
    note: str = ""
    #: rule-specific numbers for the summary (a burn rule's two burn rates)
    parts: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What every rule has; subclasses add their condition and :meth:`measure`."""

    name: str
    kind: RuleKind
    severity: str
    labels: Mapping[str, str]
    for_: float = 0.0
    keep_firing_for: float = 0.0
    window: float = DEFAULT_WINDOW
    integration: str | None = None
    provider: str | None = None
    metric: str = ""
    #: the user's ``summary:``; empty: the rule's own wording
    template: str = ""
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.labels))

    @property
    def needs(self) -> float:
        """Seconds of live history the rule reads."""
        return self.window

    def measure(self, sources: Sources, now: float) -> Measurement:
        raise NotImplementedError

    def describe(self, m: Measurement) -> str:
        """The rule's own wording of ``m``."""
        raise NotImplementedError

    def summary(self, m: Measurement) -> str:
        """What a person reads: the user's ``summary:`` filled in, or :meth:`describe`."""
        if not self.template:
            return self.describe(m)
        fields = {
            **self.labels,
            "rule": self.name,
            "metric": metric_label(self.metric),
            "window": format_duration(self.window),
            "value": format_metric(self.metric, m.value),
            "threshold": format_metric(self.metric, m.threshold),
        }
        return fill_summary(self.template, fields)

    def warming_up(self, sources: Sources, now: float) -> bool:
        """A throughput window not yet watched whole reads low: too soon to judge it."""
        return self.metric == "throughput" and now - sources.live.watching_since < self.window

    @property
    def subject(self) -> str:
        if self.integration is None:
            return "the platform"
        return self.integration if self.provider is None else f"{self.integration}/{self.provider}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdRule(Rule):
    above: float | None = None
    below: float | None = None

    def measure(self, sources: Sources, now: float) -> Measurement:
        assert self.integration is not None
        counts = sources.window(self.integration, self.provider, self.window, now)
        value = metric_value(counts, self.metric)
        bound = self.above if self.above is not None else self.below
        if value is None:
            return Measurement(value=None, threshold=bound, active=False, note="no data")
        if self.warming_up(sources, now):
            return Measurement(value=value, threshold=bound, active=False, note="warming up")
        over = self.above is not None and value > self.above
        under = self.below is not None and value < self.below
        threshold = self.below if under or self.above is None else self.above
        return Measurement(value=value, threshold=threshold, active=over or under)

    def describe(self, m: Measurement) -> str:
        what = f"{self.subject} {metric_label(self.metric)}"
        over = f"over {format_duration(self.window)}"
        if m.value is None:
            return f"{what}: no data {over}"
        value = format_metric(self.metric, m.value)
        side = "below" if m.threshold is not None and m.threshold == self.below else "above"
        bound = format_metric(self.metric, m.threshold)
        verb = f"is {side}" if m.active else f"is not {side}"
        return f"{what} {value} {verb} {bound} ({over})"


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineRule(Rule):
    spec: BaselineSpec

    @property
    def history(self) -> HistorySpec:
        assert self.integration is not None
        return HistorySpec(
            integration=self.integration,
            provider=self.provider,
            metric=self.metric,
            window=self.window,
            spec=self.spec,
            floor=SPREAD_FLOOR.get(self.metric, 0.0),
        )

    def measure(self, sources: Sources, now: float) -> Measurement:
        assert self.integration is not None
        band = None if sources.baselines is None else sources.baselines.band(self.name, now)
        counts = sources.window(self.integration, self.provider, self.window, now)
        value = metric_value(counts, self.metric)
        if band is None:
            held = 0 if sources.baselines is None else sources.baselines.samples(self.name)
            note = f"learning: {held} history samples, {self.spec.min_samples} needed"
            return Measurement(value=value, threshold=None, active=False, note=note)
        threshold = band.edge(self.spec.deviations, self.spec.direction, value)
        if value is None or self.warming_up(sources, now):
            note = "no data" if value is None else "warming up"
            return Measurement(value=value, threshold=threshold, active=False, band=band, note=note)
        spike = self.spec.spike is not None and band.breached(
            value, self.spec.spike, self.spec.direction
        )
        active = band.breached(value, self.spec.deviations, self.spec.direction)
        return Measurement(value=value, threshold=threshold, active=active, spike=spike, band=band)

    def describe(self, m: Measurement) -> str:
        what = f"{self.subject} {metric_label(self.metric)}"
        if m.band is None:
            return f"{what}: {m.note or 'learning'}"
        usual = format_metric(self.metric, m.band.median)
        hour = {"hour-of-week": " for this hour of the week", "hour-of-day": " for this hour"}.get(
            m.band.level, ""
        )
        if m.value is None:
            return f"{what}: no data (usually {usual}{hour})"
        deviation = m.band.deviation(m.value)
        side = "above" if deviation >= 0 else "below"
        value = format_metric(self.metric, m.value)
        return f"{what} {value} is {abs(deviation):.1f} deviations {side} its usual {usual}{hour}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BurnRateRule(Rule):
    sla: str
    budget: float
    long: float
    short: float
    factor: float

    @property
    def needs(self) -> float:
        return max(self.long, self.short)

    def measure(self, sources: Sources, now: float) -> Measurement:
        assert self.integration is not None
        slow = sources.window(self.integration, self.provider, self.long, now).vendor_error_rate
        fast = sources.window(self.integration, self.provider, self.short, now).vendor_error_rate
        if slow is None or fast is None:
            return Measurement(value=None, threshold=self.factor, active=False, note="no data")
        burns = (slow / self.budget, fast / self.budget)
        active = burns[0] > self.factor and burns[1] > self.factor
        return Measurement(value=min(burns), threshold=self.factor, active=active, parts=burns)

    def describe(self, m: Measurement) -> str:
        what = f"{self.subject} (SLA {self.sla}, error budget {percent(self.budget)})"
        if not m.parts:
            return f"{what}: no data to measure the burn rate"
        slow, fast = m.parts
        rates = (
            f"{slow:.1f}x over {format_duration(self.long)} "
            f"and {fast:.1f}x over {format_duration(self.short)}"
        )
        if m.active:
            return f"{what} is burning its error budget {rates}, above {self.factor:g}x"
        return f"{what} burns its error budget {rates}, not both above {self.factor:g}x"


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessRule(Rule):
    max_age: float

    @property
    def needs(self) -> float:
        return 0.0

    def measure(self, sources: Sources, now: float) -> Measurement:
        assert self.integration is not None
        last = sources.live.last_success(self.integration, self.provider)
        if last is None:
            age = now - sources.live.watching_since
            note = "no success seen since counting began"
        else:
            age, note = now - last, ""
        return Measurement(value=age, threshold=self.max_age, active=age > self.max_age, note=note)

    def describe(self, m: Measurement) -> str:
        age = format_age(m.value or 0.0)
        limit = format_age(self.max_age)
        if m.active:
            return f"{self.subject} has had no successful call for {age} (limit {limit})"
        return f"{self.subject} last succeeded {age} ago (limit {limit})"


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupAgeRule(Rule):
    above: float
    #: "rpo" when ``above`` came from an RPO, for the wording
    source: str = ""

    @property
    def needs(self) -> float:
        return 0.0

    def measure(self, sources: Sources, now: float) -> Measurement:
        age = sources.backup_age(self.integration)
        if age is None or not math.isfinite(age):
            return Measurement(value=None, threshold=self.above, active=False, note="no data")
        return Measurement(value=age, threshold=self.above, active=age > self.above)

    def describe(self, m: Measurement) -> str:
        what = (
            "the last backup" if self.integration is None else f"the last {self.integration} backup"
        )
        limit = format_age(self.above)
        if self.source == "rpo":
            limit = f"its RPO of {limit}"
        if m.value is None:
            return f"{what}: its age is not known"
        verb = "older than" if m.active else "within"
        return f"{what} is {format_age(m.value)} old, {verb} {limit}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoDataRule(Rule):
    def measure(self, sources: Sources, now: float) -> Measurement:
        live = sources.live
        if now - live.watching_since < self.window:
            return Measurement(value=None, threshold=0.0, active=False, note="warming up")
        if self.integration is not None:
            names = [self.integration]
        else:
            names = sorted({name for name, provider in live.series() if provider is None})
        seen = sum(
            sources.window(
                name, self.provider if self.integration else None, self.window, now
            ).samples
            for name in names
        )
        return Measurement(value=float(seen), threshold=0.0, active=seen == 0)

    def describe(self, m: Measurement) -> str:
        span = format_duration(self.window)
        if m.value is None:
            return f"{self.subject}: counting for less than {span}, too soon to tell"
        if m.active:
            return f"{self.subject} had no calls, attempts or rejections for {span}"
        return f"{self.subject} had {m.value:.0f} calls, attempts or rejections in {span}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inapplicable(Rule):
    """A rule that cannot be evaluated as configured; ``reason`` says why."""

    reason: str

    @property
    def needs(self) -> float:
        return 0.0

    def measure(self, sources: Sources, now: float) -> Measurement:
        return Measurement(
            value=None, threshold=None, active=False, note=f"not applicable: {self.reason}"
        )

    def describe(self, m: Measurement) -> str:
        return f"{self.name} is not applicable: {self.reason}"
