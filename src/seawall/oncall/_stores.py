"""The notifier's storage protocols, met by the SQL store.

The notifier keeps live silences and delivery outcomes through small
protocols; these adapters put them in ``store.silences`` and
``store.notifications``, the latter with the incident each alert belongs to,
so an incident's report lists the notifications sent about it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from seawall.notify import DeliveryStatus, NoticeKind, SilenceRecord, TargetKind
from seawall.store import Store

__all__ = ["StoreNotificationLog", "StoreSilences"]


class StoreSilences:
    """:class:`~seawall.notify.SilenceStore` over ``store.silences``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, record: SilenceRecord) -> None:
        await self._store.silences.add(_Stored(record, time.time()))

    async def expire(self, silence_id: str, at: float) -> None:
        await self._store.silences.expire(silence_id, at)

    async def list(self) -> Sequence[SilenceRecord]:
        kept = await self._store.silences.list(ending_after=time.time())
        return [
            SilenceRecord(
                id=s.id,
                matchers={str(k): str(v) for k, v in dict(s.matchers).items()},
                starts_at=s.starts_at,
                ends_at=s.ends_at if s.expired_at is None else min(s.ends_at, s.expired_at),
                comment=s.comment,
                created_by=s.created_by,
            )
            for s in kept
        ]


class _Stored:
    """A notifier silence as ``store.silences.add`` reads it."""

    __slots__ = ("_created_at", "_record")

    def __init__(self, record: SilenceRecord, created_at: float) -> None:
        self._record = record
        self._created_at = created_at

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def matchers(self) -> object:
        return dict(self._record.matchers)

    @property
    def starts_at(self) -> float:
        return self._record.starts_at

    @property
    def ends_at(self) -> float:
        return self._record.ends_at

    @property
    def comment(self) -> str:
        return self._record.comment

    @property
    def created_by(self) -> str:
        return self._record.created_by

    @property
    def created_at(self) -> float:
        return self._created_at


class StoreNotificationLog:
    """:class:`~seawall.notify.NotificationLog` over ``store.notifications``."""

    def __init__(self, store: Store) -> None:
        self._store = store

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
        incident_id = await self._incident_of(fingerprints)
        await self._store.notifications.record(
            at=at,
            group_key=group_key,
            target=target,
            target_kind=target_kind,
            kind=kind,
            step=step,
            status=status,
            attempts=attempts,
            error=error,
            fingerprints=fingerprints,
            incident_id=incident_id,
        )

    async def _incident_of(self, fingerprints: Sequence[str]) -> int | None:
        wanted = set(fingerprints)
        if not wanted:
            return None
        for episode in await self._store.alerts.open_episodes():
            if episode.fingerprint in wanted and episode.incident_id is not None:
                return episode.incident_id
        return None
