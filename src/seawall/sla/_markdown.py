"""Reports as Markdown: one section of tables per SLA, for tickets and vendor claims."""

from __future__ import annotations

import html
from collections.abc import Sequence

from seawall.sla._format import duration, iso, latency, money, pct, rate
from seawall.sla._report import AvailabilityResult, ObjectiveResult, SlaReport

__all__ = ["render_markdown"]


def _cell(value: object) -> str:
    """Table-safe text: no HTML, no pipes, no line breaks."""
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def describe(objective: ObjectiveResult) -> str:
    """``availability (minutes)`` or ``latency p95 ≤ 800 ms``."""
    if isinstance(objective, AvailabilityResult):
        return f"availability ({objective.measure})"
    return f"latency p{objective.percentile:g} ≤ {latency(objective.threshold)}"


def _objective_row(o: ObjectiveResult) -> list[object]:
    notes = []
    if isinstance(o, AvailabilityResult):
        measured = f"{pct(o.value)} ({o.good} good / {o.bad} bad {o.measure})"
        if o.excluded:
            notes.append(f"{o.excluded} {o.measure} in maintenance excluded")
        if o.note:
            notes.append(o.note)
    else:
        measured = f"{pct(o.value)} of {o.count} calls"
        if o.percentile_value is not None:
            notes.append(f"p{o.percentile:g} = {latency(o.percentile_value)}")
        if o.no_traffic:
            notes.append("no calls: 100% by definition")
    if o.approximate:
        notes.append("approximate")
    return [
        describe(o),
        pct(o.target),
        measured,
        "yes" if o.met else "**no**",
        pct(o.budget_remaining, 2),
        "; ".join(notes),
    ]


def _section(report: SlaReport) -> list[str]:
    period = report.period
    state = (
        "complete" if period.complete else f"in progress, measured to {iso(period.measured_end)}"
    )
    lines = [
        f"## {_cell(report.name)}: {_cell(report.provider)}, {_cell(period.label)}",
        "",
        f"Period {iso(period.start)} to {iso(period.end)} ({state}). "
        f"Verdict: **{'met' if report.met else 'missed'}**.",
        "",
        "### Objectives",
        "",
    ]
    lines += _table(
        ["objective", "target", "measured", "met", "budget left", "notes"],
        [_objective_row(o) for o in report.objectives],
    )
    credit = report.credit
    lines += ["### Credit", ""]
    lines += _table(
        ["availability", "tier", "credit", "fee", "amount owed"],
        [
            [
                pct(credit.availability),
                f"below {pct(credit.tier_below)}" if credit.tier_below is not None else "none",
                pct(credit.credit),
                money(credit.fee, credit.currency),
                money(credit.amount, credit.currency),
            ]
        ],
    )
    if report.error_budget is not None:
        budget = report.error_budget
        lines += [
            "### Error budget",
            "",
            f"Allowed {pct(budget.allowed)}, consumed {pct(budget.consumed)}, "
            f"remaining {pct(budget.remaining, 2)} of the budget.",
            "",
        ]
        lines += _table(
            ["window", "from", "to", "bad fraction", "burn rate"],
            [
                [b.label, iso(b.start), iso(b.end), pct(b.bad_fraction), rate(b.rate)]
                for b in report.burn_rates
            ],
        )
    lines += [
        "### Breaches",
        "",
        f"A bad minute is one with a vendor error rate of {pct(report.bad_minute_threshold)} "
        "or more; adjacent bad minutes form one breach.",
        "",
    ]
    if report.breaches:
        lines += _table(
            ["start (UTC)", "end (UTC)", "minutes", "attempts", "failures", "error rate"],
            [
                [iso(b.start), iso(b.end), b.minutes, b.attempts, b.failures, pct(b.error_rate, 2)]
                for b in report.breaches
            ],
        )
    else:
        lines += ["No breaches.", ""]
    if report.maintenance:
        lines += ["### Planned maintenance", ""]
        lines += _table(
            ["start (UTC)", "end (UTC)"], [[iso(s), iso(e)] for s, e in report.maintenance]
        )
    support = report.support
    escalation = (
        f"{support.escalation_contact} after {duration(support.escalation_after)}"
        if support.escalation_contact
        else "-"
    )
    lines += ["### Support", ""]
    lines += _table(
        ["response time", "resolution time", "escalation"],
        [[duration(support.response_time), duration(support.resolution_time), escalation]],
    )
    t, lat = report.totals, report.latency
    lines += ["### Totals", ""]
    lines += _table(
        ["attempts", "good", "bad", "throttled", "rejected", "p50", "p95", "p99"],
        [
            [
                t.attempts,
                t.good,
                t.bad,
                t.throttled,
                t.rejected,
                latency(lat.p50),
                latency(lat.p95),
                latency(lat.p99),
            ]
        ],
    )
    return lines


def render_markdown(reports: Sequence[SlaReport]) -> str:
    """A Markdown document with one section per report."""
    lines = ["# SLA report", ""]
    if not reports:
        lines += ["No SLAs configured.", ""]
    for report in reports:
        lines += _section(report)
    return "\n".join(lines).rstrip("\n") + "\n"
