"""Reporting periods: calendar months, weeks, days and quarters in UTC, and rolling windows.

A period is a half-open interval ``[start, end)`` of Unix seconds, so a row at
2026-11-30 23:59 belongs to November and one at 2026-12-01 00:00 to December.
Weeks are ISO weeks (Monday 00:00 UTC); quarters start in January, April, July
and October. A rolling period (``period: 30d``) is the duration ending at ``now``.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from seawall.config import Sla, format_duration

__all__ = [
    "AVERAGE_MONTH",
    "iso",
    "month_bounds",
    "months_between",
    "period_bounds",
    "period_label",
    "resolve_period",
]

#: seconds in an average Gregorian month (365.2425 days / 12): the fee basis
#: for periods that are not whole calendar months
AVERAGE_MONTH = 365.2425 * 86400 / 12

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def _ts(moment: datetime) -> float:
    return float(calendar.timegm(moment.utctimetuple()))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def iso(ts: float) -> str:
    """``2026-11-30T23:59:00Z``: a Unix time in UTC, to the second."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(year: int, month: int) -> float:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return _ts(datetime(year, month, 1, tzinfo=UTC))


def month_bounds(month: str) -> tuple[float, float]:
    """``"2026-11"`` -> [2026-11-01 00:00, 2026-12-01 00:00) UTC in Unix seconds."""
    match = _MONTH.fullmatch(month.strip())
    if match is None:
        msg = f"'{month}' is not a month: write it as YYYY-MM, e.g. 2026-11"
        raise ValueError(msg)
    year, number = int(match[1]), int(match[2])
    return _month_start(year, number), _month_start(year, number + 1)


def period_bounds(period: str | float, *, now: float) -> tuple[float, float]:
    """The period that contains ``now``: a calendar month, ISO week, UTC day or
    quarter, or for a rolling duration (seconds) the window ending at ``now``."""
    if not isinstance(period, str):
        if period <= 0:
            msg = f"a rolling period must be positive, not {period} s"
            raise ValueError(msg)
        return now - period, now
    moment = _utc(now)
    if period == "monthly":
        start = _month_start(moment.year, moment.month)
        return start, _month_start(moment.year, moment.month + 1)
    if period == "quarterly":
        first = (moment.month - 1) // 3 * 3 + 1
        return _month_start(moment.year, first), _month_start(moment.year, first + 3)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if period == "daily":
        return _ts(day), _ts(day + timedelta(days=1))
    if period == "weekly":
        monday = day - timedelta(days=day.weekday())
        return _ts(monday), _ts(monday + timedelta(days=7))
    msg = f"'{period}' is not a period: monthly, weekly, daily, quarterly or a duration"
    raise ValueError(msg)


def resolve_period(sla: Sla, *, month: str | None = None, now: float) -> tuple[float, float]:
    """The bounds a report covers: ``month`` when given (a calendar month
    whatever the SLA's own period), else the SLA's period containing ``now``."""
    if month is not None:
        return month_bounds(month)
    return period_bounds(sla.period, now=now)


def _is_month_start(ts: float) -> bool:
    moment = _utc(ts)
    return ts == _ts(moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0))


def _months(start: float, end: float) -> int | None:
    """Whole calendar months from ``start`` to ``end``, if both are month starts."""
    if not (_is_month_start(start) and _is_month_start(end)) or end <= start:
        return None
    a, b = _utc(start), _utc(end)
    return (b.year - a.year) * 12 + b.month - a.month


def months_between(start: float, end: float) -> float:
    """How many months of fee ``[start, end)`` covers: exact for whole calendar
    months (a quarter is 3), otherwise its length over :data:`AVERAGE_MONTH`."""
    whole = _months(start, end)
    if whole is not None:
        return float(whole)
    return max(0.0, end - start) / AVERAGE_MONTH


def period_label(start: float, end: float) -> str:
    """``2026-11``, ``2026-Q4``, ``2026-W48``, ``2026-11-30`` or ``<start>/<end>``."""
    whole = _months(start, end)
    a = _utc(start)
    if whole == 1:
        return f"{a.year:04d}-{a.month:02d}"
    if whole == 3 and a.month in (1, 4, 7, 10):
        return f"{a.year:04d}-Q{(a.month - 1) // 3 + 1}"
    midnight = start % 86400 == 0
    if midnight and end - start == 86400:
        return a.strftime("%Y-%m-%d")
    if midnight and end - start == 7 * 86400 and a.weekday() == 0:
        year, week, _ = a.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{iso(start)}/{iso(end)} ({format_duration(end - start)})"
