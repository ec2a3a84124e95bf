"""Build an :class:`SlaReport` from rollup rows: the one entry point the CLI and web call."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.config import AvailabilityObjective, LatencyObjective, Sla
from seawall.sla._availability import DEFAULT_BAD_MINUTE_THRESHOLD, evaluate_availability, tally
from seawall.sla._breaches import find_breaches
from seawall.sla._budget import BURN_WINDOWS, burn_rate, error_budget
from seawall.sla._credits import credit_owed
from seawall.sla._latency import evaluate_latency, sum_histograms, summarize_latency
from seawall.sla._maintenance import MaintenanceMask
from seawall.sla._periods import months_between, period_label
from seawall.sla._report import (
    AvailabilityResult,
    BurnRateWindow,
    ErrorBudget,
    ObjectiveResult,
    PeriodInfo,
    SlaReport,
    SupportTerms,
)
from seawall.sla._traffic import Traffic, aggregate, kept, totals
from seawall.store import RollupRow

__all__ = ["build_report", "excludes_maintenance", "provider_rows"]


def provider_rows(sla: Sla, rows: Sequence[RollupRow]) -> list[RollupRow]:
    """The rows of the SLA's ``integration/provider``."""
    integration, provider = sla.provider.split("/", 1)
    return [r for r in rows if r.integration == integration and r.provider == provider]


def excludes_maintenance(sla: Sla) -> bool:
    """Whether maintenance is excused for the SLA as a whole (latency, breaches,
    burn rates): as its first availability objective says, else yes."""
    for objective in sla.objectives:
        if isinstance(objective, AvailabilityObjective):
            return objective.exclude_maintenance
    return True


def _burn_rates(
    objective: AvailabilityObjective,
    traffic: Traffic,
    *,
    period_start: float,
    end: float,
    mask: MaintenanceMask,
    threshold: float,
) -> tuple[BurnRateWindow, ...]:
    out = []
    for label, window in BURN_WINDOWS:
        start = max(period_start, end - window)
        counts = tally(
            traffic,
            start,
            end,
            measure=objective.measure,
            mask=mask if objective.exclude_maintenance else None,
            threshold=threshold,
        )
        out.append(
            BurnRateWindow(
                label=label,
                window=window,
                start=start,
                end=end,
                bad_fraction=float(counts.bad_fraction),
                rate=burn_rate(counts.bad_fraction, objective.target),
            )
        )
    return tuple(out)


def build_report(
    sla_name: str,
    sla: Sla,
    rows: Sequence[RollupRow],
    maintenance: Sequence[tuple[float, float]] = (),
    *,
    period_start: float,
    period_end: float,
    now: float,
    bad_minute_threshold: float = DEFAULT_BAD_MINUTE_THRESHOLD,
) -> SlaReport:
    """Measure ``sla`` over ``[period_start, period_end)`` as of ``now``.

    ``rows`` may hold any providers: only the SLA's ``integration/provider``
    is read. While the period is running (``now < period_end``) everything is
    measured up to ``now`` -- minutes still to come are not counted as good --
    and ``period.complete`` is false. Credits and the error budget use the
    first availability objective; burn rates are over windows ending at
    ``min(period_end, now)``, clipped to the period start.
    """
    if period_end <= period_start:
        msg = f"a period must end after it starts ({period_start} .. {period_end})"
        raise ValueError(msg)
    measured_end = min(period_end, max(period_start, now))
    traffic = aggregate(provider_rows(sla, rows))
    mask = MaintenanceMask(maintenance)
    excused = mask if excludes_maintenance(sla) else None
    period_slots = traffic.in_range(period_start, measured_end)
    latency_slots, _ = kept(period_slots, excused)

    objectives: list[ObjectiveResult] = []
    primary: AvailabilityResult | None = None
    budget: ErrorBudget | None = None
    burns: tuple[BurnRateWindow, ...] = ()
    availability = None
    for objective in sla.objectives:
        if isinstance(objective, LatencyObjective):
            objectives.append(evaluate_latency(objective, sum_histograms(latency_slots)))
            continue
        result, counts = evaluate_availability(
            objective,
            traffic,
            period_start,
            measured_end,
            mask=mask,
            threshold=bad_minute_threshold,
        )
        objectives.append(result)
        if primary is None:
            primary, availability = result, counts.availability
            budget = error_budget(objective.target, counts.bad_fraction)
            burns = _burn_rates(
                objective,
                traffic,
                period_start=period_start,
                end=measured_end,
                mask=mask,
                threshold=bad_minute_threshold,
            )

    escalation = sla.escalation
    return SlaReport(
        name=sla_name,
        provider=sla.provider,
        as_of=now,
        period=PeriodInfo(
            label=period_label(period_start, period_end),
            start=period_start,
            end=period_end,
            measured_end=measured_end,
            complete=now >= period_end,
        ),
        met=all(o.met for o in objectives),
        objectives=tuple(objectives),
        availability=primary,
        latency=summarize_latency(latency_slots),
        bad_minute_threshold=bad_minute_threshold,
        breaches=find_breaches(
            traffic, period_start, measured_end, mask=excused, threshold=bad_minute_threshold
        ),
        credit=credit_owed(
            availability,
            sla.credits,
            monthly_fee=sla.monthly_fee,
            months=months_between(period_start, period_end),
            currency=sla.currency,
        ),
        error_budget=budget,
        burn_rates=burns,
        support=SupportTerms(
            response_time=sla.support.response_time,
            resolution_time=sla.support.resolution_time,
            escalation_contact=escalation.contact if escalation else None,
            escalation_after=escalation.after if escalation else None,
        ),
        totals=totals(period_slots),
        maintenance=mask.clipped(period_start, period_end),
    )
