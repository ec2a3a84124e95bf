"""Telemetry: Prometheus metrics and stored rollups kept from the engine's events.

:class:`Metrics` and :class:`Recorder` are :class:`~seawall._events.EventSink`
implementations; the engine never imports them. Nothing here touches the
global Prometheus registry.
"""

from __future__ import annotations

from seawall.telemetry._metrics import DURATION_BUCKETS, Metrics
from seawall.telemetry._recorder import Recorder

__all__ = ["DURATION_BUCKETS", "Metrics", "Recorder"]
