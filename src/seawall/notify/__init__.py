"""Alert notifications: routing, grouping, silences, escalation and delivery.

:class:`Notifier` takes the transitions the alert evaluator produces and
turns them into messages on the configured channels (any Apprise URL) and to
contacts, on Alertmanager's timing (group wait, group interval, repeat),
muted by silences and inhibitions, escalated step by step until someone
acknowledges. Deliveries run in the background with retries, and every final
outcome is recorded through a :class:`NotificationLog`.
"""

from __future__ import annotations

from seawall.notify._ack import AckSigner
from seawall.notify._deliver import AppriseDeliverer, Deliverer
from seawall.notify._log import (
    DeliveryStatus,
    MemoryNotificationLog,
    Notice,
    NoticeKind,
    NotificationLog,
    NotificationRecord,
    TargetKind,
)
from seawall.notify._messages import default_evidence
from seawall.notify._notifier import AckLink, Evidence, Inhibitor, Notifier
from seawall.notify._silences import SilenceBook, SilenceRecord, SilenceStore
from seawall.notify._status import AlertStatus, GroupStatus, NotifierStatus, TargetStatus
from seawall.notify._views import AlertView, GroupView

__all__ = [
    "AckLink",
    "AckSigner",
    "AlertStatus",
    "AlertView",
    "AppriseDeliverer",
    "Deliverer",
    "DeliveryStatus",
    "Evidence",
    "GroupStatus",
    "GroupView",
    "Inhibitor",
    "MemoryNotificationLog",
    "Notice",
    "NoticeKind",
    "NotificationLog",
    "NotificationRecord",
    "Notifier",
    "NotifierStatus",
    "SilenceBook",
    "SilenceRecord",
    "SilenceStore",
    "TargetKind",
    "TargetStatus",
    "default_evidence",
]
