"""The egress gateway: any language's vendor calls through seawall's engine."""

from __future__ import annotations

from seawall.gateway._problems import error_response, problem_response, status_for
from seawall.gateway._server import GatewayServer

__all__ = ["GatewayServer", "error_response", "problem_response", "status_for"]
