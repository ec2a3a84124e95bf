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

from seawall.store._alerts import AlertEpisode, AlertEpisodes, FiringTransition
from seawall.store._database import redact_url
from seawall.store._event_log import EventLog, EventRecord
from seawall.store._incidents import (
    Incident,
    IncidentChange,
    IncidentDraft,
    Incidents,
    IncidentState,
    InvalidIncidentMove,
)
from seawall.store._leader import Leadership
from seawall.store._notifications import NotificationRecord, Notifications
from seawall.store._outbox import Outbox, OutboxMessage, OutboxState
from seawall.store._rollup_row import LATENCY_BOUNDS, RollupRow
from seawall.store._rollups import MaintenanceWindow, Rollups
from seawall.store._settings import Settings
from seawall.store._silences import SilenceRecord, Silences, StoredSilence
from seawall.store._store import Store

__all__ = [
    "LATENCY_BOUNDS",
    "AlertEpisode",
    "AlertEpisodes",
    "EventLog",
    "EventRecord",
    "FiringTransition",
    "Incident",
    "IncidentChange",
    "IncidentDraft",
    "IncidentState",
    "Incidents",
    "InvalidIncidentMove",
    "Leadership",
    "MaintenanceWindow",
    "NotificationRecord",
    "Notifications",
    "Outbox",
    "OutboxMessage",
    "OutboxState",
    "RollupRow",
    "Rollups",
    "Settings",
    "SilenceRecord",
    "Silences",
    "Store",
    "StoredSilence",
    "redact_url",
]
