"""SLAs, alerts, notifications, backups and governance."""

from __future__ import annotations

import base64
import binascii
import typing
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from seawall.config._base import Model
from seawall.config._fields import (
    AppriseUrl,
    Duration,
    JsonPath,
    Name,
    Percentage,
    PositiveDuration,
    Secret,
)
from seawall.config._units import UnitError, parse_duration, parse_percentage

__all__ = [
    "AdminToken",
    "Alert",
    "AvailabilityObjective",
    "Backups",
    "BaselineSpec",
    "BurnRate",
    "Channel",
    "Contact",
    "Credit",
    "EscalationStep",
    "Governance",
    "LatencyObjective",
    "Notifications",
    "Route",
    "Silence",
    "Sla",
    "SlaEscalation",
    "Support",
]

Severity = Literal["critical", "warning", "info"]


class AvailabilityObjective(Model):
    metric: Literal["availability"]
    target: Percentage
    #: what counts: successful calls over all calls, or minutes without an outage
    measure: Literal["calls", "minutes"] = "minutes"
    exclude_maintenance: bool = True


class LatencyObjective(Model):
    metric: Literal["latency"]
    percentile: float = Field(gt=0, lt=100)
    threshold: PositiveDuration
    target: Percentage


Objective = Annotated[AvailabilityObjective | LatencyObjective, Field(discriminator="metric")]


class Support(Model):
    response_time: Duration | None = None
    resolution_time: Duration | None = None


class Credit(Model):
    below: Percentage
    credit: Percentage


class SlaEscalation(Model):
    contact: str
    after: Duration = 0.0


def _period(value: object) -> object:
    if value in ("monthly", "weekly", "daily", "quarterly"):
        return value
    try:
        return parse_duration(value)
    except UnitError:
        raise PydanticCustomError(
            "value",
            f"'{value}' is not a period: monthly, weekly, daily, quarterly or a rolling 30d",
        ) from None


