"""The egress guard: which vendor addresses seawall may connect to (SSRF protection).

:class:`EgressPolicy` judges an address (pure); :func:`check_url_host` applies it
to IP-literal URL hosts, and :class:`GuardedResolver` to every address a
hostname resolves to, at connect time inside aiohttp's connector.
"""

from __future__ import annotations

from seawall.security._egress import EgressPolicy, EgressSettings, check_url_host
from seawall.security._resolver import GuardedResolver

__all__ = [
    "EgressPolicy",
    "EgressSettings",
    "GuardedResolver",
    "check_url_host",
]
