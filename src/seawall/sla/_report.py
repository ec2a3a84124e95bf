"""What an SLA report says, as frozen dataclasses.

Times are Unix seconds (UTC), latencies seconds, and every percentage a
fraction in [0, 1] -- the units of the configuration. Renderers format them;
nothing here does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AvailabilityResult",
    "Breach",
    "BurnRateWindow",
    "CreditOwed",
    "DailyPoint",
    "ErrorBudget",
    "LatencyResult",
    "LatencySummary",
    "ObjectiveResult",
    "PeriodInfo",
    "SlaReport",
    "SupportTerms",
    "Totals",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodInfo:
    """The interval a report covers."""

    label: str  #: ``2026-11``, ``2026-Q4``, ``2026-W48``, ``2026-11-30`` or an ISO interval
    start: float
    end: float  #: exclusive
    measured_end: float  #: ``min(end, now)``: what has been measured so far
    complete: bool  #: the period is over, so the numbers are final


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Raw counts over the measured part of the period, maintenance included."""

    attempts: int  #: every attempt at the vendor, throttled ones too
    good: int  #: success + final answers (a card decline is the vendor working)
    bad: int  #: failure + timeout + connect_error: vendor faults
    throttled: int  #: 429s: back-pressure, counted for neither side
    rejected: int  #: refused by seawall itself; never the vendor's fault


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityResult:
    """An availability objective, measured."""

    metric: Literal["availability"] = "availability"
    measure: Literal["calls", "minutes"]
    target: float
    value: float  #: ``good / (good + bad)``
    met: bool  #: ``value >= target``
    good: int  #: good calls, or good minutes (quiet minutes count as good)
    bad: int  #: vendor-fault calls, or bad minutes
    excluded: int  #: calls or minutes left out as planned maintenance
    exclude_maintenance: bool
    no_traffic: bool  #: nothing reached the vendor: 100% by definition
    approximate: bool  #: downsampled rows were cut by a maintenance window
    budget_remaining: float | None  #: None when the target is 100%
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyResult:
    """A latency objective: the share of calls at or under ``threshold``."""

    metric: Literal["latency"] = "latency"
    percentile: float  #: the percentile the contract names (reported, e.g. p95)
    threshold: float  #: seconds
    target: float
    value: float  #: share of calls with latency <= threshold
    met: bool  #: ``value >= target``
    within: float  #: calls at or under the threshold (interpolated when approximate)
    count: int  #: calls in the histogram
    percentile_value: float | None  #: the named percentile, read off the histogram
    approximate: bool  #: the threshold fell inside a bucket and was interpolated
    no_traffic: bool
    budget_remaining: float | None


ObjectiveResult = AvailabilityResult | LatencyResult


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencySummary:
    """Latency percentiles over the period, for reporting."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Breach:
    """A contiguous run of bad minutes: evidence for a vendor claim."""

    start: float
    end: float  #: exclusive: the minute after the last bad one
    minutes: int
    attempts: int  #: vendor attempts (good + bad) in the run
    failures: int  #: vendor faults in the run
    error_rate: float  #: ``failures / attempts``


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditOwed:
    """The service credit the measured availability earns."""

    availability: float | None  #: the measured value the tiers were read against
    tier_below: float | None  #: the tier that applies (None: no credit)
    credit: float  #: fraction of the fee
    fee: float  #: the fee for the period: ``monthly_fee * months``
    months: float  #: 1 for a calendar month, 3 for a quarter, else length / average month
    amount: float  #: ``fee * credit``, rounded to cents
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorBudget:
    """How much of the allowed unavailability the period has used."""

    target: float
    allowed: float  #: ``1 - target``
    consumed: float  #: the bad fraction, ``1 - availability``
    remaining: float | None  #: ``1 - consumed / allowed``; negative when overspent


@dataclass(frozen=True, slots=True, kw_only=True)
class BurnRateWindow:
    """How fast the budget burned over one trailing window."""

    label: str  #: ``1h``, ``6h``, ``24h``, ``3d``
    window: float  #: seconds asked for
    start: float  #: clipped to the period start
    end: float
    bad_fraction: float
    rate: float | None  #: ``bad_fraction / (1 - target)``; 1.0 spends the budget exactly


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportTerms:
    """Support commitments as configured (seconds)."""

    response_time: float | None
    resolution_time: float | None
    escalation_contact: str | None
    escalation_after: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaReport:
    """One SLA over one period."""

    name: str
    provider: str  #: ``integration/provider``
    as_of: float  #: the ``now`` the report was built at
    period: PeriodInfo
    met: bool  #: every objective met
    objectives: tuple[ObjectiveResult, ...]
    availability: AvailabilityResult | None  #: the first availability objective
    latency: LatencySummary
    bad_minute_threshold: float  #: a minute is bad at this vendor error rate or above
    breaches: tuple[Breach, ...]
    credit: CreditOwed
    error_budget: ErrorBudget | None
    burn_rates: tuple[BurnRateWindow, ...]
    support: SupportTerms
    totals: Totals
    maintenance: tuple[tuple[float, float], ...]  #: windows in the period, clipped


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyPoint:
    """One UTC day of a chart."""

    day: str  #: ``2026-11-30``
    start: float
    end: float
    availability: float  #: in the SLA's measure; 1.0 for a quiet day
    good: int
    bad: int
    p50: float | None
    p95: float | None
    p99: float | None
