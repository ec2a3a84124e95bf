"""The per-call metrics, counted in plain Python and exposed by a custom collector.

``seawall_requests_total``, ``seawall_request_duration_seconds`` and
``seawall_attempts_total`` move on every proxied call. A prometheus_client
``Counter.inc()`` or ``Histogram.observe()`` takes a lock, checks the metric is
observable and scans the histogram's buckets one by one; here an event costs
three dict subscripts, an increment in a list, and a ``bisect`` for the bucket.
:class:`CallMetrics` turns the lists into metric families when Prometheus
scrapes, sample for sample what prometheus_client's own metrics expose:
cumulative buckets with ``le`` as prometheus_client spells it, ``_count``,
``_sum`` and the ``_created`` timestamp of each series (left out, as by
prometheus_client, after ``prometheus_client.disable_created_metrics()``).

Events arrive on the event loop thread and a scrape may run on another; no
lock is taken. A scrape copies each dict before walking it and each series'
list before reading it, so it never fails on a series created meanwhile; it
may see one call counted in one family and not yet in the next.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import metrics as _client_metrics
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from seawall._events import AttemptFinished, CallFinished
from seawall.telemetry._callbacks import LabelValues

__all__ = ["NO_PROVIDER", "CallMetrics"]

#: the ``provider`` label of a call that never reached a provider
NO_PROVIDER = ""

_REQUESTS = "seawall_requests_total"
_REQUESTS_HELP = "Calls that left the engine, by the provider that answered and the outcome."
_DURATION = "seawall_request_duration_seconds"
_DURATION_HELP = "Whole-call duration in seconds, every retry and backoff included."
_ATTEMPTS = "seawall_attempts_total"
_ATTEMPTS_HELP = "Attempts against one provider, by classified outcome."
_CALL_LABELS = ("integration", "provider", "outcome")
_DURATION_LABELS = ("integration", "provider")

#: a counter series: ``[value, created]``
Counted = list[float]
#: a histogram series: ``[sum, created, count of bucket 0, ..., count of the +Inf bucket]``;
#: the counts are per bucket (not cumulative) and ``_count`` is their total
Observed = list[float]
#: where a histogram series' first bucket is
_FIRST_BUCKET = 2


def upper_bounds(buckets: Sequence[float | str]) -> list[float]:
    """The histogram's bucket bounds ending in +Inf, checked as prometheus_client checks them."""
    bounds = [float(b) for b in buckets]
    if bounds != sorted(bounds):
        msg = "Buckets not in sorted order"
        raise ValueError(msg)
    if bounds and bounds[-1] != math.inf:
        bounds.append(math.inf)
    if len(bounds) < 2:
        msg = "Must have at least two buckets"
        raise ValueError(msg)
    return bounds


def _use_created() -> bool:
    # prometheus_client's own switch (PROMETHEUS_DISABLE_CREATED_SERIES or
    # disable_created_metrics()), read at each scrape as its metrics read it.
    return bool(getattr(_client_metrics, "_use_created", True))


