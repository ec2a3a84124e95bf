"""The engine: one logical call through every policy, over any upstream."""

from __future__ import annotations

from seawall.engine._adapter import Adapter, load_adapter
from seawall.engine._engine import Engine
from seawall.engine._fallback import Outbox, ResponseCache
from seawall.engine._messages import ProviderTarget, Request, Response, Upstream, decode_fields
from seawall.engine._runtime import IntegrationRuntime, ProviderRuntime
from seawall.engine._settings import PolicySettings, policy_settings

__all__ = [
    "Adapter",
    "Engine",
    "IntegrationRuntime",
    "Outbox",
    "PolicySettings",
    "ProviderRuntime",
    "ProviderTarget",
    "Request",
    "Response",
    "ResponseCache",
    "Upstream",
    "decode_fields",
    "load_adapter",
    "policy_settings",
]
