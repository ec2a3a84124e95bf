"""The admin API and its helpers."""

from __future__ import annotations

from seawall.web._admin import ROUTES, AdminContext, build_admin_app
from seawall.web._auth import Identity, TokenBook
from seawall.web._oncall import incident_view
from seawall.web._operations import UUID_PATTERN, message_view
from seawall.web._recent import RecentCalls
from seawall.web._sla import SlaReports, current_month, measure_slas

__all__ = [
    "ROUTES",
    "UUID_PATTERN",
    "AdminContext",
    "Identity",
    "RecentCalls",
    "SlaReports",
    "TokenBook",
    "build_admin_app",
    "current_month",
    "incident_view",
    "measure_slas",
    "message_view",
]
