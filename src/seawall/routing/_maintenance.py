"""Maintenance windows: planned downtime from cron, and operators' manual windows.

A scheduled window (``maintenance:`` in an integration) opens at every time
its cron expression fires, read as wall-clock time in the window's timezone,
and stays open for ``duration`` seconds of real time. Traffic drains early:
from ``drain_before`` seconds before the window opens the provider takes no
new calls, so calls in flight finish before the vendor goes away.

Daylight saving time follows Vixie cron (cron(8), "clock changes of less than
3 hours"): a time skipped when clocks go forward fires at the first moment
after the gap (02:30 on the spring-forward night opens at 03:00, as croniter
computes), and when clocks go back, a fixed-time expression (no ``*`` in the
minute or hour field) fires only at the first of the two repeated times,
while an expression with a wildcard minute or hour fires at both, since both
are real hours.

Times are Unix seconds (``wall``), passed in: the calendar never reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = ["ActiveWindow", "MaintenanceCalendar", "Phase", "Window"]

Phase = Literal["draining", "open"]

#: Macros that fire at a fixed time of day (``@hourly`` does not).
_FIXED_TIME_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """One scheduled maintenance window, e.g. ``{provider: sendgrid, cron: "0 3 * * SUN"}``."""

    provider: str
    cron: str
    #: How long the window stays open, in seconds.
    duration: float
    #: Seconds before the window opens during which the provider takes no new calls.
    drain_before: float = 60.0
    #: IANA name of the timezone the cron expression is read in.
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        where = f"maintenance window for {self.provider!r}"
        if not (math.isfinite(self.duration) and self.duration > 0):
            msg = f"{where}: duration must be a positive number of seconds, not {self.duration}"
            raise ValueError(msg)
        if not (math.isfinite(self.drain_before) and self.drain_before >= 0):
            msg = f"{where}: drain_before must be a duration >= 0, not {self.drain_before}"
            raise ValueError(msg)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"{where}: {self.timezone!r} is not an IANA timezone such as Europe/Berlin"
            raise ValueError(msg) from None
        if not croniter.is_valid(self.cron):
            msg = f"{where}: {self.cron!r} is not a cron expression such as '0 3 * * SUN'"
            raise ValueError(msg)
        try:
            next(_Schedule(self).starts_after(0.0))
        except ValueError as error:  # croniter's errors are ValueErrors
            msg = f"{where}: {self.cron!r} never fires ({error})"
            raise ValueError(msg) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveWindow:
    """A window that keeps a provider out of traffic at some moment."""

    provider: str
    #: ``draining`` before the window opens, ``open`` while it is open.
    phase: Phase
    #: Unix time the window opens (or opened).
    start: float
    #: Unix time it closes; None for a manual window open until stopped.
    end: float | None
    #: The cron expression of a scheduled window, the operator's reason for a manual one.
    reason: str
    #: The id of a manual window (for :meth:`MaintenanceCalendar.stop`); None if scheduled.
    window_id: str | None = None


class _Schedule:
    """The start times of one window, DST rules applied.

    The engine asks about the current time on every call, and a croniter step
    costs about 0.1 ms, so the last answer is kept: the start at or before a
    time and the start after it, valid for every time between the two.
    """

    __slots__ = ("_bracket", "_cron", "_fixed_time", "_tz")

    def __init__(self, window: Window) -> None:
        self._cron = window.cron
        self._tz = ZoneInfo(window.timezone)
        fields = window.cron.split()
        if len(fields) == 1:
            self._fixed_time = fields[0].lower() in _FIXED_TIME_MACROS
        else:
            self._fixed_time = "*" not in fields[0] and "*" not in fields[1]
        self._bracket: tuple[float, float] | None = None

    def _keeps(self, start: float) -> bool:
        # fromtimestamp sets fold=1 only on the second of two repeated local times.
        return not (self._fixed_time and datetime.fromtimestamp(start, self._tz).fold == 1)

    def starts_after(self, wall: float) -> Iterator[float]:
        """Start times strictly after ``wall``, ascending."""
        # Whole seconds: fromtimestamp rounds to the nearest microsecond, and
        # 23:59:59.9999998 must not become midnight and skip a midnight start.
        # Start times are whole seconds, so "after floor(wall)" is "after wall".
        times = croniter(self._cron, datetime.fromtimestamp(math.floor(wall), self._tz))
        while True:
            start = float(times.get_next(float))
            if start > wall and self._keeps(start):
                yield start

    def bracket(self, wall: float) -> tuple[float, float]:
        """``(latest start at or before wall, first start after wall)``."""
        cached = self._bracket
        if cached is not None and cached[0] <= wall < cached[1]:
            return cached
        following = next(self.starts_after(wall))
        # Back from the first start after wall: exact even when wall is a start time.
        times = croniter(self._cron, datetime.fromtimestamp(following, self._tz))
        while True:
            previous = float(times.get_prev(float))
            if previous <= wall and self._keeps(previous):
                break
        self._bracket = (previous, following)
        return self._bracket


@dataclass(slots=True)
class _Manual:
    window_id: str
    provider: str
    start: float
    end: float | None
    reason: str


class MaintenanceCalendar:
    """Every maintenance window of one integration (or of all: names are providers).

    Call order: the engine asks :meth:`unavailable` with the current Unix time
    before ordering providers, and removes those names from the available set.
    Operators open and close manual windows with :meth:`start_now` and
    :meth:`stop`; the SLA maths asks :meth:`windows_between`.
    """

    __slots__ = ("_cancelled", "_manual", "_schedules", "_serial", "_windows")

    def __init__(self, windows: Sequence[Window] = ()) -> None:
        self._windows = tuple(windows)
        self._schedules = [(window, _Schedule(window)) for window in self._windows]
        self._manual: dict[str, _Manual] = {}
        #: (provider, start) of scheduled windows an operator stopped early -> new end.
        self._cancelled: dict[tuple[str, float], float] = {}
        self._serial = 0

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    # -- reading --------------------------------------------------------------

    def active(self, provider: str, wall: float) -> ActiveWindow | None:
        """The window keeping ``provider`` out of traffic at ``wall``, if any.

        When several apply, an open one wins over a draining one; among open
        ones, the one closing last; among draining ones, the one opening first.
        """
        found = [*self._scheduled_active(provider, wall), *self._manual_active(provider, wall)]
        if not found:
            return None
        open_ = [window for window in found if window.phase == "open"]
        if open_:
            return max(open_, key=lambda w: math.inf if w.end is None else w.end)
        return min(found, key=lambda w: w.start)

    def unavailable(self, wall: float) -> frozenset[str]:
        """Providers draining or in maintenance at ``wall``."""
        providers = {window.provider for window in self._windows}
        providers.update(manual.provider for manual in self._manual.values())
        return frozenset(name for name in providers if self.active(name, wall) is not None)

    def next_window(self, provider: str, wall: float) -> tuple[float, float] | None:
        """``(start, end)`` of the next scheduled window opening after ``wall``, if any."""
        best: tuple[float, float] | None = None
        for window, schedule in self._for(provider):
            for start in schedule.starts_after(wall):
                if (provider, start) not in self._cancelled:
                    if best is None or start < best[0]:
                        best = (start, start + window.duration)
                    break
        return best

    def windows_between(
        self, provider: str, start_wall: float, end_wall: float
    ) -> list[tuple[float, float]]:
        """Scheduled maintenance of ``provider`` within ``[start_wall, end_wall)``.

        For SLA maths that excludes planned downtime: open periods only (a
        drain is not downtime), clipped to the range, overlaps merged, sorted.
        Manual windows are not planned downtime and are not included. The cost
        is one croniter step per window start in the range.
        """
        if end_wall <= start_wall:
            return []
        spans: list[tuple[float, float]] = []
        for window, schedule in self._for(provider):
            for start in schedule.starts_after(start_wall - window.duration):
                if start >= end_wall:
                    break
                end = self._cancelled.get((provider, start), start + window.duration)
                low, high = max(start, start_wall), min(end, end_wall)
                if low < high:
                    spans.append((low, high))
        spans.sort()
        merged: list[tuple[float, float]] = []
        for low, high in spans:
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return merged

    # -- operator -------------------------------------------------------------

    def start_now(self, provider: str, wall: float, *, duration: float | None, reason: str) -> str:
        """Open a manual window for ``provider`` at ``wall``; return its id.

        ``duration`` None keeps it open until :meth:`stop`. A manual window has
        no drain: the operator decided traffic stops now.
        """
        if duration is not None and not (math.isfinite(duration) and duration > 0):
            msg = f"a maintenance window lasts a positive number of seconds, not {duration}"
            raise ValueError(msg)
        self._forget(wall)
        self._serial += 1
        window_id = f"manual-{self._serial}"
        end = None if duration is None else wall + duration
        self._manual[window_id] = _Manual(window_id, provider, wall, end, reason)
        return window_id

    def stop(self, id_or_provider: str, wall: float) -> list[ActiveWindow]:
        """End maintenance now; return the windows that were active and are ended.

        Given a manual window id, ends that window. Given a provider name,
        ends its manual windows and cuts short the scheduled window it is
        draining for or in (the vendor finished early). Stopping what is not
        active ends nothing and returns an empty list.
        """
        self._forget(wall)
        manual = self._manual.pop(id_or_provider, None)
        if manual is not None:
            return [self._manual_view(manual, wall)]
        provider = id_or_provider
        ended: list[ActiveWindow] = []
        for window_id, manual in list(self._manual.items()):
            if manual.provider == provider:
                ended.append(self._manual_view(manual, wall))
                del self._manual[window_id]
        for window in self._scheduled_active(provider, wall):
            self._cancelled[(provider, window.start)] = max(window.start, wall)
            ended.append(window)
        return ended

    # -- internals ------------------------------------------------------------

    def _for(self, provider: str) -> Iterator[tuple[Window, _Schedule]]:
        return ((w, s) for w, s in self._schedules if w.provider == provider)

    def _scheduled_active(self, provider: str, wall: float) -> Iterator[ActiveWindow]:
        for window, schedule in self._for(provider):
            start, upcoming = schedule.bracket(wall)
            end = self._cancelled.get((provider, start), start + window.duration)
            if wall < end:
                yield ActiveWindow(
                    provider=provider, phase="open", start=start, end=end, reason=window.cron
                )
                continue
            if (provider, upcoming) not in self._cancelled and wall >= (
                upcoming - window.drain_before
            ):
                yield ActiveWindow(
                    provider=provider,
                    phase="draining",
                    start=upcoming,
                    end=upcoming + window.duration,
                    reason=window.cron,
                )

    def _manual_active(self, provider: str, wall: float) -> Iterator[ActiveWindow]:
        for manual in list(self._manual.values()):
            if manual.provider == provider and (manual.end is None or wall < manual.end):
                yield self._manual_view(manual, wall)

    @staticmethod
    def _manual_view(manual: _Manual, wall: float) -> ActiveWindow:
        return ActiveWindow(
            provider=manual.provider,
            phase="open" if wall >= manual.start else "draining",
            start=manual.start,
            end=manual.end,
            reason=manual.reason,
            window_id=manual.window_id,
        )

    def _forget(self, wall: float) -> None:
        # Manual windows that ended on their own. Cancellations are kept: the
        # SLA maths needs them, and there is one per operator action.
        for window_id, manual in list(self._manual.items()):
            if manual.end is not None and manual.end <= wall:
                del self._manual[window_id]
