"""How reports spell numbers: percentages, latencies, money, times."""

from __future__ import annotations

from seawall.config import format_duration
from seawall.sla._periods import iso

__all__ = ["duration", "iso", "latency", "money", "pct", "rate"]


def pct(fraction: float | None, places: int = 4) -> str:
    """``0.9990740740`` -> ``99.9907%``: trailing zeros dropped, ``-`` for none."""
    if fraction is None:
        return "-"
    text = f"{fraction * 100:.{places}f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}%"


def latency(seconds: float | None) -> str:
    """``0.8`` -> ``800 ms``; ``2.5`` -> ``2.5 s``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.4g} ms"
    return f"{seconds:.4g} s"


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)
