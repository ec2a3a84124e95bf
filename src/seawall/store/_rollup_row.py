"""The shape of one rollup row: what SLA maths, reports and exports read.

Rows hold per-provider counts for one time bucket (a minute, or an hour after
downsampling). Latency is kept as per-bucket counts over fixed upper bounds,
so rows add up exactly and percentiles are read off the summed histogram.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LATENCY_BOUNDS", "RollupRow"]

#: upper bounds (seconds) of the latency buckets; a last, unbounded bucket follows.
#: They include the thresholds vendor SLAs usually name (200 ms, 300 ms, 500 ms,
#: 800 ms, 1 s, 2 s) so a latency objective at one of them is counted exactly.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.25,
    0.3,
    0.5,
    0.75,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RollupRow:
    """Counts for one (integration, provider, bucket).

    ``attempts`` are the provider's own answers and failures (what a vendor SLA
    is about), split by outcome: ``success`` and ``final`` (a definitive
    answer such as a card decline) are the vendor working; ``failure``,
    ``timeout`` and ``connect_error`` are vendor faults; ``throttled`` (429) is
    back-pressure and counts for neither side. ``rejected`` are calls seawall
    refused itself (breaker open, rate limit, bulkhead) -- never the vendor's
    fault. ``latency`` has ``len(LATENCY_BOUNDS) + 1`` per-bucket counts of
    attempt durations.
    """

    integration: str
    provider: str
    start: int  #: Unix seconds at the bucket's start (a multiple of ``width``)
    width: int  #: 60 for minute rows, 3600 for hour rows
    attempts: int = 0
    success: int = 0
    final: int = 0
    throttled: int = 0
    failure: int = 0
    timeout: int = 0
    connect_error: int = 0
    rejected: int = 0
    calls: int = 0
    retries: int = 0
    failovers: int = 0
    latency_sum: float = 0.0
    latency: tuple[int, ...] = (0,) * (len(LATENCY_BOUNDS) + 1)

    @property
    def vendor_good(self) -> int:
        return self.success + self.final

    @property
    def vendor_bad(self) -> int:
        return self.failure + self.timeout + self.connect_error
