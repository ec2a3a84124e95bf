"""A report's content as plain sections -- paragraphs and tables of text -- for both renderers.

Markdown and HTML say the same things in the same order; only the escaping
and markup differ, so the words live here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from seawall.incidents._format import iso, span
from seawall.incidents._report import IncidentReport

__all__ = ["Section", "Table", "sections", "title"]

#: what the empty Root cause / Prevention sections say
PLACEHOLDER_ROOT_CAUSE = "To be written: what failed, and why."
PLACEHOLDER_PREVENTION = "To be written: what will keep this from happening again."


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    #: free text written by people (notes): kept as written, line breaks included
    text: str | None = None
    #: the text is a placeholder, to be shown as such
    placeholder: bool = False


def _amount(value: float) -> str:
    return f"{value:,.2f}"


def _pct(fraction: float | None) -> str:
    if fraction is None:
        return "-"
    text = f"{fraction * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _minutes(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def title(report: IncidentReport) -> str:
    """``Incident #7: payments: error rate above 5%``."""
    return f"Incident #{report.incident.id}: {report.incident.title}"


def _summary(report: IncidentReport) -> Section:
    incident = report.incident
    lines = [
        f"State: {incident.state.value}. Severity: {incident.severity}.",
        f"Trigger: {incident.trigger}.",
        f"Impact from {iso(report.impact_start)} to "
        + (f"now ({iso(report.impact_end)}, ongoing)" if report.ongoing else iso(report.impact_end))
        + f": {span(report.impact_end - report.impact_start)}.",
        "Affected integrations: " + (", ".join(incident.integrations) or "none recorded") + ".",
        "Affected providers: " + (", ".join(incident.providers) or "none recorded") + ".",
        f"Business impact: {_amount(report.total_impact)} "
        f"({_minutes(report.impact_minutes)} minutes of impact).",
    ]
    if incident.acknowledged_at is not None:
        lines.append(
            f"Acknowledged by {incident.acknowledged_by} at {iso(incident.acknowledged_at)}."
        )
    if incident.resolved_at is not None:
        lines.append(f"Resolved by {incident.resolved_by} at {iso(incident.resolved_at)}.")
    return Section("Summary", paragraphs=tuple(lines))


def _times(report: IncidentReport) -> Section:
    incident = report.incident
    rows = (
        ("impact started", iso(report.impact_start), "-"),
        ("incident opened", iso(incident.opened_at), span(report.time_to_detect)),
        (
            "acknowledged",
            "-" if incident.acknowledged_at is None else iso(incident.acknowledged_at),
            span(report.time_to_acknowledge),
        ),
        (
            "recovered",
            "-" if incident.resolved_at is None else iso(incident.resolved_at),
            span(report.time_to_recover),
        ),
    )
    return Section(
        "Detection and recovery",
        paragraphs=(
            f"Time to detect (MTTD): {span(report.time_to_detect)}. "
            f"Time to acknowledge: {span(report.time_to_acknowledge)}. "
            f"Time to recover (MTTR): "
            + (span(report.time_to_recover) if not report.ongoing else "not recovered yet")
            + ".",
        ),
        tables=(Table(("milestone", "at (UTC)", "after"), rows),),
    )


def _impact(report: IncidentReport) -> Section:
    rows = [
        (
            i.name,
            i.criticality,
            str(i.calls),
            str(i.failed),
            str(i.rejected),
            str(i.fallbacks),
            _minutes(i.minutes),
            _amount(i.impact_per_minute),
            _amount(i.impact),
        )
        for i in report.integrations
    ]
    rows.append(("total", "", "", "", "", "", "", "", _amount(report.total_impact)))
    providers = tuple(
        (
            i.name,
            p.provider or "(none)",
            str(p.calls),
            str(p.attempts),
            str(p.failed),
            str(p.rejected),
            str(p.failovers),
        )
        for i in report.integrations
        for p in i.providers
    )
    header = ("integration", "criticality", "calls", "failed", "rejected", "fallbacks")
    tables = [Table((*header, "minutes", "impact / minute", "impact"), tuple(rows))]
    if providers:
        tables.append(
            Table(
                ("integration", "provider", "calls", "attempts", "failed", "rejected", "failovers"),
                providers,
            )
        )
    return Section(
        "Affected integrations and business impact",
        paragraphs=(
            "Business impact is each integration's impact per minute times the minutes of "
            "impact. Failed counts vendor faults (failures, timeouts, connection errors); "
            "rejected counts calls seawall refused itself.",
        ),
        tables=tuple(tables),
    )


