"""Active health probes of providers."""

from __future__ import annotations

from seawall.probes._scheduler import ProbeScheduler, judge_probe

__all__ = ["ProbeScheduler", "judge_probe"]
