"""Provider selection: routing strategies, health and outlier state, maintenance windows.

Pure like ``seawall.policies``: no I/O, no sleeping, no clock reads. Monotonic
``now`` and Unix ``wall`` times are passed in, randomness comes from an
injected :class:`random.Random`. The engine combines the three parts for each
call::

    down = calendar.unavailable(wall)                  # maintenance, draining
    available = board.available(now) - down            # healthy and not in maintenance
    for name in strategy.order(available, now):        # available first, then panic mode
        strategy.start(name)
        ...                                            # one attempt
        strategy.finish(name, latency, now, ok=ok)
        board.record(name, ok=ok, now=now)             # only vendor-caused failures
"""

from __future__ import annotations

from seawall.routing._health import HealthBoard, OutlierSettings
from seawall.routing._maintenance import ActiveWindow, MaintenanceCalendar, Phase, Window
from seawall.routing._provider_status import HealthTransition, ProviderHealth, ProviderStatus
from seawall.routing._strategies import (
    FailoverStrategy,
    LeastLatencyStrategy,
    RoutingKind,
    RoutingStrategy,
    WeightedStrategy,
    build_strategy,
)

__all__ = [
    "ActiveWindow",
    "FailoverStrategy",
    "HealthBoard",
    "HealthTransition",
    "LeastLatencyStrategy",
    "MaintenanceCalendar",
    "OutlierSettings",
    "Phase",
    "ProviderHealth",
    "ProviderStatus",
    "RoutingKind",
    "RoutingStrategy",
    "WeightedStrategy",
    "Window",
    "build_strategy",
]
