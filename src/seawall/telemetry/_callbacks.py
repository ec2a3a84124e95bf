"""Gauges read from live engine state when Prometheus scrapes, not kept in step by events.

A counter the engine already keeps (``IntegrationRuntime.inflight``, the
bulkhead's ``queued``) is the truth; mirroring it from events would drift the
first time an event is missed, so the gauge asks for the value at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

__all__ = ["GaugeCallback", "LabelValues", "ReadGauge"]

_log = logging.getLogger("seawall.telemetry")

#: one series' label values, in the order of the gauge's label names
LabelValues = tuple[str, ...]
#: returns the current value of every series, keyed by label values
ReadGauge = Callable[[], Mapping[LabelValues, float]]


class GaugeCallback:
    """A Prometheus collector that asks ``read`` for every series at each scrape.

    A failing ``read`` costs only its own gauge: it is logged and the family is
    exposed without samples, so the rest of the scrape still succeeds.
    """

    __slots__ = ("documentation", "labels", "name", "read")

    def __init__(
        self, *, name: str, documentation: str, labels: LabelValues, read: ReadGauge
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.read = read

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.documentation, labels=self.labels)

    def describe(self) -> list[Metric]:
        """The family's name, so the registry refuses a second metric of the same name."""
        return [self._family()]

    def collect(self) -> list[Metric]:
        family = self._family()
        try:
            for values, value in self.read().items():
                if len(values) != len(self.labels):
                    msg = f"{self.name}: label values {values!r} do not match {self.labels!r}"
                    raise ValueError(msg)
                family.add_metric(values, float(value))
        except Exception:  # noqa: BLE001 - a broken reader must not fail the whole scrape
            _log.warning("could not read %s; exposing it without samples", self.name, exc_info=True)
            return [self._family()]
        return [family]
