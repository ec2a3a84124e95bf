"""Durable state: one SQLAlchemy Core schema on SQLite or PostgreSQL, Alembic migrations.

::

    store = await Store.open("sqlite:///.seawall/state.db")
    message_id = await store.outbox.enqueue("email", method="POST", target="/v3/mail/send",
                                            body=b"...", order_key="ada@example.com",
                                            now=time.time())
    ...  # now the caller may be told 202 Accepted
    await store.close()
"""

from __future__ import annotations

from seawall.store._database import redact_url
from seawall.store._event_log import EventLog, EventRecord
from seawall.store._outbox import Outbox, OutboxMessage, OutboxState
from seawall.store._rollup_row import LATENCY_BOUNDS, RollupRow
from seawall.store._rollups import MaintenanceWindow, Rollups
from seawall.store._store import Store

__all__ = [
    "LATENCY_BOUNDS",
    "EventLog",
    "EventRecord",
    "MaintenanceWindow",
    "Outbox",
    "OutboxMessage",
    "OutboxState",
    "RollupRow",
    "Rollups",
    "Store",
    "redact_url",
]
