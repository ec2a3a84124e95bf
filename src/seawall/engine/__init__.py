"""The engine: one logical call through every policy, over any upstream."""

from __future__ import annotations

from seawall.engine._engine import Engine
from seawall.engine._messages import ProviderTarget, Request, Response, Upstream
from seawall.engine._runtime import IntegrationRuntime, ProviderRuntime
from seawall.engine._settings import PolicySettings, policy_settings

__all__ = [
    "Engine",
    "IntegrationRuntime",
    "PolicySettings",
    "ProviderRuntime",
    "ProviderTarget",
    "Request",
    "Response",
    "Upstream",
    "policy_settings",
]
