"""A circuit breaker per provider, with Resilience4j's semantics.

See resilience4j.readme.io/docs/circuitbreaker. In CLOSED, outcomes go into a
count- or time-based sliding window; once it holds ``min_calls`` calls, the
breaker opens when the failure rate or the slow-call rate reaches its
threshold (``>=``, as in Resilience4j). OPEN refuses calls for ``open_for``
seconds, then HALF_OPEN lets exactly ``half_open_calls`` trial calls through;
when all have finished, their rates decide CLOSED (with a fresh window) or
OPEN again. FORCED_OPEN and DISABLED are operator states that only an operator
leaves (``close``, ``reset``, ``force_open``, ``disable``).

The breaker is a pure state object: it never reads a clock (``now`` is passed
in, monotonic seconds) and never sleeps. It answers :meth:`~CircuitBreaker.acquire`
with a :class:`Permit` or a :class:`Refusal`, and queues its state changes for
the engine to :meth:`~CircuitBreaker.drain_transitions` into events.

Every permit carries the *generation* of the state that issued it; each
transition starts a new generation. An outcome recorded with a permit from an
older generation is ignored, so a slow call that started before the breaker
opened cannot count as a half-open trial. Every permit must come back, with
``record`` or ``release`` (Resilience4j's ``releasePermission``): a trial
permit that never returns is how a breaker gets stuck in HALF_OPEN
(resilience4j/resilience4j#903, #935).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

from seawall._states import BreakerState
from seawall.policies._window import CountWindow, OutcomeWindow, TimeWindow, WindowSnapshot

__all__ = [
    "BreakerSettings",
    "BreakerTransition",
    "CircuitBreaker",
    "Permit",
    "Refusal",
    "WindowType",
]

WindowType = Literal["count", "time"]

#: read on every call: as module constants, since on Python 3.11 ``BreakerState.X`` passes
#: through EnumType's ``__getattr__`` hook (about 45 ns a read)
_CLOSED, _OPEN = BreakerState.CLOSED, BreakerState.OPEN


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerSettings:
    """``circuit_breaker`` in the config.

    ``window_size`` is a number of calls for a count window and seconds for a
    time window. For a count window, ``min_calls`` larger than the window is
    capped at the window size, as Resilience4j does. A call is slow when its
    duration is *greater* than ``slow_call_duration`` (Resilience4j's
    ``slowCallDurationThreshold``); ``inf`` means no call is ever slow.
    """

    window_type: WindowType = "count"
    window_size: float = 50
    min_calls: int = 20
    failure_rate: float = 0.5
    slow_call_duration: float = 1.0
    slow_call_rate: float = 0.8
    open_for: float = 30.0
    half_open_calls: int = 3

    def __post_init__(self) -> None:
        if self.window_type not in ("count", "time"):
            msg = f"circuit_breaker.window.type must be count or time, not {self.window_type!r}"
            raise ValueError(msg)
        if not (math.isfinite(self.window_size) and self.window_size > 0):
            msg = f"circuit_breaker.window.size must be positive, not {self.window_size}"
            raise ValueError(msg)
        if self.window_type == "count" and self.window_size != int(self.window_size):
            msg = f"circuit_breaker.window.size counts calls; {self.window_size} is not whole"
            raise ValueError(msg)
        if self.min_calls < 1:
            msg = f"circuit_breaker.min_calls must be at least 1, not {self.min_calls}"
            raise ValueError(msg)
        for name, rate in (
            ("failure_rate", self.failure_rate),
            ("slow_call.rate", self.slow_call_rate),
        ):
            if not 0 < rate <= 1:
                msg = f"circuit_breaker.{name} must be a fraction in (0, 1], not {rate}"
                raise ValueError(msg)
        # inf is allowed: "no call is ever slow" (no slow_call block in the config).
        if not self.slow_call_duration > 0:
            msg = (
                "circuit_breaker.slow_call.duration must be positive, "
                f"not {self.slow_call_duration}"
            )
            raise ValueError(msg)
        if not (math.isfinite(self.open_for) and self.open_for >= 0):
            msg = f"circuit_breaker.open_for must be a duration >= 0, not {self.open_for}"
            raise ValueError(msg)
        if self.half_open_calls < 1:
            msg = f"circuit_breaker.half_open_calls must be at least 1, not {self.half_open_calls}"
            raise ValueError(msg)

    @property
    def effective_min_calls(self) -> int:
        """``min_calls``, capped at the window size for a count window."""
        if self.window_type == "count":
            return min(self.min_calls, int(self.window_size))
        return self.min_calls


class Permit(NamedTuple):
    """Leave to make one call; hand it back with ``record`` or ``release``.

    An immutable named tuple. A CLOSED breaker hands every call of one
    generation the same permit (serial 0): only half-open trials need telling
    apart, and a permit costs an allocation per call otherwise.
    """

    #: The state that granted the permit (CLOSED, HALF_OPEN or DISABLED).
    state: BreakerState
    #: Which state generation granted it; outcomes of older ones are ignored.
    generation: int
    #: Distinguishes permits of one generation (half-open trial slots).
    serial: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """The breaker refused the call.

    ``retry_after`` is how many seconds until the breaker may let calls through
    again (OPEN), or None when no time can be promised: FORCED_OPEN waits for an
    operator, and a HALF_OPEN breaker whose trial slots are all taken waits for
    those calls to finish.
    """

    state: BreakerState
    retry_after: float | None
    reason: str = "circuit-open"


class BreakerTransition(NamedTuple):
    """One state change; the engine turns it into a ``BreakerChanged`` event.

    ``cause`` is a stable slug: ``failure-rate``, ``slow-call-rate`` (to OPEN),
    ``open-for-elapsed`` (to HALF_OPEN), ``trial-calls-passed`` (to CLOSED),
    ``forced-open``, ``disabled``, ``closed-by-operator``, ``reset``.
    """

    old: BreakerState
    new: BreakerState
    cause: str


class CircuitBreaker:
    """One provider's breaker; see the module docstring for the rules.

    The engine must hand every permit back exactly once, with :meth:`record`
    (the call has a verdict) or :meth:`release` (it has none: cancelled,
    throttled, refused by a later guard); a half-open trial slot is only freed
    that way.
    """

    __slots__ = (
        "_closed_permit",
        "_generation",
        "_min_calls",
        "_open_until",
        "_serial",
        "_settings",
        "_state",
        "_transitions",
        "_trial_failures",
        "_trial_in_flight",
        "_trial_recorded",
        "_trial_slow",
        "_window",
        "changed",
    )

    def __init__(self, *, settings: BreakerSettings | None = None) -> None:
        self._settings = settings if settings is not None else BreakerSettings()
        self._window: OutcomeWindow = (
            CountWindow(int(self._settings.window_size))
            if self._settings.window_type == "count"
            else TimeWindow(self._settings.window_size)
        )
        self._min_calls = self._settings.effective_min_calls
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._closed_permit = Permit(_CLOSED, 0, 0)
        self._serial = 0
        self._open_until = 0.0
        self._transitions: list[BreakerTransition] = []
        #: whether transitions wait to be drained (read on every call, so a plain field)
        self.changed = False
        self._trial_in_flight: set[int] = set()
        self._trial_recorded = 0
        self._trial_failures = 0
        self._trial_slow = 0

    @property
    def settings(self) -> BreakerSettings:
        return self._settings

    # -- reading --------------------------------------------------------------

    def state(self, now: float) -> BreakerState:
        """The state at ``now``; an OPEN breaker whose time is up becomes HALF_OPEN."""
        self._refresh(now)
        return self._state

    def snapshot(self, now: float) -> WindowSnapshot:
        """Totals of the CLOSED window (for metrics and the dashboard)."""
        return self._window.snapshot(now)

    def drain_transitions(self) -> list[BreakerTransition]:
        """State changes since the last drain, oldest first; the list is emptied."""
        drained, self._transitions = self._transitions, []
        self.changed = False
        return drained

    # -- calls ----------------------------------------------------------------

    def acquire(self, now: float) -> Permit | Refusal:
        """Ask leave for one call at ``now``."""
        state = self._state
        if state is _CLOSED:  # the common case, first and without calls
            return self._closed_permit
        self._refresh(now)
        state = self._state
        if state is BreakerState.OPEN:
            left = min(self._settings.open_for, self._open_until - now)
            return Refusal(state=state, retry_after=max(0.0, left))
        if state is BreakerState.FORCED_OPEN:
            return Refusal(state=state, retry_after=None)
        if state is BreakerState.HALF_OPEN:
            taken = len(self._trial_in_flight) + self._trial_recorded
            if taken >= self._settings.half_open_calls:
                return Refusal(state=state, retry_after=None)
            permit = self._issue()
            self._trial_in_flight.add(permit.serial)
            return permit
        return self._issue()

    def record(self, permit: Permit, now: float, *, failure: bool, duration: float) -> None:
        """Record the verdict of the call made with ``permit``, which ended at ``now``.

        ``failure`` is whether the outcome counts against the breaker (see
        ``counts_against_breaker``); ``duration`` decides whether it was slow.
        Permits from an older generation, and DISABLED permits, change nothing.
        """
        if self._state is _OPEN:
            self._refresh(now)
        if permit.generation != self._generation:
            return
        slow = duration > self._settings.slow_call_duration
        if self._state is _CLOSED:
            # the window's counts come back from add: no second call for a snapshot
            calls, failures, slowed = self._window.add(now, failure=failure, slow=slow)
            # every rate is above 0, so a window with neither failed nor slow calls stays closed
            if calls >= self._min_calls and (failures or slowed):
                settings = self._settings
                if failures / calls >= settings.failure_rate:
                    self._open(now, "failure-rate")
                elif slowed / calls >= settings.slow_call_rate:
                    self._open(now, "slow-call-rate")
        elif self._state is BreakerState.HALF_OPEN:
            if permit.serial not in self._trial_in_flight:
                return
            self._trial_in_flight.discard(permit.serial)
            self._trial_recorded += 1
            self._trial_failures += failure
            self._trial_slow += slow
            if self._trial_recorded >= self._settings.half_open_calls:
                self._evaluate_trials(now)

    def release(self, permit: Permit) -> None:
        """Hand back a permit whose call has no verdict; a half-open slot is freed uncounted."""
        if permit.generation == self._generation and self._state is BreakerState.HALF_OPEN:
            self._trial_in_flight.discard(permit.serial)

    # -- operator -------------------------------------------------------------

    def force_open(self) -> None:
        """Hold the breaker open until an operator closes, resets or disables it."""
        if self._state is not BreakerState.FORCED_OPEN:
            self._move(BreakerState.FORCED_OPEN, "forced-open")

    def disable(self) -> None:
        """Let every call through and record nothing, until an operator says otherwise."""
        if self._state is not BreakerState.DISABLED:
            self._move(BreakerState.DISABLED, "disabled")

    def close(self) -> None:
        """Close the breaker from any state, with an empty window."""
        if self._state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED, "closed-by-operator")

    def reset(self) -> None:
        """Back to a fresh CLOSED breaker; outstanding permits stop counting."""
        if self._state is BreakerState.CLOSED:
            self._generation += 1
            self._closed_permit = Permit(_CLOSED, self._generation, 0)
            self._window.clear()
        else:
            self._move(BreakerState.CLOSED, "reset")

    # -- internals ------------------------------------------------------------

    def _issue(self) -> Permit:
        self._serial += 1
        return Permit(state=self._state, generation=self._generation, serial=self._serial)

    def _refresh(self, now: float) -> None:
        if self._state is BreakerState.OPEN and now >= self._open_until:
            self._move(BreakerState.HALF_OPEN, "open-for-elapsed")

    def _evaluate_trials(self, now: float) -> None:
        totals = WindowSnapshot(
            calls=self._trial_recorded, failures=self._trial_failures, slow=self._trial_slow
        )
        cause = self._tripped(totals)
        if cause is None:
            self._move(BreakerState.CLOSED, "trial-calls-passed")
        else:
            self._open(now, cause)

    def _tripped(self, totals: WindowSnapshot) -> str | None:
        if totals.failure_rate >= self._settings.failure_rate:
            return "failure-rate"
        if totals.slow_rate >= self._settings.slow_call_rate:
            return "slow-call-rate"
        return None

    def _open(self, now: float, cause: str) -> None:
        self._move(BreakerState.OPEN, cause)
        self._open_until = now + self._settings.open_for

    def _move(self, new: BreakerState, cause: str) -> None:
        self._transitions.append(BreakerTransition(self._state, new, cause))
        self.changed = True
        self._state = new
        self._generation += 1
        self._closed_permit = Permit(_CLOSED, self._generation, 0)
        self._window.clear()
        self._trial_in_flight.clear()
        self._trial_recorded = 0
        self._trial_failures = 0
        self._trial_slow = 0
