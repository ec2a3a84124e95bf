"""Numbers as people read them in an alert: 34.2%, 812 ms, 12.5/s, 17m; and user summaries.

A rule's own ``summary:`` may name ``{value}``, ``{threshold}`` and the
rule's labels (``{integration}``, ``{provider}`` ...). It is filled in safely:
an unknown name stays as written, and a template that cannot be filled at all
(``{0}``, a bad format spec) is shown with only ``{value}`` and
``{threshold}`` replaced -- an alert is never lost to its own wording.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

__all__ = ["fill_summary", "format_age", "format_metric", "metric_label", "percent"]

_LABELS = {
    "error_rate": "error rate",
    "availability": "availability",
    "throughput": "throughput",
    "latency_p50": "latency p50",
    "latency_p95": "latency p95",
    "latency_p99": "latency p99",
    "freshness": "time since the last success",
    "backup_age": "backup age",
    "no_data": "traffic",
}


def metric_label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " "))


def percent(fraction: float) -> str:
    """0.342 -> 34.2%, 0.05 -> 5%, 0.9999 -> 99.99%, 0.00001 -> 0.001%."""
    value = fraction * 100
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2g}%"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}%"


def _seconds(value: float) -> str:
    if abs(value) < 0.01:
        return f"{value * 1000:.2g} ms"
    if abs(value) < 10:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s"


def _rate(value: float) -> str:
    if value >= 1 or value == 0:
        return f"{value:.3g}/s"
    return f"{value * 60:.3g}/min"


def format_age(seconds: float) -> str:
    """17m, 2h5m, 3d4h, 45s: an age to the nearest unit that matters."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def format_metric(metric: str, value: float | None) -> str:
    """``value`` in ``metric``'s unit, for a person."""
    if value is None:
        return "no data"
    if metric in ("error_rate", "availability"):
        return percent(value)
    if metric.startswith("latency"):
        return _seconds(value)
    if metric == "throughput":
        return _rate(value)
    if metric in ("freshness", "backup_age"):
        return format_age(value)
    return f"{value:g}"


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_summary(template: str, fields: Mapping[str, str]) -> str:
    """``template`` with ``{name}`` filled from ``fields``; never raises (see the module)."""
    try:
        return string.Formatter().vformat(template, (), _Keep(fields))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        text = template
        for key in ("value", "threshold"):
            if key in fields:
                text = text.replace("{" + key + "}", fields[key])
        return text
