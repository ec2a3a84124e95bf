"""What the notifier decided to send, and where every outcome is recorded.

A :class:`Notice` is one message to one target, decided by a tick. Its final
outcome (delivered, or failed after every attempt) goes to a
:class:`NotificationLog`; the store implements it durably,
:class:`MemoryNotificationLog` keeps the latest records in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "DeliveryStatus",
    "MemoryNotificationLog",
    "Notice",
    "NoticeKind",
    "NotificationLog",
    "NotificationRecord",
    "TargetKind",
]

#: ``firing``: a group's first message or a change; ``repeat``: still firing,
#: unchanged; ``resolved``: all resolved; ``escalation``: a step of a chain;
#: ``unreachable``: a contact seawall cannot reach, or the request to call them
NoticeKind = Literal["firing", "resolved", "repeat", "escalation", "unreachable"]
TargetKind = Literal["channel", "contact"]
DeliveryStatus = Literal["delivered", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One message to one target (a channel or contact name, never its URL)."""

    at: float
    group_key: str
    target: str
    target_kind: TargetKind
    kind: NoticeKind
    step: int | None
    title: str
    body: str
    fingerprints: tuple[str, ...]


class NotificationLog(Protocol):
    """Receives the final outcome of every notification."""

    async def record(
        self,
        *,
        at: float,
        group_key: str,
        target: str,
        target_kind: TargetKind,
        kind: NoticeKind,
        step: int | None,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        fingerprints: Sequence[str],
    ) -> None:
        """Keep one outcome; ``error`` never holds a URL or its secrets."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRecord:
    """One outcome, as :class:`MemoryNotificationLog` keeps it."""

    at: float
    group_key: str
    target: str
    target_kind: TargetKind
    kind: NoticeKind
    step: int | None
    status: DeliveryStatus
    attempts: int
    error: str | None
    fingerprints: tuple[str, ...]


class MemoryNotificationLog:
    """The latest ``limit`` outcomes in memory: the default, and for tests."""

    def __init__(self, limit: int = 1000) -> None:
        self._records: deque[NotificationRecord] = deque(maxlen=limit)

    @property
    def records(self) -> tuple[NotificationRecord, ...]:
        return tuple(self._records)

    async def record(
        self,
        *,
        at: float,
        group_key: str,
        target: str,
        target_kind: TargetKind,
        kind: NoticeKind,
        step: int | None,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        fingerprints: Sequence[str],
    ) -> None:
        self._records.append(
            NotificationRecord(
                at=at,
                group_key=group_key,
                target=target,
                target_kind=target_kind,
                kind=kind,
                step=step,
                status=status,
                attempts=attempts,
                error=error,
                fingerprints=tuple(fingerprints),
            )
        )
