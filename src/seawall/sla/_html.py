"""Reports as one standalone HTML page with inline SVG charts.

No scripts, fonts or stylesheets are fetched: the page can be mailed to a
vendor or attached to a claim as it is. Every piece of text goes through
``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from seawall.sla._format import duration, iso, latency, money, pct, rate
from seawall.sla._markdown import describe
from seawall.sla._report import AvailabilityResult, DailyPoint, LatencyResult, SlaReport
from seawall.sla._svg import Line, line_chart

__all__ = ["render_html"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #1d232a; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; }
th { background: #f6f8fa; }
.met { color: #1a7f37; font-weight: 600; }
.missed { color: #cf222e; font-weight: 600; }
.chart { display: block; margin: .5rem 0 1.5rem; max-width: 100%; height: auto; }
.chart .grid { stroke: #eaeef2; }
.chart .axis { stroke: #8c959f; }
.chart .tick, .chart .legend { font-size: 11px; fill: #57606a; }
.chart .chart-title { font-size: 13px; font-weight: 600; fill: #1d232a; }
.chart .reference { stroke: #cf222e; stroke-dasharray: 4 3; }
.chart .series { stroke-width: 2; }
.availability { stroke: #0969da; fill: #0969da; }
.p50 { stroke: #1a7f37; fill: #1a7f37; }
.p95 { stroke: #bf8700; fill: #bf8700; }
.p99 { stroke: #8250df; fill: #8250df; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(met: bool) -> str:
    return '<span class="met">met</span>' if met else '<span class="missed">missed</span>'


def _availability_chart(report: SlaReport, points: Sequence[DailyPoint]) -> str:
    values = [p.availability for p in points]
    target = report.availability.target if report.availability is not None else None
    low = min([*values, *([target] if target is not None else [])])
    y_min = max(0.0, low - max((1.0 - low) * 0.2, 0.0001))
    return line_chart(
        title=f"{report.name}: availability per day",
        labels=[p.day for p in points],
        lines=[Line("availability", values, "availability")],
        y_min=y_min,
        y_max=1.0,
        y_format=lambda v: pct(v, 3),
        reference=(target, f"target {pct(target)}") if target is not None else None,
    )


def _latency_chart(report: SlaReport, points: Sequence[DailyPoint]) -> str:
    lines = [
        Line("p50", [p.p50 for p in points], "p50"),
        Line("p95", [p.p95 for p in points], "p95"),
        Line("p99", [p.p99 for p in points], "p99"),
    ]
    threshold = next((o.threshold for o in report.objectives if isinstance(o, LatencyResult)), None)
    seen = [v for line in lines for v in line.values if v is not None]
    top = max([*seen, *([threshold] if threshold is not None else [])], default=1.0)
    return line_chart(
        title=f"{report.name}: latency percentiles per day",
        labels=[p.day for p in points],
        lines=lines,
        y_min=0.0,
        y_max=top * 1.1,
        y_format=latency,
        reference=(threshold, f"threshold {latency(threshold)}") if threshold is not None else None,
    )


def _objective_row(o: AvailabilityResult | LatencyResult) -> list[str]:
    flags = []
    if o.approximate:
        flags.append("approximate")
    if o.no_traffic:
        flags.append("no traffic: 100% by definition")
    if isinstance(o, LatencyResult) and o.percentile_value is not None:
        flags.append(f"p{o.percentile:g} = {latency(o.percentile_value)}")
    return [
        _e(describe(o)),
        _e(pct(o.target)),
        _e(pct(o.value)),
        _verdict(o.met),
        _e(pct(o.budget_remaining, 2)),
        _e("; ".join(flags)),
    ]


def _section(report: SlaReport, points: Sequence[DailyPoint]) -> str:
    period, credit, support = report.period, report.credit, report.support
    parts = [
        f'<section class="sla" id="sla-{_e(report.name)}">',
        f"<h2>{_e(report.name)} &mdash; {_e(report.provider)} &mdash; {_e(period.label)}</h2>",
        f"<p>{_e(iso(period.start))} to {_e(iso(period.end))}"
        f"{'' if period.complete else _e(' (in progress, to ' + iso(period.measured_end) + ')')}"
        f": {_verdict(report.met)}</p>",
        "<h3>Objectives</h3>",
        _table(
            ["objective", "target", "measured", "met", "budget left", "notes"],
            [_objective_row(o) for o in report.objectives],
        ),
    ]
    if points:
        parts += [_availability_chart(report, points), _latency_chart(report, points)]
    else:
        parts.append("<p>No daily series for this SLA.</p>")
    parts += [
        "<h3>Credit</h3>",
        _table(
            ["availability", "tier", "credit", "amount owed"],
            [
                [
                    _e(pct(credit.availability)),
                    _e(
                        f"below {pct(credit.tier_below)}"
                        if credit.tier_below is not None
                        else "none"
                    ),
                    _e(pct(credit.credit)),
                    _e(money(credit.amount, credit.currency)),
                ]
            ],
        ),
    ]
    if report.burn_rates:
        parts += [
            "<h3>Burn rates</h3>",
            _table(
                ["window", "bad fraction", "burn rate"],
                [
                    [_e(b.label), _e(pct(b.bad_fraction)), _e(rate(b.rate))]
                    for b in report.burn_rates
                ],
            ),
        ]
    parts.append(f"<h3>Breaches (error rate &ge; {_e(pct(report.bad_minute_threshold))})</h3>")
    if report.breaches:
        parts.append(
            _table(
                ["start (UTC)", "end (UTC)", "minutes", "attempts", "failures", "error rate"],
                [
                    [
                        _e(iso(b.start)),
                        _e(iso(b.end)),
                        _e(b.minutes),
                        _e(b.attempts),
                        _e(b.failures),
                        _e(pct(b.error_rate, 2)),
                    ]
                    for b in report.breaches
                ],
            )
        )
    else:
        parts.append("<p>No breaches.</p>")
    contact = support.escalation_contact
    parts += [
        "<h3>Support</h3>",
        _table(
            ["response time", "resolution time", "escalation"],
            [
                [
                    _e(duration(support.response_time)),
                    _e(duration(support.resolution_time)),
                    _e(f"{contact} after {duration(support.escalation_after)}" if contact else "-"),
                ]
            ],
        ),
        "</section>",
    ]
    return "\n".join(parts)


def render_html(reports: Sequence[SlaReport], *, series: Mapping[str, Sequence[DailyPoint]]) -> str:
    """A standalone page; ``series`` maps a report's name to its :func:`daily_series`."""
    body = "\n".join(_section(r, series.get(r.name, ())) for r in reports)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>seawall SLA report</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<h1>SLA report</h1>\n"
        f"{body or '<p>No SLAs configured.</p>'}\n</body>\n</html>\n"
    )
