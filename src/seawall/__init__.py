"""seawall keeps a web platform working when the vendors it depends on fail."""

from __future__ import annotations

from seawall._errors import (
    BudgetExhausted,
    BulkheadFull,
    CircuitOpen,
    ConfigError,
    DeadlineExceeded,
    EgressDenied,
    NoProvider,
    NotificationError,
    PolicyRejected,
    RateLimited,
    SeawallError,
    StoreError,
    UnknownIntegration,
    UpstreamConnectError,
    UpstreamError,
    UpstreamStatus,
    UpstreamTimeout,
)
from seawall.config import Config, load_config
from seawall.engine import Engine
from seawall.transports import CallInfo, SyncTransport, Transport

__version__ = "0.1.0"

__all__ = [
    "BudgetExhausted",
    "BulkheadFull",
    "CallInfo",
    "CircuitOpen",
    "Config",
    "ConfigError",
    "DeadlineExceeded",
    "EgressDenied",
    "Engine",
    "NoProvider",
    "NotificationError",
    "PolicyRejected",
    "RateLimited",
    "SeawallError",
    "StoreError",
    "SyncTransport",
    "Transport",
    "UnknownIntegration",
    "UpstreamConnectError",
    "UpstreamError",
    "UpstreamStatus",
    "UpstreamTimeout",
    "load_config",
]
