"""Telemetry: Prometheus metrics kept from the engine's events.

:class:`Metrics` is an :class:`~seawall._events.EventSink`; the engine never
imports it. Nothing here touches the global Prometheus registry.
"""

from __future__ import annotations

from seawall.telemetry._metrics import DURATION_BUCKETS, Metrics

__all__ = ["DURATION_BUCKETS", "Metrics"]
