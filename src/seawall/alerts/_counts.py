"""The counts a window holds, and the metrics read off them.

One flat vector of numbers per window -- attempts by outcome, calls,
rejections by reason, the latency histogram -- so windows subtract and add
field by field. :class:`~seawall.alerts.LiveMetrics` fills it from engine
events, history slices from rollup rows (:func:`row_counts`); both read their
metrics through :func:`metric_value`, so a live value and the history it is
compared with are computed the same way.

The outcome vocabulary is the recorder's (:mod:`seawall.telemetry`):
``success`` and ``final`` (a definitive answer such as a card decline) are
the vendor working; ``failure``, ``timeout`` and ``connect-error`` are vendor
faults; ``throttled`` (429) counts for neither side. seawall's own rejections
because a call could not be served (breaker open, no provider, deadline,
bulkhead, retry budget) are errors the platform saw; ``rate-limited`` is the
caller over its own limit and is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seawall.sla import latency_quantile
from seawall.store import LATENCY_BOUNDS, RollupRow

__all__ = [
    "ERROR_REJECTIONS",
    "METRICS",
    "OUTCOMES",
    "REJECTIONS",
    "SIZE",
    "WindowCounts",
    "metric_value",
    "row_counts",
]

#: attempt outcomes, in vector order
OUTCOMES: tuple[str, ...] = ("success", "final", "throttled", "failure", "timeout", "connect-error")
#: rejection reasons, in vector order; ``other`` is any reason not listed (and the
#: rollups' ``rejected`` column, which does not keep the reason)
REJECTIONS: tuple[str, ...] = (
    "circuit-open",
    "no-provider",
    "deadline-exceeded",
    "bulkhead-full",
    "budget-exhausted",
    "rate-limited",
    "other",
)
#: reasons that count as errors of the platform
ERROR_REJECTIONS: frozenset[str] = frozenset(
    {"circuit-open", "no-provider", "deadline-exceeded", "bulkhead-full", "budget-exhausted"}
)
#: the metrics :func:`metric_value` reads
METRICS: tuple[str, ...] = (
    "error_rate",
    "availability",
    "throughput",
    "latency_p50",
    "latency_p95",
    "latency_p99",
)

# Positions in the vector.
ATTEMPTS = 0
OUTCOME_AT = {name: 1 + i for i, name in enumerate(OUTCOMES)}
CALLS = 1 + len(OUTCOMES)
REJECTION_AT = {name: CALLS + 1 + i for i, name in enumerate(REJECTIONS)}
#: the engine's slug for an exhausted retry budget reads as ``budget-exhausted``
REJECTION_AT["retry-budget-exhausted"] = REJECTION_AT["budget-exhausted"]
LATENCY_SUM = CALLS + 1 + len(REJECTIONS)
LATENCY = LATENCY_SUM + 1
BUCKETS = len(LATENCY_BOUNDS) + 1
SIZE = LATENCY + BUCKETS

_SUCCESS, _FINAL, _THROTTLED, _FAILURE, _TIMEOUT, _CONNECT = (OUTCOME_AT[o] for o in OUTCOMES)
_ERROR_AT = tuple(sorted({REJECTION_AT[r] for r in ERROR_REJECTIONS}))
_REJECTED = slice(CALLS + 1, LATENCY_SUM)
_QUANTILES = {"latency_p50": 0.50, "latency_p95": 0.95, "latency_p99": 0.99}


def row_counts(row: RollupRow) -> list[float]:
    """The vector of one rollup row; its ``rejected`` count has no reason, so reads as other."""
    values = [0.0] * SIZE
    values[ATTEMPTS] = row.attempts
    values[_SUCCESS] = row.success
    values[_FINAL] = row.final
    values[_THROTTLED] = row.throttled
    values[_FAILURE] = row.failure
    values[_TIMEOUT] = row.timeout
    values[_CONNECT] = row.connect_error
    values[CALLS] = row.calls
    values[REJECTION_AT["other"]] = row.rejected
    values[LATENCY_SUM] = row.latency_sum
    values[LATENCY:] = row.latency
    return values


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """What one series counted over ``seconds`` (the span the window really covers).

    ``values`` is the flat vector; read it through the properties.
    """

    values: Sequence[float]
    seconds: float

    @classmethod
    def empty(cls, seconds: float) -> WindowCounts:
        return cls((0.0,) * SIZE, seconds)

    @property
    def attempts(self) -> int:
        return int(self.values[ATTEMPTS])

    def outcome(self, name: str) -> int:
        """Attempts with ``outcome`` (one of :data:`OUTCOMES`)."""
        return int(self.values[OUTCOME_AT[name]])

    @property
    def calls(self) -> int:
        return int(self.values[CALLS])

    @property
    def rejected(self) -> int:
        """Every rejection, whatever the reason."""
        return int(sum(self.values[_REJECTED]))

    @property
    def rejections(self) -> Mapping[str, int]:
        """Rejections by reason (:data:`REJECTIONS`)."""
        return {name: int(self.values[REJECTION_AT[name]]) for name in REJECTIONS}

    @property
    def error_rejections(self) -> int:
        v = self.values
        return int(sum(v[i] for i in _ERROR_AT))

    @property
    def vendor_good(self) -> int:
        return int(self.values[_SUCCESS] + self.values[_FINAL])

    @property
    def vendor_faults(self) -> int:
        v = self.values
        return int(v[_FAILURE] + v[_TIMEOUT] + v[_CONNECT])

    @property
    def samples(self) -> int:
        """Everything counted (attempts, calls, rejections): 0 means no data."""
        return self.attempts + self.calls + self.rejected

    @property
    def error_rate(self) -> float | None:
        """(vendor faults + error rejections) over (good + faults + error rejections)."""
        bad = self.vendor_faults + self.error_rejections
        total = self.vendor_good + bad
        return bad / total if total else None

    @property
    def vendor_error_rate(self) -> float | None:
        """Vendor faults over the attempts the vendor answered or failed: the SLA's view."""
        bad = self.vendor_faults
        total = self.vendor_good + bad
        return bad / total if total else None

    @property
    def availability(self) -> float | None:
        rate = self.error_rate
        return None if rate is None else 1.0 - rate

    @property
    def throughput(self) -> float:
        """Calls per second over the window."""
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def histogram(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.values[LATENCY:])

    @property
    def latency_count(self) -> int:
        return int(sum(self.values[LATENCY:]))

    @property
    def latency_mean(self) -> float | None:
        count = self.latency_count
        return self.values[LATENCY_SUM] / count if count else None

    def latency(self, q: float) -> float | None:
        """The ``q``-quantile of attempt durations, as Prometheus' histogram_quantile reads it."""
        return latency_quantile(self.histogram, q)


def metric_value(counts: WindowCounts, metric: str) -> float | None:
    """``metric`` (one of :data:`METRICS`) over ``counts``; None when there is nothing to read."""
    if metric == "error_rate":
        return counts.error_rate
    if metric == "availability":
        return counts.availability
    if metric == "throughput":
        return counts.throughput
    q = _QUANTILES.get(metric)
    if q is None:
        msg = f"no metric {metric!r}; one of {', '.join(METRICS)}"
        raise ValueError(msg)
    return counts.latency(q)
