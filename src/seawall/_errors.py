"""The one exception tree of seawall.

Every error seawall raises derives from :class:`SeawallError`; third-party
exceptions (httpx, aiohttp, SQLAlchemy, redis, YAML) are translated where they
enter, so an application catches seawall's names only::

    SeawallError
    ├── ConfigError                 the configuration is invalid (carries findings)
    ├── PolicyRejected              seawall itself refused or stopped the call
    │   ├── CircuitOpen             the provider's breaker is open
    │   ├── RateLimited             the token bucket cannot admit the call in time
    │   ├── BulkheadFull            too many concurrent calls and the queue is full
    │   ├── BudgetExhausted         the retry budget forbids another attempt
    │   ├── DeadlineExceeded        the overall deadline ran out
    │   ├── NoProvider              no provider can take the call
    │   └── UnknownIntegration      the configuration has no such integration
    ├── UpstreamError               the vendor failed
    │   ├── UpstreamTimeout         an attempt timed out
    │   ├── UpstreamConnectError    the vendor could not be reached
    │   ├── UpstreamStatus          the vendor answered with a failing status
    │   └── EgressDenied            the vendor address is not allowed (SSRF guard)
    ├── StoreError                  the durable store failed
    ├── IncidentError               an incident cannot do what was asked
    └── NotificationError           a notification could not be delivered
"""

from __future__ import annotations

__all__ = [
    "BudgetExhausted",
    "BulkheadFull",
    "CircuitOpen",
    "ConfigError",
    "DeadlineExceeded",
    "EgressDenied",
    "IncidentError",
    "NoProvider",
    "NotificationError",
    "PolicyRejected",
    "RateLimited",
    "SeawallError",
    "StoreError",
    "UnknownIntegration",
    "UpstreamConnectError",
    "UpstreamError",
    "UpstreamStatus",
    "UpstreamTimeout",
]


class SeawallError(Exception):
    """Root of every error seawall raises.

    ``integration``, ``provider`` and ``attempts`` say which call failed and how
    far it got; ``reason`` is a stable machine-readable slug (``circuit-open``,
    ``upstream-timeout`` ...), the same one the gateway puts in problem details.
    """

    reason: str = "error"

    def __init__(
        self,
        message: str,
        *,
        integration: str | None = None,
        provider: str | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.integration = integration
        self.provider = provider
        self.attempts = attempts
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = []
        if self.integration:
            where.append(f"integration={self.integration}")
        if self.provider:
            where.append(f"provider={self.provider}")
        if self.attempts:
            where.append(f"attempts={self.attempts}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.message}{suffix}"


class ConfigError(SeawallError):
    """The configuration is invalid; ``findings`` lists every problem found."""

    reason = "config-invalid"

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class PolicyRejected(SeawallError):
    """seawall itself refused or stopped the call; the vendor may be fine."""

    reason = "rejected"


class CircuitOpen(PolicyRejected):
    """The provider's circuit breaker is open (or forced open by an operator)."""

    reason = "circuit-open"


class RateLimited(PolicyRejected):
    """The rate limit cannot admit the call within its deadline."""

    reason = "rate-limited"


class BulkheadFull(PolicyRejected):
    """Too many concurrent calls, and the wait queue is full or timed out."""

    reason = "bulkhead-full"


class BudgetExhausted(PolicyRejected):
    """The retry budget forbids another attempt; retrying would feed a storm."""

    reason = "retry-budget-exhausted"


class DeadlineExceeded(PolicyRejected):
    """The overall deadline ran out across attempts and failovers."""

    reason = "deadline-exceeded"


class NoProvider(PolicyRejected):
    """No provider of the integration can take the call."""

    reason = "no-provider"


class UnknownIntegration(PolicyRejected):
    """The call names an integration the configuration does not define."""

    reason = "unknown-integration"


class UpstreamError(SeawallError):
    """The vendor failed to give a usable answer."""

    reason = "upstream-error"


class UpstreamTimeout(UpstreamError):
    """An attempt ran past its timeout."""

    reason = "upstream-timeout"


class UpstreamConnectError(UpstreamError):
    """The vendor could not be reached, or the connection broke mid-call.

    ``sent`` is False only when the request certainly never left (connection
    refused, DNS failure): then even a POST is safe to send again. A dropped
    connection after sending is ambiguous -- the charge may have been made --
    and is retried only with an idempotency key.
    """

    reason = "upstream-connect-error"

    def __init__(
        self,
        message: str,
        *,
        sent: bool = True,
        integration: str | None = None,
        provider: str | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            integration=integration,
            provider=provider,
            attempts=attempts,
            retry_after=retry_after,
        )
        self.sent = sent


class UpstreamStatus(UpstreamError):
    """The vendor answered with a failing status after every allowed attempt."""

    reason = "upstream-status"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        integration: str | None = None,
        provider: str | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            integration=integration,
            provider=provider,
            attempts=attempts,
            retry_after=retry_after,
        )
        self.status = status


class EgressDenied(UpstreamError):
    """The provider's address is outside what ``gateway.egress`` allows."""

    reason = "egress-denied"


class StoreError(SeawallError):
    """The durable store could not read or write."""

    reason = "store-error"


class IncidentError(SeawallError):
    """An incident cannot move as asked (e.g. acknowledging a resolved one)."""

    reason = "incident-error"


class NotificationError(SeawallError):
    """A notification channel could not deliver."""

    reason = "notification-error"
