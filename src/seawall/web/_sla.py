"""SLA reports from the store: ``GET /api/v1/sla`` and what ``seawall sla report`` prints.

Each report is built from one ``Rollups.sla_summary`` per SLA -- the database
adds the month up, Python reads back the few rows a sum cannot stand for --
and is the very report :func:`seawall.sla.build_report` makes from every row.
The maintenance windows excused are the planned ones the store recorded; one
still open lasts until the report's measured end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from seawall._errors import StoreError
from seawall.config import Sla
from seawall.sla import (
    DEFAULT_BAD_MINUTE_THRESHOLD,
    DailyPoint,
    SlaReport,
    build_report,
    build_summary_report,
    daily_series,
    month_bounds,
    render_json,
    summary_daily_series,
    summary_request,
)
from seawall.store import Store
from seawall.web._operations import CONTEXT, NAME_PATTERN, Invalid, with_problems

__all__ = ["MONTH_PATTERN", "SlaReports", "current_month", "get_sla", "measure_slas"]

#: a report's month, as the API documents and checks it (years 1970 to 2999)
MONTH_PATTERN = r"(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])"


@dataclass(frozen=True, slots=True)
class SlaReports:
    """Reports in configuration order, and each one's daily points when asked for."""

    reports: list[SlaReport]
    series: dict[str, tuple[DailyPoint, ...]] = field(default_factory=dict)


def current_month(now: float) -> str:
    """``2026-11``: the calendar month (UTC) that ``now`` falls in."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


async def _measure(
    store: Store | None,
    slas: Mapping[str, Sla],
    names: Sequence[str],
    bounds: tuple[float, float],
    *,
    now: float,
    series: bool,
) -> SlaReports:
    start, end = bounds
    want = summary_request(start, end, now=now)
    measured = SlaReports([])
    if store is None:  # nothing recorded yet: the reports of no rows
        for name in names:
            sla = slas[name]
            measured.reports.append(
                build_report(name, sla, [], period_start=start, period_end=end, now=now)
            )
            if series:
                measured.series[name] = daily_series([], want.start, want.end, sla=sla)
        return measured
    windows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for window in await store.rollups.windows(start=start, end=want.end, planned=True):
        until = want.end if window.end is None else window.end  # an open one lasts until now
        windows.setdefault((window.integration, window.provider), []).append((window.start, until))
    for name in names:
        sla = slas[name]
        integration, provider = sla.provider.split("/", 1)
        summary = await store.rollups.sla_summary(
            start=want.start,
            end=want.end,
            integration=integration,
            provider=provider,
            bad_minute_threshold=DEFAULT_BAD_MINUTE_THRESHOLD,
            maintenance=windows.get((integration, provider), ()),
            splits=want.splits,
        )
        measured.reports.append(
            build_summary_report(name, sla, summary, period_start=start, period_end=end, now=now)
        )
        if series:
            measured.series[name] = summary_daily_series(summary, want.start, want.end, sla=sla)
    return measured


async def measure_slas(
    store: Store | None,
    slas: Mapping[str, Sla],
    *,
    month: str | None,
    now: float,
    names: Sequence[str] | None = None,
    series: bool = False,
) -> SlaReports:
    """Each SLA (or those ``names``) over ``month`` (``YYYY-MM``; default the current one).

    ``store`` None measures no rows: every SLA at 100%, with no traffic noted.
    Raises ValueError for a month that is not ``YYYY-MM`` or an unknown name,
    StoreError when the store cannot be read.
    """
    bounds = month_bounds(month if month is not None else current_month(now))
    wanted = list(slas) if names is None else list(names)
    unknown = [name for name in wanted if name not in slas]
    if unknown:
        configured = ", ".join(slas) or "none"
        msg = f"no SLA named '{unknown[0]}' (configured: {configured})"
        raise ValueError(msg)
    return await _measure(store, slas, wanted, bounds, now=now, series=series)


def _single(request: web.Request, key: str) -> str | None:
    values = request.query.getall(key, [])
    if len(values) > 1:
        raise Invalid(f"give {key} once")
    return values[0] if values else None


@with_problems
async def get_sla(request: web.Request) -> web.StreamResponse:
    """Every configured SLA (or ``?sla=NAME``) over ``?month=YYYY-MM`` (default: this month)."""
    ctx = request.app[CONTEXT]
    month = _single(request, "month")
    name = _single(request, "sla")
    if month is not None and not re.fullmatch(MONTH_PATTERN, month):
        raise Invalid("month must be a month written YYYY-MM, such as 2026-11")
    if name is not None and not re.fullmatch(NAME_PATTERN, name):
        raise Invalid("sla must be an SLA name such as 'stripe-standard'")
    slas = ctx.engine().config.slas
    if name is not None and name not in slas:
        raise Invalid(f"no SLA named '{name}' (configured: {', '.join(slas) or 'none'})")
    store = ctx.store()
    if store is None:
        msg = "the store is not open yet"
        raise StoreError(msg)
    measured = await measure_slas(
        store, slas, month=month, now=ctx.wall(), names=None if name is None else [name]
    )
    return web.Response(
        body=render_json(measured.reports).encode(), content_type="application/json"
    )
