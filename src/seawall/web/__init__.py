"""The admin API and its helpers."""

from __future__ import annotations

from seawall.web._admin import ROUTES, AdminContext, build_admin_app
from seawall.web._auth import Identity, TokenBook
from seawall.web._recent import RecentCalls

__all__ = ["ROUTES", "AdminContext", "Identity", "RecentCalls", "TokenBook", "build_admin_app"]
