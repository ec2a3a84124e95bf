"""Delivery in the background: one bounded queue and one task per target.

A lane per channel or contact means a dead or slow target only delays its
own messages: the others keep flowing, and one target's messages arrive in
the order they were decided (firing before resolved). Each message is tried
``attempts`` times with jittered exponential backoff, and its final outcome
goes to the :class:`NotificationLog`. Nothing here raises into the caller:
the tick that offered the message has long returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from seawall._errors import NotificationError
from seawall._secrets import redact
from seawall.notify._deliver import Deliverer
from seawall.notify._log import DeliveryStatus, Notice, NotificationLog, TargetKind
from seawall.notify._status import TargetStatus
from seawall.policies import BackoffSettings, backoff_delay

__all__ = ["DeliveryLanes"]

log = logging.getLogger("seawall.notify")

UrlOf = Callable[[TargetKind, str], SecretStr | None]


@dataclass(slots=True)
class _Job:
    notice: Notice
    #: monotonic seconds when offered: the record's time is the notice's plus the delay
    offered: float


@dataclass(slots=True)
class _Counts:
    delivered: int = 0
    failed: int = 0
    last_status: DeliveryStatus | None = None
    last_error: str | None = None
    last_at: float | None = None


@dataclass(slots=True)
class _Lane:
    queue: asyncio.Queue[_Job]
    task: asyncio.Task[None] | None = None
    current: _Job | None = None


class DeliveryLanes:
    """Queues notices per target and delivers them with retries."""

    def __init__(
        self,
        *,
        deliverer: Deliverer,
        log: NotificationLog,
        url_of: UrlOf,
        attempts: int = 4,
        backoff: BackoffSettings | None = None,
        queue_size: int = 100,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 1:
            msg = f"delivery attempts must be at least 1, not {attempts}"
            raise ValueError(msg)
        if queue_size < 1:
            msg = f"the delivery queue holds at least 1 message, not {queue_size}"
            raise ValueError(msg)
        self._deliverer = deliverer
        self._log = log
        self._url_of = url_of
        self._attempts = attempts
        self._backoff = backoff or BackoffSettings(initial=2.0, max=60.0)
        self._queue_size = queue_size
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._lanes: dict[tuple[TargetKind, str], _Lane] = {}
        self._counts: dict[tuple[TargetKind, str], _Counts] = {}
        self._running = False
        self._closed = False

    @property
    def running(self) -> bool:
        return self._running

    def _lane(self, kind: TargetKind, name: str) -> _Lane:
        lane = self._lanes.get((kind, name))
        if lane is None:
            lane = _Lane(queue=asyncio.Queue(self._queue_size))
            self._lanes[(kind, name)] = lane
            if self._running:
                self._spawn(kind, name, lane)
        return lane

    def _spawn(self, kind: TargetKind, name: str, lane: _Lane) -> None:
        lane.task = asyncio.create_task(self._run(lane), name=f"seawall-notify-{kind}-{name}")

    def offer(self, notice: Notice) -> str | None:
        """Queue ``notice``; None when queued, else why not (full, stopped)."""
        if self._closed:
            return "notifications are stopped"
        lane = self._lane(notice.target_kind, notice.target)
        try:
            lane.queue.put_nowait(_Job(notice, self._monotonic()))
        except asyncio.QueueFull:
            return f"the delivery queue of {notice.target} is full ({self._queue_size} waiting)"
        return None

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._closed = False
        for (kind, name), lane in self._lanes.items():
            if lane.task is None:
                self._spawn(kind, name, lane)

    async def drain(self, timeout: float) -> bool:
        """Wait until every queued notice has its outcome; False on timeout."""
        pending = [lane for lane in self._lanes.values() if lane.queue.qsize() or lane.current]
        if not pending:
            return True
        if not self._running:
            return False
        try:
            await asyncio.wait_for(
                asyncio.gather(*(lane.queue.join() for lane in pending)), timeout
            )
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float) -> None:
        """Deliver what is queued for up to ``timeout`` seconds, then give up on the rest.

        Messages left undelivered are recorded as failed, so the log shows them.
        """
        self._closed = True
        await self.drain(timeout)
        left: list[_Job] = []
        for lane in self._lanes.values():
            if lane.current is not None:
                left.append(lane.current)
            while not lane.queue.empty():
                left.append(lane.queue.get_nowait())
                lane.queue.task_done()
            if lane.task is not None:
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
                lane.task = None
            lane.current = None
        self._running = False
        for job in left:
            await self.finish(
                job.notice, "failed", 0, "not delivered: notifications stopped", at=self._at(job)
            )

    def _at(self, job: _Job) -> float:
        return job.notice.at + max(0.0, self._monotonic() - job.offered)

    async def _run(self, lane: _Lane) -> None:
        while True:
            job = await lane.queue.get()
            lane.current = job
            try:
                await self._deliver(job)
            finally:
                lane.current = None
                lane.queue.task_done()

    async def _deliver(self, job: _Job) -> None:
        notice = job.notice
        url = self._url_of(notice.target_kind, notice.target)
        if url is None:
            await self.finish(notice, "failed", 0, f"{notice.target} has no URL", at=self._at(job))
            return
        raw = url.get_secret_value()
        error = ""
        for attempt in range(1, self._attempts + 1):
            try:
                await self._deliverer.send(
                    notice.target, url, title=notice.title, body=notice.body, kind=notice.kind
                )
            except NotificationError as exc:
                error = redact(str(exc), raw)
            except Exception as exc:  # noqa: BLE001 - a foreign deliverer may raise anything
                error = redact(f"{notice.target}: {type(exc).__name__}: {exc}", raw)[:500]
            else:
                await self.finish(notice, "delivered", attempt, None, at=self._at(job))
                return
            if attempt < self._attempts:
                await asyncio.sleep(backoff_delay(self._backoff, attempt, self._rng))
        log.warning(
            "%s notification to %s %s failed after %d attempts: %s",
            notice.kind,
            notice.target_kind,
            notice.target,
            self._attempts,
            error,
        )
        await self.finish(notice, "failed", self._attempts, error, at=self._at(job))

    async def finish(
        self,
        notice: Notice,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        *,
        at: float,
    ) -> None:
        """Count and record one final outcome; a failing log is reported, never raised."""
        counts = self._counts.setdefault((notice.target_kind, notice.target), _Counts())
        if status == "delivered":
            counts.delivered += 1
        else:
            counts.failed += 1
            counts.last_error = error
        counts.last_status = status
        counts.last_at = at
        try:
            await self._log.record(
                at=at,
                group_key=notice.group_key,
                target=notice.target,
                target_kind=notice.target_kind,
                kind=notice.kind,
                step=notice.step,
                status=status,
                attempts=attempts,
                error=error,
                fingerprints=notice.fingerprints,
            )
        except Exception as exc:  # noqa: BLE001 - the log's store may fail in any way
            log.warning("could not record a notification outcome: %s", type(exc).__name__)

    def queued(self) -> int:
        return sum(lane.queue.qsize() + (lane.current is not None) for lane in self._lanes.values())

    def status(self) -> tuple[TargetStatus, ...]:
        rows: list[TargetStatus] = []
        for key in sorted(self._lanes.keys() | self._counts.keys()):
            kind, name = key
            lane = self._lanes.get(key)
            counts = self._counts.get(key) or _Counts()
            queued = 0 if lane is None else lane.queue.qsize() + (lane.current is not None)
            rows.append(
                TargetStatus(
                    target=name,
                    target_kind=kind,
                    delivered=counts.delivered,
                    failed=counts.failed,
                    queued=queued,
                    last_status=counts.last_status,
                    last_error=counts.last_error,
                    last_at=counts.last_at,
                )
            )
        return tuple(rows)
