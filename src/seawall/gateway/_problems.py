"""Problem details (RFC 9457) for calls seawall refuses or gives up on.

The caller learns *why* (``reason``), for which integration, and when a retry
may help (``Retry-After``, RFC 9110 §10.2.3) -- never a bare 502.
"""

from __future__ import annotations

import json
import math

from aiohttp import web

from seawall._errors import SeawallError

__all__ = ["PROBLEM_TYPE_BASE", "problem_response", "status_for"]

PROBLEM_TYPE_BASE = "https://seawall.dev/problems/"

#: reason slug -> (HTTP status, title)
_STATUS: dict[str, tuple[int, str]] = {
    "circuit-open": (503, "The provider's circuit breaker is open"),
    "rate-limited": (429, "The integration's rate limit is reached"),
    "bulkhead-full": (503, "Too many concurrent calls to this integration"),
    "retry-budget-exhausted": (503, "Retries are suspended to protect the vendor"),
    "deadline-exceeded": (504, "The call's deadline ran out"),
    "no-provider": (503, "No provider can take the call"),
    "unknown-integration": (404, "No such integration"),
    "upstream-timeout": (504, "The vendor did not answer in time"),
    "upstream-connect-error": (502, "The vendor could not be reached"),
    "upstream-status": (502, "The vendor failed"),
    "egress-denied": (502, "The provider's address is not allowed"),
    "body-too-large": (413, "The request body is larger than gateway.max_body"),
    "bad-request": (400, "The request is malformed"),
    "head-too-large": (431, "The request's header fields are too large"),
    "internal-error": (500, "The gateway failed on this call"),
    "shutting-down": (503, "The gateway is shutting down"),
}


def status_for(reason: str) -> tuple[int, str]:
    return _STATUS.get(reason, (502, "The call failed"))


def problem_response(
    reason: str,
    detail: str,
    *,
    integration: str | None = None,
    provider: str | None = None,
    attempts: int | None = None,
    retry_after: float | None = None,
    instance: str | None = None,
) -> web.Response:
    status, title = status_for(reason)
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + reason,
        "title": title,
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    if integration is not None:
        body["integration"] = integration
    if provider is not None:
        body["provider"] = provider
    if attempts:
        body["attempts"] = attempts
    if instance is not None:
        body["instance"] = instance
    headers = {"Content-Type": "application/problem+json", "Cache-Control": "no-store"}
    if retry_after is not None and math.isfinite(retry_after):
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


def error_response(exc: SeawallError, *, instance: str | None = None) -> web.Response:
    retry_after = exc.retry_after
    if retry_after is None and exc.reason in (
        "bulkhead-full",
        "retry-budget-exhausted",
        "no-provider",
    ):
        retry_after = 1.0
    return problem_response(
        exc.reason,
        exc.message,
        integration=exc.integration,
        provider=exc.provider,
        attempts=exc.attempts,
        retry_after=retry_after,
        instance=instance,
    )