def _slas(report: IncidentReport) -> Section:
    if not report.slas:
        return Section("SLA implications", paragraphs=("No affected provider has an SLA.",))
    rows = tuple(
        (
            s.name,
            s.provider,
            s.period + ("" if s.complete else " (so far)"),
            f"{_pct(s.availability)} ({s.measure})" if s.measure else "-",
            _pct(s.target),
            str(s.minutes_in_incident),
            str(s.failed_calls_in_incident),
            "none" if s.credit.tier_below is None else f"below {_pct(s.credit.tier_below)}",
            f"{_pct(s.credit.credit)}: {_amount(s.credit.amount)} {s.credit.currency}",
        )
        for s in report.slas
    )
    header = ("SLA", "provider", "period", "availability", "target", "bad minutes in incident")
    return Section(
        "SLA implications",
        paragraphs=(
            "Availability is measured over the SLA period as of this report, planned "
            "maintenance excused; the credit is the tier reached so far.",
        ),
        tables=(Table((*header, "failed calls in incident", "credit tier", "credit owed"), rows),),
    )


def _timeline(report: IncidentReport) -> Section:
    if not report.timeline:
        return Section("Timeline", paragraphs=("No events were recorded.",))
    rows = []
    for entry in report.timeline:
        text = entry.text
        if entry.count > 1 and entry.last_at is not None:
            text += f" (x{entry.count}, until {iso(entry.last_at)})"
        where = "/".join(p for p in (entry.integration, entry.provider) if p)
        rows.append((iso(entry.at), where or "-", entry.kind, text))
    return Section("Timeline", tables=(Table(("at (UTC)", "where", "kind", "what"), tuple(rows)),))


def _alerts(report: IncidentReport) -> Section:
    if not report.alerts:
        return Section("Alerts", paragraphs=("No alerts are linked to this incident.",))
    rows = tuple(
        (
            e.rule,
            e.severity,
            iso(e.fired_at),
            "firing" if e.resolved_at is None else iso(e.resolved_at),
            "-" if e.acked_at is None else f"{e.acked_by} at {iso(e.acked_at)}",
            e.summary,
        )
        for e in report.alerts
    )
    header = ("rule", "severity", "fired (UTC)", "resolved (UTC)", "acknowledged", "summary")
    return Section("Alerts", tables=(Table(header, rows),))


def _notifications(report: IncidentReport) -> Section:
    if not report.notifications:
        return Section("Notifications", paragraphs=("No notifications were sent.",))
    rows = tuple(
        (
            iso(n.at),
            f"{n.target} ({n.target_kind})",
            n.kind,
            "-" if n.step is None else str(n.step),
            n.status,
            str(n.attempts),
            n.error or "",
        )
        for n in report.notifications
    )
    header = ("at (UTC)", "to", "kind", "step", "status", "attempts", "error")
    return Section("Notifications", tables=(Table(header, rows),))


def _notes(heading: str, text: str | None, placeholder: str) -> Section:
    if text:
        return Section(heading, text=text)
    return Section(heading, text=placeholder, placeholder=True)


def sections(report: IncidentReport) -> list[Section]:
    """The report's sections, in reading order."""
    return [
        _summary(report),
        _times(report),
        _impact(report),
        _slas(report),
        _timeline(report),
        _alerts(report),
        _notifications(report),
        _notes("Root cause", report.root_cause, PLACEHOLDER_ROOT_CAUSE),
        _notes("Prevention", report.prevention, PLACEHOLDER_PREVENTION),
    ]
