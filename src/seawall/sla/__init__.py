"""Vendor SLAs: availability, latency, breaches, credits and error budgets, measured.

Pure functions over rollup rows -- no I/O, no clock. The caller queries the
rows and maintenance windows and passes ``now``::

    start, end = resolve_period(sla, month="2026-11", now=time.time())
    report = build_report("stripe-standard", sla, rows, windows,
                          period_start=start, period_end=end, now=time.time())
    print(render_markdown([report]))

For a month of minute rows, let the store add them up instead: the same
report from ``Rollups.sla_summary`` (see :mod:`seawall.sla._summary`)::

    want = summary_request(start, end, now=time.time())
    summary = await store.rollups.sla_summary(
        start=want.start, end=want.end, splits=want.splits,
        integration="payments", provider="stripe", maintenance=windows,
        bad_minute_threshold=DEFAULT_BAD_MINUTE_THRESHOLD)
    report = build_summary_report("stripe-standard", sla, summary,
                                  period_start=start, period_end=end, now=time.time())

Definitions (each module's docstring cites its source):

* availability by ``calls`` is good / (good + bad) vendor attempts; by
  ``minutes`` it is good minutes / minutes, a minute being bad at a vendor
  error rate >= ``bad_minute_threshold`` (5%); declines are good, throttled
  and seawall's own rejections count for neither side;
* planned maintenance leaves numerator and denominator when the objective
  says ``exclude_maintenance``;
* latency objectives are the share of calls at or under the threshold,
  exact at a bucket bound and interpolated (flagged approximate) between;
* a credit tier's ``below`` is strictly below; the largest applicable credit wins;
* error budget remaining is 1 - consumed / (1 - target), burn rate the bad
  fraction over (1 - target), as in the Google SRE Workbook.
"""

from __future__ import annotations

from seawall.sla._availability import DEFAULT_BAD_MINUTE_THRESHOLD
from seawall.sla._budget import BURN_WINDOWS, budget_remaining, burn_rate
from seawall.sla._build import build_report
from seawall.sla._credits import credit_tier
from seawall.sla._html import render_html
from seawall.sla._json import load_json, render_json, report_to_dict
from seawall.sla._latency import latency_quantile, latency_share
from seawall.sla._markdown import render_markdown
from seawall.sla._periods import month_bounds, period_bounds, resolve_period
from seawall.sla._report import (
    AvailabilityResult,
    Breach,
    BurnRateWindow,
    CreditOwed,
    DailyPoint,
    ErrorBudget,
    LatencyResult,
    LatencySummary,
    ObjectiveResult,
    PeriodInfo,
    SlaReport,
    SupportTerms,
    Totals,
)
from seawall.sla._series import daily_series
from seawall.sla._summary import (
    Summary,
    SummaryRequest,
    build_summary_report,
    summary_daily_series,
    summary_request,
    summary_rows,
)

__all__ = [
    "BURN_WINDOWS",
    "DEFAULT_BAD_MINUTE_THRESHOLD",
    "AvailabilityResult",
    "Breach",
    "BurnRateWindow",
    "CreditOwed",
    "DailyPoint",
    "ErrorBudget",
    "LatencyResult",
    "LatencySummary",
    "ObjectiveResult",
    "PeriodInfo",
    "SlaReport",
    "Summary",
    "SummaryRequest",
    "SupportTerms",
    "Totals",
    "budget_remaining",
    "build_report",
    "build_summary_report",
    "burn_rate",
    "credit_tier",
    "daily_series",
    "latency_quantile",
    "latency_share",
    "load_json",
    "month_bounds",
    "period_bounds",
    "render_html",
    "render_json",
    "render_markdown",
    "report_to_dict",
    "resolve_period",
    "summary_daily_series",
    "summary_request",
    "summary_rows",
]
