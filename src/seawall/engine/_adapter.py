"""Adapters translate a call between vendor dialects.

An integration speaks its primary provider's API (the *canonical* dialect):
the application and the gateway's callers write Stripe or SendGrid requests.
A backup provider with ``adapter: module:Class`` gets each request translated
to its own API and its answer translated back, so failing over from Stripe to
Adyen needs no change in the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from seawall._errors import ConfigError
from seawall.config import import_object
from seawall.engine._messages import Request, Response

__all__ = ["Adapter", "load_adapter"]


@runtime_checkable
class Adapter(Protocol):
    """Pure translation; no I/O. Constructed once, with no arguments."""

    def to_provider(self, request: Request) -> Request:
        """The canonical request in this provider's dialect (method, path, headers, body).

        Keep the idempotency header: the backup must see the same key on every
        retry, or a failover could charge twice.
        """
        ...

    def from_provider(self, response: Response, request: Request) -> Response:
        """This provider's answer in the canonical dialect; ``request`` is the
        canonical request that was translated."""
        ...


def load_adapter(target: str, *, search: Path | None = None) -> Adapter:
    """Import ``module:Class`` (the configuration's folder is searched first) and build it."""
    try:
        factory = import_object(target, search)
    except ImportError as exc:
        msg = f"adapter {target} cannot be loaded: {exc}"
        raise ConfigError(msg) from exc
    adapter = factory() if callable(factory) else factory
    if not isinstance(adapter, Adapter):
        msg = f"adapter {target} lacks to_provider(request) and from_provider(response, request)"
        raise ConfigError(msg)
    return adapter
