"""How incident reports and timelines spell times and spans."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "span"]


def iso(ts: float) -> str:
    """``2026-11-30T23:59:00Z``: a Unix time in UTC, to the second."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(seconds: float | None) -> str:
    """``750`` -> ``12m 30s``; ``3725`` -> ``1h 2m 5s``; ``-`` for None."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    if secs or not parts:
        parts.append(f"{secs}s")
    return sign + " ".join(parts)
