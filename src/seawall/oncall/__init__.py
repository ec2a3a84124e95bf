"""On call: alert rules, notifications and incidents, run as one part of the service."""

from __future__ import annotations

from seawall.oncall._evidence import EVIDENCE_WINDOW, evidence_text
from seawall.oncall._oncall import ACK_KEY, OnCall, admin_base_url, as_plain
from seawall.oncall._stores import StoreNotificationLog, StoreSilences

__all__ = [
    "ACK_KEY",
    "EVIDENCE_WINDOW",
    "OnCall",
    "StoreNotificationLog",
    "StoreSilences",
    "admin_base_url",
    "as_plain",
    "evidence_text",
]
