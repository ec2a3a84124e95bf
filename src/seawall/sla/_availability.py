"""Availability: by calls, or by minutes without a vendor outage.

* ``measure: calls`` -- ``good / (good + bad)`` over the vendor's attempts.
  Good is success plus final answers (a card decline is the vendor working);
  bad is failure, timeout and connect error. Throttled calls (429) and calls
  seawall refused itself count for neither side. No traffic is 100%.
* ``measure: minutes`` -- a minute is *bad* when it had vendor traffic and its
  vendor error rate was at or above ``bad_minute_threshold`` (default 5%);
  quiet minutes are good. Availability is good minutes over all minutes of
  the period. This is how cloud SLAs count downtime: Google Cloud defines
  "Downtime" as "more than a five percent Error Rate", counted in whole
  minutes as "Downtime Periods" (e.g. the Cloud Composer SLA,
  https://cloud.google.com/composer/sla); Amazon S3 computes an "Error Rate"
  per five-minute interval (https://aws.amazon.com/s3/sla/). Google says
  *more than* 5%; seawall counts a minute *at* the threshold as bad, so set
  the threshold a hair higher to match a contract that says "more than".

With ``exclude_maintenance``, planned maintenance leaves both numerator and
denominator: masked minutes are not counted at all, and calls made in them
are dropped (see :mod:`seawall.sla._maintenance` for what "in" means).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from seawall.config import AvailabilityObjective
from seawall.sla._budget import budget_remaining
from seawall.sla._exact import exact
from seawall.sla._maintenance import MaintenanceMask, minute_ceil
from seawall.sla._report import AvailabilityResult
from seawall.sla._traffic import Slot, Traffic, kept

__all__ = [
    "DEFAULT_BAD_MINUTE_THRESHOLD",
    "Tally",
    "bad_minutes",
    "evaluate_availability",
    "is_bad",
    "tally",
]

#: a minute is bad at this vendor error rate or above (the 5% of GCP's SLAs)
DEFAULT_BAD_MINUTE_THRESHOLD = 0.05

Measure = Literal["calls", "minutes"]


def is_bad(good: int, bad: int, threshold: float | Fraction) -> bool:
    """Whether a bucket with these vendor counts is an outage (error rate >= threshold)."""
    limit = threshold if isinstance(threshold, Fraction) else exact(threshold)
    total = good + bad
    # bad / total >= n / d, in integers
    return total > 0 and bad * limit.denominator >= limit.numerator * total


@dataclass(frozen=True, slots=True)
class Tally:
    """Good and bad units (calls or minutes) over an interval."""

    good: int
    bad: int
    excluded: int
    traffic: bool  #: any vendor attempt outside maintenance
    approximate: bool

    @property
    def total(self) -> int:
        return self.good + self.bad

    @property
    def availability(self) -> Fraction:
        return Fraction(self.good, self.total) if self.total else Fraction(1)

    @property
    def bad_fraction(self) -> Fraction:
        return 1 - self.availability


def bad_minutes(
    traffic: Traffic,
    start: float,
    end: float,
    *,
    mask: MaintenanceMask | None,
    threshold: float,
) -> list[tuple[int, Slot]]:
    """Each bad grid minute in ``[start, end)`` outside maintenance, with its bucket.

    A downsampled bucket that is bad makes every one of its minutes bad.
    """
    limit = exact(threshold)
    out: list[tuple[int, Slot]] = []
    for slot in traffic.overlapping(start, end):
        if not is_bad(slot.good, slot.bad, limit):
            continue
        for minute in slot.minute_starts():
            if start <= minute < end and not (mask and mask.excludes(minute)):
                out.append((minute, slot))
    out.sort(key=lambda pair: pair[0])
    return out


def _tally_calls(traffic: Traffic, start: float, end: float, mask: MaintenanceMask | None) -> Tally:
    period = traffic.in_range(start, end)
    counted, approximate = kept(period, mask)
    good = sum(s.good for s in counted)
    bad = sum(s.bad for s in counted)
    everything = sum(s.good + s.bad for s in period)
    return Tally(good, bad, everything - good - bad, good + bad > 0, approximate)


def _tally_minutes(
    traffic: Traffic, start: float, end: float, mask: MaintenanceMask | None, threshold: float
) -> Tally:
    minutes = int(max(0.0, minute_ceil(end) - minute_ceil(start)) // 60)
    excluded = mask.minutes(start, end) if mask else 0
    bad = len({m for m, _ in bad_minutes(traffic, start, end, mask=mask, threshold=threshold)})
    counted, _ = kept(traffic.overlapping(start, end), mask)
    busy = any(s.good + s.bad for s in counted)
    approximate = any(s.width > 60 and s.good + s.bad for s in counted)
    return Tally(minutes - excluded - bad, bad, excluded, busy, approximate)


def tally(
    traffic: Traffic,
    start: float,
    end: float,
    *,
    measure: Measure,
    mask: MaintenanceMask | None,
    threshold: float = DEFAULT_BAD_MINUTE_THRESHOLD,
) -> Tally:
    """Good and bad calls or minutes in ``[start, end)``; ``mask`` None keeps maintenance."""
    if measure == "calls":
        return _tally_calls(traffic, start, end, mask)
    return _tally_minutes(traffic, start, end, mask, threshold)


def _note(measure: Measure, counts: Tally) -> str:
    if counts.traffic:
        return ""
    if measure == "calls":
        return "no vendor traffic in the period: 100% by definition"
    if counts.total == 0:
        return "no minutes measured yet: 100% by definition"
    return "no vendor traffic in the period: every minute counts as good"


def evaluate_availability(
    objective: AvailabilityObjective,
    traffic: Traffic,
    start: float,
    end: float,
    *,
    mask: MaintenanceMask,
    threshold: float = DEFAULT_BAD_MINUTE_THRESHOLD,
) -> tuple[AvailabilityResult, Tally]:
    """Measure ``objective`` over ``[start, end)``; the tally keeps the exact ratio."""
    counts = tally(
        traffic,
        start,
        end,
        measure=objective.measure,
        mask=mask if objective.exclude_maintenance else None,
        threshold=threshold,
    )
    result = AvailabilityResult(
        measure=objective.measure,
        target=objective.target,
        value=float(counts.availability),
        met=counts.availability >= exact(objective.target),
        good=counts.good,
        bad=counts.bad,
        excluded=counts.excluded,
        exclude_maintenance=objective.exclude_maintenance,
        no_traffic=not counts.traffic,
        approximate=counts.approximate,
        budget_remaining=budget_remaining(objective.target, counts.bad_fraction),
        note=_note(objective.measure, counts),
    )
    return result, counts