class Sla(Model):
    provider: str = Field(pattern=r"^[^/]+/[^/]+$")
    period: Annotated[
        Literal["monthly", "weekly", "daily", "quarterly"] | float, BeforeValidator(_period)
    ] = "monthly"
    objectives: tuple[Objective, ...] = Field(min_length=1)
    support: Support = Support()
    credits: tuple[Credit, ...] = ()
    monthly_fee: float = Field(default=0.0, ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    escalation: SlaEscalation | None = None

    @model_validator(mode="after")
    def _credit_tiers(self) -> Sla:
        thresholds = [c.below for c in self.credits]
        if thresholds != sorted(thresholds, reverse=True):
            raise PydanticCustomError(
                "value", "credit tiers must go from the highest 'below' to the lowest"
            )
        return self


class BaselineSpec(Model):
    window: PositiveDuration = 7 * 86400.0
    seasonality: Literal["none", "hour-of-day", "hour-of-week"] = "hour-of-week"
    deviations: float = Field(default=3.0, gt=0)
    direction: Literal["above", "below", "both"] = "above"
    min_samples: int = Field(default=3, ge=1)
    #: a deviation this many times the spread fires at once, without waiting for ``for:``
    spike: float | None = Field(default=None, gt=0)


class BurnRate(Model):
    long: PositiveDuration
    short: PositiveDuration
    factor: float = Field(gt=0)


_METRIC = Literal[
    "error_rate",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "throughput",
    "availability",
    "freshness",
    "backup_age",
    "no_data",
]


def _threshold(metric: str | None, value: Any) -> float | str:
    """Thresholds are read in the unit of their metric."""
    if value == "rpo" and metric == "backup_age":
        return "rpo"
    if metric not in typing.get_args(_METRIC):
        return value if isinstance(value, str) else float(value)  # the metric is reported
    try:
        if metric in ("error_rate", "availability"):
            return parse_percentage(value)
        if metric in ("latency_p50", "latency_p95", "latency_p99", "backup_age", "freshness"):
            return parse_duration(value)
    except UnitError as exc:
        raise PydanticCustomError("unit", f"{exc} (the unit of {metric})") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and "/" in value:
        from seawall.config._units import parse_rate

        try:
            return parse_rate(value)
        except UnitError as exc:
            raise PydanticCustomError("unit", str(exc)) from None
    raise PydanticCustomError("type", f"'{value}' is not a threshold for {metric}")


class Alert(Model):
    name: Name
    integration: str | None = None
    provider: str | None = None
    sla: str | None = None
    metric: _METRIC | None = None
    above: float | str | None = None
    below: float | str | None = None
    baseline: BaselineSpec | None = None
    burn_rate: BurnRate | None = None
    for_: Duration = Field(default=0.0, alias="for")
    keep_firing_for: Duration = 0.0
    #: the span the metric is measured over at each evaluation (default: 1m, 5m for a baseline)
    window: PositiveDuration | None = None
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str = ""

    @model_validator(mode="before")
    @classmethod
    def _thresholds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            metric = data.get("metric")
            data = dict(data)
            for key in ("above", "below"):
                if data.get(key) is not None:
                    data[key] = _threshold(metric if isinstance(metric, str) else None, data[key])
        return data

    @model_validator(mode="after")
    def _one_condition(self) -> Alert:
        kinds = [
            k
            for k, on in (
                ("threshold", self.above is not None or self.below is not None),
                ("baseline", self.baseline is not None),
                ("burn_rate", self.burn_rate is not None),
            )
            if on
        ]
        if len(kinds) > 1:
            msg = f"give one condition, not {' and '.join(kinds)}"
            raise PydanticCustomError("value", msg)
        if self.burn_rate is not None and self.sla is None:
            raise PydanticCustomError("value", "a burn_rate rule needs 'sla: <name>'")
        if self.burn_rate is None and self.metric is None:
            raise PydanticCustomError("missing", "give 'metric:' (or 'burn_rate:' with 'sla:')")
        if self.metric in ("freshness", "no_data") or self.burn_rate is not None:
            return self
        if self.metric == "backup_age":
            if self.above is None:
                raise PydanticCustomError(
                    "value", "backup_age needs 'above: <duration>' or 'above: rpo'"
                )
            return self
        if not kinds:
            raise PydanticCustomError(
                "value", f"metric {self.metric} needs 'above:', 'below:' or 'baseline:'"
            )
        if self.integration is None and self.metric is not None:
            raise PydanticCustomError("value", f"metric {self.metric} needs 'integration:'")
        return self


class Channel(Model):
    url: AppriseUrl
    send_resolved: bool = True


class Contact(Model):
    name: str
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = None
    url: AppriseUrl | None = None


class Route(Model):
    match: dict[str, str] = Field(default_factory=dict)
    channels: tuple[str, ...] = ()
    escalation: str | None = None
    group_by: tuple[str, ...] = ("integration",)
    continue_: bool = Field(default=False, alias="continue")

    @model_validator(mode="after")
    def _has_target(self) -> Route:
        if not self.channels and self.escalation is None:
            raise PydanticCustomError("missing", "a route needs 'channels:' or 'escalation:'")
        return self


class EscalationStep(Model):
    after: Duration
    notify: tuple[str, ...] = Field(min_length=1)
    role: str = ""


class Silence(Model):
    matchers: dict[str, str] = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime
    comment: str = ""
    created_by: str = ""


class Notifications(Model):
    channels: dict[Name, Channel] = Field(default_factory=dict)
    contacts: dict[Name, Contact] = Field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    escalations: dict[Name, tuple[EscalationStep, ...]] = Field(default_factory=dict)
    repeat_every: PositiveDuration = 3600.0
    group_wait: Duration = 30.0
    #: how soon a group's changes (a new alert joining, a resolution) are sent after the first
    group_interval: Duration = 60.0
    silences: tuple[Silence, ...] = ()


def _backup_key(value: object) -> SecretStr:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        raise PydanticCustomError("type", "expected 32 bytes in base64")
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError(
            "value", "is not valid base64; generate one with: openssl rand -base64 32"
        ) from None
    if len(decoded) != 32:
        raise PydanticCustomError(
            "value",
            f"decodes to {len(decoded)} bytes, not 32; generate one with: openssl rand -base64 32",
        )
    return SecretStr(raw)


class BackupSchedule(Model):
    full: PositiveDuration = 86400.0
    incremental: PositiveDuration | None = None


class BackupRetention(Model):
    keep_last: int = Field(default=10, ge=1)
    keep_daily: int = Field(default=7, ge=0)
    keep_weekly: int = Field(default=4, ge=0)


class Backups(Model):
    storage: str = Field(pattern=r"^[a-z][a-z0-9+.-]*://")
    encryption_key: Annotated[SecretStr, BeforeValidator(_backup_key)] | None = None
    schedule: BackupSchedule = BackupSchedule()
    retention: BackupRetention = BackupRetention()


class Governance(Model):
    redact: tuple[JsonPath, ...] = ()
    encrypt_fields: tuple[JsonPath, ...] = ()
    access: dict[Literal["viewer", "operator", "admin"], tuple[str, ...]] = Field(
        default_factory=dict
    )


class AdminToken(Model):
    name: Name
    token: Secret
    role: Literal["viewer", "operator", "admin"] = "viewer"
