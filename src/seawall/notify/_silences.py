"""Silences: label matchers that mute notifications for a span of time.

A silence matches an alert when every matcher holds: the label equals the
value exactly, ``*`` matches any value of a label that is present, and ``""``
matches a label that is absent or empty. There are no regular expressions:
a silence is typed during an incident, and an exact match cannot silence more
than its author meant. At least one matcher must name a concrete value, so no
silence can mute everything.

The configuration's silences are read-only (change them in the file); live
ones come from the admin API and are written through to a
:class:`SilenceStore` when one is set, so they survive a restart.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from seawall._errors import ConfigError
from seawall.config import Silence

__all__ = ["SilenceBook", "SilenceRecord", "SilenceStore"]

log = logging.getLogger("seawall.notify")

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
WILDCARD = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class SilenceRecord:
    """One silence; times are Unix seconds, active on ``[starts_at, ends_at)``."""

    id: str
    matchers: Mapping[str, str]
    starts_at: float
    ends_at: float
    comment: str = ""
    created_by: str = ""
    #: ``config`` silences come from the file and cannot be expired live
    source: Literal["config", "live"] = "live"

    def active(self, at: float) -> bool:
        return self.starts_at <= at < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, want in self.matchers.items():
            have = labels.get(key)
            if want == WILDCARD:
                if not have:
                    return False
            elif (have or "") != want:
                return False
        return True


class SilenceStore(Protocol):
    """Durable home of live silences (implemented on the SQL store)."""

    async def add(self, record: SilenceRecord) -> None:
        """Keep a new silence."""
        ...

    async def expire(self, silence_id: str, at: float) -> None:
        """End the silence at ``at`` (its ``ends_at`` becomes ``at``)."""
        ...

    async def list(self) -> Sequence[SilenceRecord]:
        """Every live silence kept, ended ones included."""
        ...


def _seconds(value: float | datetime, what: str) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        msg = f"{what} must be a time (Unix seconds or a datetime), not {value!r}"
        raise ValueError(msg)
    return float(value)


class SilenceBook:
    """The silences in force: the configuration's and live ones.

    Bounded: at most ``max_silences`` live silences (ended ones are dropped
    from memory when a new one is added), ``max_matchers`` matchers each,
    label names of 64 characters, values of ``max_value`` characters,
    comments of ``max_comment`` and authors of ``max_author`` characters.
    """

    def __init__(
        self,
        config: Iterable[Silence] = (),
        *,
        max_silences: int = 1000,
        max_matchers: int = 16,
        max_value: int = 256,
        max_comment: int = 1024,
        max_author: int = 128,
    ) -> None:
        self._max_silences = max_silences
        self._max_matchers = max_matchers
        self._max_value = max_value
        self._max_comment = max_comment
        self._max_author = max_author
        self._store: SilenceStore | None = None
        self._config: list[SilenceRecord] = []
        self._live: dict[str, SilenceRecord] = {}
        self._overflow_said = False
        #: kept silences already reported as invalid, so a reload does not repeat it
        self._skipped: set[str] = set()
        for i, silence in enumerate(config):
            try:
                self._config.append(self._from_config(i, silence))
            except ValueError as exc:
                msg = f"notifications.silences[{i}]: {exc}"
                raise ConfigError(msg) from None

    def __repr__(self) -> str:
        return f"SilenceBook(config={len(self._config)}, live={len(self._live)})"

    def _from_config(self, index: int, silence: Silence) -> SilenceRecord:
        starts = (
            -math.inf if silence.starts_at is None else _seconds(silence.starts_at, "starts_at")
        )
        return self._checked(
            SilenceRecord(
                id=f"config-{index + 1}",
                matchers=dict(silence.matchers),
                starts_at=starts,
                ends_at=_seconds(silence.ends_at, "ends_at"),
                comment=silence.comment,
                created_by=silence.created_by,
                source="config",
            )
        )

    def _checked(self, record: SilenceRecord) -> SilenceRecord:
        matchers = record.matchers
        if not matchers:
            msg = "a silence needs at least one matcher"
            raise ValueError(msg)
        if len(matchers) > self._max_matchers:
            msg = f"a silence has at most {self._max_matchers} matchers, not {len(matchers)}"
            raise ValueError(msg)
        for key, value in matchers.items():
            if not isinstance(key, str) or not _LABEL.fullmatch(key):
                msg = f"matcher {key!r} is not a label name (letters, digits, '_'; 64 at most)"
                raise ValueError(msg)
            if not isinstance(value, str) or len(value) > self._max_value:
                msg = (
                    f"matcher {key}: the value must be text of at most {self._max_value} characters"
                )
                raise ValueError(msg)
        if all(v in ("", WILDCARD) for v in matchers.values()):
            msg = (
                "at least one matcher must name a value, not '' or '*': it would silence everything"
            )
            raise ValueError(msg)
        if not record.ends_at > record.starts_at:
            msg = "ends_at must be after starts_at"
            raise ValueError(msg)
        if not math.isfinite(record.ends_at):
            msg = "ends_at must be a finite time: a silence always ends"
            raise ValueError(msg)
        if len(record.comment) > self._max_comment:
            msg = f"the comment has at most {self._max_comment} characters"
            raise ValueError(msg)
        if len(record.created_by) > self._max_author:
            msg = f"created_by has at most {self._max_author} characters"
            raise ValueError(msg)
        return record

    async def load(self, store: SilenceStore, *, at: float | None = None) -> int:
        """Read the live silences kept in ``store`` and write through to it from now on.

        Returns how many were loaded. With ``at``, silences that ended before it
        stay in the store as history and are not loaded. Kept records that no
        longer pass the bounds are skipped with a warning, not fatal: the store
        may predate them. Loading again (another replica added some) replaces
        the live silences held.
        """
        records = await store.list()
        loaded: dict[str, SilenceRecord] = {}
        for record in sorted(records, key=lambda r: r.ends_at, reverse=True):
            if record.ends_at <= record.starts_at or (at is not None and record.ends_at <= at):
                continue  # expired before it began, or history
            try:
                checked = self._checked(
                    replace(record, matchers=dict(record.matchers), source="live")
                )
            except ValueError as exc:
                if record.id not in self._skipped and len(self._skipped) < self._max_silences:
                    self._skipped.add(record.id)
                    log.warning("skipping kept silence %s: %s", record.id, exc)
                continue
            if len(loaded) >= self._max_silences:
                if not self._overflow_said:
                    log.warning("more than %d kept silences; the oldest are left out", len(loaded))
                    self._overflow_said = True
                break
            loaded[checked.id] = checked
        self._live = loaded
        self._store = store
        return len(loaded)

    async def add(
        self,
        matchers: Mapping[str, str],
        *,
        starts_at: float | datetime,
        ends_at: float | datetime,
        comment: str = "",
        created_by: str = "",
    ) -> SilenceRecord:
        """Create a live silence; ValueError says what is wrong with it."""
        record = self._checked(
            SilenceRecord(
                id=str(uuid.uuid4()),
                matchers=dict(matchers),
                starts_at=_seconds(starts_at, "starts_at"),
                ends_at=_seconds(ends_at, "ends_at"),
                comment=comment,
                created_by=created_by,
            )
        )
        self.prune(record.starts_at)
        if len(self._live) >= self._max_silences:
            msg = f"there are already {self._max_silences} silences: expire some first"
            raise ValueError(msg)
        if self._store is not None:
            await self._store.add(record)
        self._live[record.id] = record
        return record

    async def expire(self, silence_id: str, at: float) -> SilenceRecord | None:
        """End a live silence at ``at``; None when there is no such silence."""
        if any(r.id == silence_id for r in self._config):
            msg = f"silence {silence_id} comes from the configuration: remove it there"
            raise ValueError(msg)
        record = self._live.get(silence_id)
        if record is None:
            return None
        ended = replace(record, ends_at=max(record.starts_at, min(record.ends_at, at)))
        if self._store is not None:
            await self._store.expire(silence_id, ended.ends_at)
        self._live[silence_id] = ended
        return ended

    def prune(self, at: float) -> int:
        """Forget live silences that ended before ``at``; how many were dropped."""
        ended = [k for k, r in self._live.items() if r.ends_at <= at]
        for key in ended:
            del self._live[key]
        return len(ended)

    def get(self, silence_id: str) -> SilenceRecord | None:
        for record in self._config:
            if record.id == silence_id:
                return record
        return self._live.get(silence_id)

    def records(self) -> list[SilenceRecord]:
        """Every silence held, in force or not: the configuration's first."""
        return [*self._config, *self._live.values()]

    def active(self, at: float) -> list[SilenceRecord]:
        return [r for r in self.records() if r.active(at)]

    def silenced_by(self, labels: Mapping[str, str], at: float) -> SilenceRecord | None:
        """The first silence in force at ``at`` that matches ``labels``."""
        for record in self.records():
            if record.active(at) and record.matches(labels):
                return record
        return None