class CallMetrics:
    """Counts ``CallFinished`` and ``AttemptFinished`` events; a Prometheus collector.

    :meth:`call_finished` and :meth:`attempt_finished` are the event handlers;
    they raise on a malformed event (the sink catches). A ``CallFinished``
    without a provider is counted with ``provider=""`` (:data:`NO_PROVIDER`).
    Register the instance on a :class:`~prometheus_client.CollectorRegistry`
    to expose the three families; :meth:`describe` names them without
    collecting.
    """

    __slots__ = (
        "_attempt_series",
        "_attempts",
        "_bounds",
        "_duration_series",
        "_le",
        "_request_series",
        "_requests",
    )

    def __init__(self, buckets: Sequence[float | str]) -> None:
        self._bounds = upper_bounds(buckets)
        self._le = tuple(floatToGoString(b) for b in self._bounds)  # type: ignore[no-untyped-call]
        # The handlers find a series by the event's own fields, one dict level
        # each (three subscripts on strings, whose hashes are cached, cost less
        # than building and hashing a tuple). Each series is also held, under
        # its label values, by the *_series dict of its family, which a scrape
        # walks in the order the series first appeared.
        self._requests: dict[str, dict[str | None, dict[str, tuple[Counted, Observed]]]] = {}
        self._attempts: dict[str, dict[str, dict[str, Counted]]] = {}
        self._request_series: dict[LabelValues, Counted] = {}
        self._duration_series: dict[LabelValues, Observed] = {}
        self._attempt_series: dict[LabelValues, Counted] = {}

    # -- the handlers (every call) -------------------------------------------

    def call_finished(self, event: CallFinished) -> None:
        """Count one request and observe its duration."""
        try:
            counted, observed = self._requests[event.integration][event.provider][event.outcome]
        except KeyError:
            counted, observed = self._new_request(event.integration, event.provider, event.outcome)
        counted[0] += 1
        duration = event.duration
        # le: the first bound >= duration; NaN, which prometheus_client puts
        # in no bucket but adds to the sum, is skipped. The index is a literal
        # (2 is _FIRST_BUCKET) and not negative, which CPython indexes fastest.
        if duration == duration:  # noqa: PLR0124 - false for NaN only; no call to math.isnan
            observed[bisect_left(self._bounds, duration) + 2] += 1
        observed[0] += duration

    def attempt_finished(self, event: AttemptFinished) -> None:
        """Count one attempt."""
        try:
            self._attempts[event.integration][event.provider][event.outcome][0] += 1
        except KeyError:
            self._new_attempt(event.integration, event.provider, event.outcome)[0] += 1

    # -- a series' first event -----------------------------------------------

    def _new_request(
        self, integration: str, provider: str | None, outcome: str
    ) -> tuple[Counted, Observed]:
        # prometheus_client's .labels() turns every label value into a str
        labels = (str(integration), str(provider or NO_PROVIDER), str(outcome))
        now = time.time()
        counted = self._request_series.setdefault(labels, [0.0, now])
        observed = self._duration_series.setdefault(
            labels[:2], [0.0, now] + [0.0] * len(self._bounds)
        )
        by_provider = self._requests.setdefault(integration, {})
        by_provider.setdefault(provider, {})[outcome] = (counted, observed)
        return counted, observed

    def _new_attempt(self, integration: str, provider: str, outcome: str) -> Counted:
        labels = (str(integration), str(provider), str(outcome))
        counted = self._attempt_series.setdefault(labels, [0.0, time.time()])
        self._attempts.setdefault(integration, {}).setdefault(provider, {})[outcome] = counted
        return counted

    # -- the collector (each scrape) -----------------------------------------

    def describe(self) -> list[Metric]:
        """The three families without samples, so registering never collects."""
        return [
            CounterMetricFamily(_REQUESTS, _REQUESTS_HELP, labels=_CALL_LABELS),
            HistogramMetricFamily(_DURATION, _DURATION_HELP, labels=_DURATION_LABELS),
            CounterMetricFamily(_ATTEMPTS, _ATTEMPTS_HELP, labels=_CALL_LABELS),
        ]

    def collect(self) -> Iterator[Metric]:
        created = _use_created()
        yield _counters(_REQUESTS, _REQUESTS_HELP, self._request_series, created)
        yield self._durations(created)
        yield _counters(_ATTEMPTS, _ATTEMPTS_HELP, self._attempt_series, created)

    def _durations(self, created: bool) -> HistogramMetricFamily:
        family = HistogramMetricFamily(_DURATION, _DURATION_HELP, labels=_DURATION_LABELS)
        name = family.name
        le = self._le
        with_sum = self._bounds[0] >= 0
        for labels, series in self._duration_series.copy().items():
            values = series[:]
            cumulative: list[tuple[str, float]] = []
            total = 0.0
            for bound, count in zip(le, values[_FIRST_BUCKET:], strict=True):
                total += count
                cumulative.append((bound, total))
            family.add_metric(labels, cumulative, values[0] if with_sum else None)
            named = dict(zip(_DURATION_LABELS, labels, strict=True))
            if not with_sum:
                # prometheus_client's Histogram keeps _count (and drops only _sum)
                # when a bucket is negative; HistogramMetricFamily drops both.
                family.samples.append(Sample(f"{name}_count", named, total))
            if created:
                family.samples.append(Sample(f"{name}_created", dict(named), values[1]))
        return family


def _counters(
    name: str, documentation: str, series: dict[LabelValues, Counted], created: bool
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=_CALL_LABELS)
    for labels, (value, since) in series.copy().items():
        family.add_metric(labels, value, since if created else None)
    return family
