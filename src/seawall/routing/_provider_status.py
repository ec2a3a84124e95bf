"""What the health board reports: a provider's status, its changes, a snapshot.

Kept apart from the board so the engine, telemetry and the admin API can name
these values without the detection logic around them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["HealthTransition", "ProviderHealth", "ProviderStatus"]


class ProviderStatus(enum.Enum):
    """Whether a provider takes traffic, and if not, what brings it back."""

    #: Takes traffic; its calls are watched for outliers.
    HEALTHY = "healthy"
    #: Taken out by outlier detection or an operator until its ejection time has passed.
    EJECTED = "ejected"
    #: Active probes failed ``probe_unhealthy_after`` times in a row; passing probes bring it back.
    PROBE_DOWN = "probe_down"
    #: Out of traffic until probes have passed for ``healthy_for`` seconds without a failure.
    RECOVERING = "recovering"


class HealthTransition(NamedTuple):
    """One status change; the engine turns it into an event.

    ``reason`` is a stable slug: ``consecutive-failures``, ``failure-rate``
    (to EJECTED), ``probe-failed`` (to PROBE_DOWN), ``probe-recovered`` (out of
    PROBE_DOWN), ``ejection-expired`` (out of EJECTED), ``healthy-period-passed``
    (RECOVERING to HEALTHY), ``restored-by-operator``, or the reason an
    operator gave to ``HealthBoard.eject`` (``ejected-by-operator`` by
    default).
    """

    name: str
    old: ProviderStatus
    new: ProviderStatus
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderHealth:
    """One provider's health at a moment, for the dashboard and the admin API."""

    name: str
    status: ProviderStatus
    #: Monotonic time the current ejection ends; None when not ejected.
    ejected_until: float | None
    #: The ejection multiplier: the next passive ejection lasts
    #: ``base_ejection * (ejections + 1)`` seconds, capped.
    ejections: int
    consecutive_failures: int
    window_calls: int
    window_failures: int
    probed: bool
    probe_down: bool
    #: Since when probes have passed without a failure; None when the last probe failed.
    passing_since: float | None
