"""Sending one message to one target: the :class:`Deliverer` seam and Apprise behind it.

The notifier speaks to any transport through one method, so a test or another
back end replaces Apprise without patching. :class:`AppriseDeliverer` keeps one
Apprise object per URL (built once, reused), bounds every send with a timeout,
and turns Apprise's failure result or exception into :class:`NotificationError`
whose message names the target and never the URL or its secrets. The URLs'
secrets are masked in Apprise's and urllib3's own debug logging too.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
from typing import Any, Protocol

from pydantic import SecretStr

from seawall._errors import NotificationError
from seawall._secrets import guard_logs, redact, scheme_of
from seawall.notify._log import NoticeKind

__all__ = ["AppriseDeliverer", "Deliverer"]

log = logging.getLogger("seawall.notify")

#: how each kind of message looks in the target (Apprise's NotifyType values)
_NOTIFY_TYPES: dict[str, str] = {
    "firing": "failure",
    "repeat": "failure",
    "escalation": "failure",
    "resolved": "success",
    "unreachable": "warning",
}
#: Apprise log lines kept in an error message, at most
_LOG_LINES = 3


class Deliverer(Protocol):
    """Sends one message; raises :class:`NotificationError` when it could not."""

    async def send(
        self,
        target_name: str,
        url: SecretStr,
        *,
        title: str,
        body: str,
        kind: NoticeKind,
    ) -> None:
        """Deliver ``title``/``body`` to ``url``; errors name ``target_name`` only."""
        ...


@functools.cache
def _apprise_takes_timeout() -> bool:
    """Apprise 2 bounds a call with ``timeout=``; Apprise 1 rejects the keyword."""
    import apprise

    return "timeout" in inspect.signature(apprise.Apprise.notify).parameters


class AppriseDeliverer:
    """Delivers through Apprise: Slack, email, SMS, webhooks, PagerDuty ...

    ``timeout`` bounds one send. ``throttle``, when given, replaces Apprise's
    per-service pause between two sends to the same URL (5.5 s for email and
    most services; 0 for json:// and form://): tests and a local relay set 0.
    """

    def __init__(self, *, timeout: float = 30.0, throttle: float | None = None) -> None:
        if not (math.isfinite(timeout) and timeout > 0):
            msg = f"the send timeout must be a positive duration, not {timeout}"
            raise ValueError(msg)
        self._timeout = timeout
        self._throttle = throttle
        self._apprise: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"AppriseDeliverer(timeout={self._timeout:g}, targets={len(self._apprise)})"

    def _client(self, target_name: str, url: SecretStr) -> Any:
        raw = url.get_secret_value()
        client = self._apprise.get(raw)
        if client is not None:
            return client
        import apprise

        guard_logs(raw)
        plugin = apprise.Apprise.instantiate(raw, suppress_exceptions=True)
        if plugin is None:
            msg = (
                f"{target_name}: Apprise does not accept the {scheme_of(raw)}:// URL; "
                "check its format in the Apprise documentation"
            )
            raise NotificationError(msg)
        if self._throttle is not None:
            plugin.request_rate_per_sec = self._throttle
        client = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        client.add(plugin)
        self._apprise[raw] = client
        return client

    async def send(
        self,
        target_name: str,
        url: SecretStr,
        *,
        title: str,
        body: str,
        kind: NoticeKind,
    ) -> None:
        raw = url.get_secret_value()
        client = self._client(target_name, url)
        options: dict[str, Any] = {"body": body, "title": title}
        options["notify_type"] = _NOTIFY_TYPES.get(kind, "info")
        if _apprise_takes_timeout():
            options["timeout"] = self._timeout
        try:
            # Apprise runs blocking services in its own threads; the outer bound
            # covers Apprise 1, which has no timeout of its own.
            result = await asyncio.wait_for(client.async_notify(**options), self._timeout + 1.0)
        except TimeoutError:
            msg = f"{target_name}: no answer within {self._timeout:g}s"
            raise NotificationError(msg) from None
        except Exception as exc:  # noqa: BLE001 - Apprise and its services raise anything
            detail = redact(str(exc), raw)
            msg = f"{target_name}: {type(exc).__name__}: {detail}"[:500]
            raise NotificationError(msg) from None
        if not result:
            raise NotificationError(f"{target_name}: {_why(result, raw)}")


def _why(result: Any, raw_url: str) -> str:
    """Apprise's own words for a failure, with the URL's secrets removed."""
    lines: list[str] = []
    logs = getattr(result, "logs", None)
    if callable(logs):
        for entry in logs():
            if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL"):
                lines.append(redact(str(getattr(entry, "message", "")), raw_url))
    status = getattr(result, "status", None)
    name = getattr(status, "name", None)
    if name == "TIMEOUT":
        lines.insert(0, "timed out")
    text = "; ".join(list(dict.fromkeys(line for line in lines if line))[:_LOG_LINES])
    return (text or "the service refused the notification")[:500]
