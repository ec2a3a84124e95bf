"""seawall's configuration: the YAML contract parsed into frozen, typed models."""

from __future__ import annotations

from seawall.config._findings import Finding, FindingCode, format_path
from seawall.config._integration import (
    AuthBasic,
    AuthBearer,
    AuthHeader,
    AuthQuery,
    Fallback,
    FallbackCached,
    FallbackNone,
    FallbackQueue,
    FallbackStatic,
    HealthCheck,
    Idempotency,
    Integration,
    MaintenanceWindow,
    OutlierDetection,
    Provider,
)
from seawall.config._loader import check_config, check_text, load_config
from seawall.config._model import Admin, Config, Defaults, Egress, Gateway
from seawall.config._operations import Alert, Notifications, Sla
from seawall.config._policy import (
    Backoff,
    Breaker,
    Bulkhead,
    Classification,
    Policy,
    RateLimit,
    Retry,
    RetryBudget,
)
from seawall.config._refs import import_object
from seawall.config._units import (
    UnitError,
    format_duration,
    parse_duration,
    parse_percentage,
    parse_rate,
    parse_size,
)

__all__ = [
    "Admin",
    "Alert",
    "AuthBasic",
    "AuthBearer",
    "AuthHeader",
    "AuthQuery",
    "Backoff",
    "Breaker",
    "Bulkhead",
    "Classification",
    "Config",
    "Defaults",
    "Egress",
    "Fallback",
    "FallbackCached",
    "FallbackNone",
    "FallbackQueue",
    "FallbackStatic",
    "Finding",
    "FindingCode",
    "Gateway",
    "HealthCheck",
    "Idempotency",
    "Integration",
    "MaintenanceWindow",
    "Notifications",
    "OutlierDetection",
    "Policy",
    "Provider",
    "RateLimit",
    "Retry",
    "RetryBudget",
    "Sla",
    "UnitError",
    "check_config",
    "check_text",
    "format_duration",
    "format_path",
    "import_object",
    "load_config",
    "parse_duration",
    "parse_percentage",
    "parse_rate",
    "parse_size",
]
