"""What an incident does to the vendor SLAs: availability so far, minutes counted, credit now due.

Measured with :mod:`seawall.sla` exactly as ``GET /api/v1/sla`` measures it
-- the store's ``Rollups.sla_summary`` handed to ``build_summary_report``,
planned maintenance excused -- over the SLA period that holds the start of
the impact (for a rolling period: the one ending now), as of ``now``. Nothing
here computes availability or credits itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from seawall.config import AvailabilityObjective, Sla
from seawall.sla import (
    DEFAULT_BAD_MINUTE_THRESHOLD,
    CreditOwed,
    SlaReport,
    build_summary_report,
    period_bounds,
    summary_request,
)
from seawall.store import Store

__all__ = ["SlaImpact", "measure_sla"]

_MINUTE = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaImpact:
    """One affected provider's SLA, measured so far this period."""

    name: str
    provider: str  #: ``integration/provider``
    period: str  #: the period's label, e.g. ``2026-11``
    period_start: float
    period_end: float
    measured_end: float
    complete: bool  #: the period is over: the numbers are final
    measure: str | None  #: ``calls`` or ``minutes``: what the availability counts
    target: float | None  #: the first availability objective's target
    availability: float | None  #: measured so far; None without an availability objective
    met: bool
    #: bad minutes (as the SLA counts them, maintenance excused) inside the incident
    minutes_in_incident: int
    #: vendor-fault calls of the provider inside the incident
    failed_calls_in_incident: int
    credit: CreditOwed  #: the tier reached so far and the amount it earns


def _minutes_inside(report: SlaReport, start: float, end: float) -> int:
    low = math.floor(start / _MINUTE) * _MINUTE
    high = math.ceil(end / _MINUTE) * _MINUTE
    seconds = sum(max(0.0, min(b.end, high) - max(b.start, low)) for b in report.breaches)
    return int(seconds // _MINUTE)


def _bounds(sla: Sla, impact_start: float, now: float) -> tuple[float, float]:
    if isinstance(sla.period, str):
        return period_bounds(sla.period, now=impact_start)
    return period_bounds(sla.period, now=now)


async def measure_sla(
    store: Store,
    name: str,
    sla: Sla,
    *,
    impact_start: float,
    impact_end: float,
    failed_calls: int,
    now: float,
) -> SlaImpact:
    """The SLA ``name`` measured as of ``now``, with the incident ``[impact_start, impact_end)``."""
    start, end = _bounds(sla, impact_start, now)
    want = summary_request(start, end, now=now)
    integration, provider = sla.provider.split("/", 1)
    windows = [
        (window.start, want.end if window.end is None else window.end)
        for window in await store.rollups.windows(
            start=start, end=want.end, integration=integration, provider=provider, planned=True
        )
    ]
    summary = await store.rollups.sla_summary(
        start=want.start,
        end=want.end,
        integration=integration,
        provider=provider,
        bad_minute_threshold=DEFAULT_BAD_MINUTE_THRESHOLD,
        maintenance=windows,
        splits=want.splits,
    )
    report = build_summary_report(name, sla, summary, period_start=start, period_end=end, now=now)
    objective = next(
        (o for o in sla.objectives if isinstance(o, AvailabilityObjective)),
        None,
    )
    availability = report.availability
    return SlaImpact(
        name=name,
        provider=sla.provider,
        period=report.period.label,
        period_start=start,
        period_end=end,
        measured_end=report.period.measured_end,
        complete=report.period.complete,
        measure=objective.measure if objective is not None else None,
        target=objective.target if objective is not None else None,
        availability=availability.value if availability is not None else None,
        met=report.met,
        minutes_in_incident=_minutes_inside(report, impact_start, impact_end),
        failed_calls_in_incident=failed_calls,
        credit=report.credit,
    )


def affected_slas(
    slas: dict[str, Sla], integrations: Iterable[str], providers: Iterable[str]
) -> list[tuple[str, Sla]]:
    """The SLAs, in configuration order, of the ``integration/provider`` pairs given,
    or of any provider of the integrations when ``providers`` is empty for one."""
    names = set(integrations)
    pairs = set(providers)
    named = {p.split("/", 1)[0] for p in pairs}
    chosen = []
    for name, sla in slas.items():
        integration = sla.provider.split("/", 1)[0]
        if integration not in names:
            continue
        if sla.provider in pairs or integration not in named:
            chosen.append((name, sla))
    return chosen
