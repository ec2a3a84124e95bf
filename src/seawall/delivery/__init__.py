"""Delivery of queued writes: the durable outbox behind ``fallback: queue``."""

from __future__ import annotations

from seawall.delivery._outbox import StoreOutbox
from seawall.delivery._worker import OutboxWorker

__all__ = ["OutboxWorker", "StoreOutbox"]
