"""Integrations and their providers: ``integrations.<name>``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from seawall.config._base import Model
from seawall.config._fields import (
    BaseUrl,
    CronExpr,
    Duration,
    ImportPath,
    JsonPath,
    Name,
    Percentage,
    PositiveDuration,
    Secret,
)
from seawall.config._policy import Policy

__all__ = [
    "AuthBasic",
    "AuthBearer",
    "AuthHeader",
    "AuthQuery",
    "BackupCapture",
    "CaptureMatch",
    "Contract",
    "Fallback",
    "FallbackCached",
    "FallbackNone",
    "FallbackQueue",
    "FallbackStatic",
    "Freshness",
    "HealthCheck",
    "HealthExpect",
    "Idempotency",
    "Integration",
    "IntegrationBackup",
    "MaintenanceWindow",
    "OutlierDetection",
    "Provider",
]


class AuthBearer(Model):
    type: Literal["bearer"]
    token: Secret


class AuthHeader(Model):
    type: Literal["header"]
    name: str = Field(min_length=1, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    value: Secret


class AuthBasic(Model):
    type: Literal["basic"]
    username: str
    password: Secret


class AuthQuery(Model):
    type: Literal["query"]
    name: str = Field(min_length=1)
    value: Secret


Auth = Annotated[AuthBearer | AuthHeader | AuthBasic | AuthQuery, Field(discriminator="type")]


class HealthExpect(Model):
    status: int | tuple[int, ...] = 200
    body_contains: str | None = None
    json_path: JsonPath | None = None
    json_equals: Any = None


class HealthCheck(Model):
    path: str = Field(default="/", pattern=r"^/")
    method: Literal["GET", "HEAD", "POST"] = "GET"
    interval: PositiveDuration = 10.0
    timeout: PositiveDuration = 2.0
    max_latency: Duration | None = None
    expect: HealthExpect = HealthExpect()
    healthy_after: int = Field(default=2, ge=1)
    unhealthy_after: int = Field(default=2, ge=1)


class Provider(Model):
    name: Name
    role: Literal["primary", "backup"] = "primary"
    base_url: BaseUrl
    auth: Auth | None = None
    health: HealthCheck | None = None
    weight: int = Field(default=1, ge=0, le=1000)
    adapter: ImportPath | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class Idempotency(Model):
    header: str = "Idempotency-Key"
    generate: bool = False
    ttl: PositiveDuration = 86400.0


class FallbackNone(Model):
    """Refuse clearly (503 problem details): a payment is never faked."""

    type: Literal["none"]


class FallbackCached(Model):
    """Serve the last good answer for the same request, marked stale."""

    type: Literal["cached"]
    max_age: PositiveDuration = 600.0


class FallbackStatic(Model):
    type: Literal["static"]
    status: int = Field(default=200, ge=200, le=599)
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


class FallbackQueue(Model):
    """Accept now (202), deliver later from the durable outbox."""

    type: Literal["queue"]
    max_age: PositiveDuration = 86400.0
    #: JSONPath into the JSON body naming the order key (e.g. the recipient);
    #: without it every queued write of the integration is delivered in order
    key: JsonPath | None = None
    #: how long a worker may hold a message before another may resend it
    lease: PositiveDuration = 30.0


Fallback = Annotated[
    FallbackNone | FallbackCached | FallbackStatic | FallbackQueue, Field(discriminator="type")
]


class Freshness(Model):
    max_age: PositiveDuration


class Contract(Model):
    openapi: str = Field(min_length=1)
    sample: Percentage = 1.0


_STATUS_MATCH = re.compile(r"[1-5]xx|[1-5][0-9]{2}")


def _status_match(value: object) -> str:
    text = str(value)
    if isinstance(value, bool) or not _STATUS_MATCH.fullmatch(text):
        raise PydanticCustomError("value", f"'{value}' is not a status such as 200 or 2xx")
    return text


class CaptureMatch(Model):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "*"] = "*"
    path: str = Field(min_length=1, pattern=r"^/")
    status: Annotated[str, BeforeValidator(_status_match)] = "2xx"


class BackupCapture(Model):
    match: CaptureMatch
    entity: Name
    key: JsonPath
    fields: tuple[JsonPath, ...] = ()


class IntegrationBackup(Model):
    capture: tuple[BackupCapture, ...] = Field(min_length=1)


class MaintenanceWindow(Model):
    provider: Name
    cron: CronExpr
    duration: PositiveDuration
    timezone: str = "UTC"
    drain_before: Duration = 60.0


class OutlierDetection(Model):
    """Passive health from real traffic (Envoy's outlier detection) and failback."""

    consecutive_failures: int = Field(default=5, ge=1)
    failure_rate: Percentage = 0.5
    min_calls: int = Field(default=10, ge=1)
    interval: PositiveDuration = 10.0
    base_ejection: PositiveDuration = 30.0
    max_ejection: PositiveDuration = 300.0
    max_ejected: Percentage = 0.5
    #: an ejected provider takes traffic again only after this long healthy
    healthy_for: Duration = 10.0


class Integration(Model):
    description: str = ""
    criticality: Literal["critical", "high", "medium", "low"] = "medium"
    impact_per_minute: float = Field(default=0.0, ge=0)
    rto: Duration | None = None
    rpo: Duration | None = None
    routing: Literal["failover", "weighted", "least-latency"] = "failover"
    providers: tuple[Provider, ...] = Field(min_length=1)
    policy: Policy = Policy()
    idempotency: Idempotency | None = None
    fallback: Fallback = FallbackNone(type="none")
    freshness: Freshness | None = None
    contract: Contract | None = None
    backup: IntegrationBackup | None = None
    maintenance: tuple[MaintenanceWindow, ...] = ()
    outlier_detection: OutlierDetection = OutlierDetection()
    sla: str | None = None

    @model_validator(mode="after")
    def _one_primary_first(self) -> Integration:
        if self.routing == "failover" and all(p.role == "backup" for p in self.providers):
            raise PydanticCustomError(
                "value", "failover routing needs a provider without role: backup to start from"
            )
        return self

    def provider(self, name: str) -> Provider:
        for provider in self.providers:
            if provider.name == name:
                return provider
        raise KeyError(name)


def secret_value(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
