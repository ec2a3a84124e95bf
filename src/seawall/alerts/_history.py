"""History for baseline rules: samples from the stored rollups, and the bands learned from them.

:class:`Baselines` keeps, per baseline rule, the (wall time, value) samples of
its metric over the rule's ``baseline.window`` (a week by default), read from
``store.rollups``: each slice of the rule's own window (5 minutes by default)
of minute rows is one sample, computed with the very maths the live value
uses (:func:`~seawall.alerts._counts.metric_value` over the summed rows). Hours
whose minutes were downsampled come as hour rows and give one sample each.

``refresh`` reads the store at most every ``refresh_every`` seconds; the
evaluator's ``band`` is synchronous and cached per rule and hour, so a
thousand rules cost nothing between hours. ``feed`` gives samples directly,
without a store (tests, benchmarks, an import).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from seawall.alerts._baseline import Band, SlottedSamples
from seawall.alerts._counts import SIZE, WindowCounts, metric_value, row_counts
from seawall.config import BaselineSpec
from seawall.store import RollupRow

__all__ = ["Baselines", "HistorySpec", "RollupReader", "history_samples"]

_log = logging.getLogger("seawall.alerts")
_MINUTE = 60


class RollupReader(Protocol):
    """What :meth:`Baselines.refresh` reads: :meth:`seawall.store.Rollups.query`."""

    async def query(
        self,
        *,
        start: float,
        end: float,
        integration: str | None = None,
        provider: str | None = None,
        width: int | None = None,
    ) -> list[RollupRow]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySpec:
    """What one baseline rule learns from: a metric of a series, sliced by ``window`` seconds."""

    integration: str
    provider: str | None
    metric: str
    window: float
    spec: BaselineSpec
    #: the smallest spread, in the metric's unit
    floor: float = 0.0


def history_samples(
    rows: Iterable[RollupRow], *, metric: str, window: float, start: float, end: float
) -> list[tuple[float, float]]:
    """One (midpoint, value) sample per whole ``window``-second slice of ``rows`` in [start, end).

    Rows of every provider given are summed. A slice is the rows whose start
    falls in it; a row wider than ``window`` (an hour row) is a slice of its
    own. Slices cut by ``start`` or ``end``, and slices where the metric has
    no value (no attempts), give no sample. A slice without a row gives none
    either -- nothing says the store was recording then -- except for
    ``throughput``: once the series has rows, a slice without one is a
    quiet one (0/s), which is what a "throughput fell" rule must learn.
    """
    width = max(1, round(window))
    slices: dict[tuple[int, int], list[float]] = {}
    for row in rows:
        span = max(width, row.width)
        begin = row.start - row.start % span
        if begin < start or begin + span > end:
            continue
        values = row_counts(row)
        held = slices.get((begin, span))
        if held is None:
            slices[(begin, span)] = values
        else:
            for i, v in enumerate(values):
                held[i] += v
    if metric == "throughput" and slices:
        _quiet_slices(slices, width, end)
    out: list[tuple[float, float]] = []
    for (begin, span), values in sorted(slices.items()):
        value = metric_value(WindowCounts(values, float(span)), metric)
        if value is not None and math.isfinite(value):
            out.append((begin + span / 2, value))
    return out


def _quiet_slices(slices: dict[tuple[int, int], list[float]], width: int, end: float) -> None:
    """Add an empty slice for each ``width`` slice from the first one to ``end`` that has none."""
    covered = {
        inner
        for begin, span in slices
        if span > width
        for inner in range(begin - begin % width, begin + span, width)
    }
    begin = min(b for b, _ in slices)
    while begin + width <= end:
        if (begin, width) not in slices and begin not in covered:
            slices[(begin, width)] = [0.0] * SIZE
        begin += width


class Baselines:
    """Per-rule history samples and the bands learned from them.

    ::

        baselines = Baselines()
        evaluator = Evaluator(config, live, baselines=baselines)  # configures the rules
        await baselines.refresh(store.rollups, now=time.time())   # e.g. every evaluation
        band = baselines.band("inventory-latency-anomaly", time.time())

    ``tz`` is the time zone hours of the day and week are read in.
    """

    def __init__(self, *, tz: tzinfo = UTC, refresh_every: float = 300.0) -> None:
        self.tz = tz
        self._refresh_every = refresh_every
        self._specs: dict[str, HistorySpec] = {}
        self._samples: dict[str, SlottedSamples] = {}
        self._bands: dict[str, tuple[float, Band | None]] = {}
        self._refreshed_at: float | None = None
        self._failing = False

    def configure(self, specs: Mapping[str, HistorySpec]) -> None:
        """The rules to keep history for; samples of rules whose spec changed are dropped."""
        for name in list(self._samples):
            old = self._specs.get(name)
            if name not in specs or (old is not None and old != specs[name]):
                del self._samples[name]
        self._specs = dict(specs)
        self._bands.clear()
        self._refreshed_at = None

    @property
    def rules(self) -> list[str]:
        return sorted(self._specs)

    def feed(self, rule: str, samples: Sequence[tuple[float, float]]) -> None:
        """Use ``samples`` ((wall time, value)) as ``rule``'s history, replacing what it had."""
        self._samples[rule] = SlottedSamples(samples, tz=self.tz)
        self._bands.pop(rule, None)

    def samples(self, rule: str) -> int:
        """How many history samples ``rule`` has."""
        held = self._samples.get(rule)
        return 0 if held is None else len(held)

    def band(self, rule: str, at: float) -> Band | None:
        """The band of ``rule`` for wall time ``at``; None while it is learning (or unknown)."""
        spec = self._specs.get(rule)
        held = self._samples.get(rule)
        if spec is None or held is None:
            return None
        hour = _hour_start(at, self.tz)
        cached = self._bands.get(rule)
        if cached is not None and cached[0] == hour:
            return cached[1]
        # learnt as of the hour's start: last week's whole hour is inside a 7-day window
        band = held.learn(at=hour, spec=spec.spec, floor=spec.floor)
        self._bands[rule] = (hour, band)
        return band

    async def refresh(self, rollups: RollupReader, now: float, *, force: bool = False) -> bool:
        """Read the rules' history from ``rollups`` if ``refresh_every`` has passed; True if read.

        A store failure is logged (once until it recovers) and the samples
        already held are kept.
        """
        if not self._specs:
            return False
        last = self._refreshed_at
        if not force and last is not None and now - last < self._refresh_every:
            return False
        end = math.floor(now / _MINUTE) * _MINUTE  # whole minutes only
        wanted: dict[tuple[str, str | None], float] = {}
        for spec in self._specs.values():
            key = (spec.integration, spec.provider)
            wanted[key] = max(wanted.get(key, 0.0), spec.spec.window)
        fetched: dict[tuple[str, str | None], list[RollupRow]] = {}
        try:
            for (integration, provider), span in wanted.items():
                fetched[(integration, provider)] = await rollups.query(
                    start=end - span, end=end, integration=integration, provider=provider
                )
        except Exception as error:  # noqa: BLE001 - keep the history held, try again next time
            if not self._failing:
                self._failing = True
                _log.warning("reading alert baselines from the store failed: %s", error)
            self._refreshed_at = now
            return False
        if self._failing:
            self._failing = False
            _log.info("alert baselines are read from the store again")
        for name, spec in self._specs.items():
            rows = fetched[(spec.integration, spec.provider)]
            samples = history_samples(
                rows, metric=spec.metric, window=spec.window, start=end - spec.spec.window, end=end
            )
            self.feed(name, samples)
        self._refreshed_at = now
        for name in self._specs:  # learn the current hour now, not in the next evaluation
            self.band(name, now)
        return True


def _hour_start(at: float, tz: tzinfo) -> float:
    """The start of the hour holding ``at``, in ``tz`` (half-hour zones included)."""
    local = datetime.fromtimestamp(at, tz)
    return local.replace(minute=0, second=0, microsecond=0).timestamp()
