"""The life of one alert series: a pure state machine, stepped at each evaluation.

Each step moves a series along one of these arrows (or leaves it where it is)::

    inactive -> pending    the condition holds (straight to firing when `for` is 0, or on a spike)
    pending  -> inactive   it stopped holding before `for` passed: nothing was notified
    pending  -> firing     it held for `for` seconds
    firing   -> firing     it holds, or stopped holding less than `keep_firing_for` ago
    firing   -> resolved   it stopped holding `keep_firing_for` ago
    resolved -> inactive   at the next step (or pending, or firing, if it holds again)

As in Prometheus' alerting rules: ``for`` makes a blip too short to matter
stay *pending* and never notify; ``keep_firing_for`` keeps a series *firing*
for that long after its condition last held, so a flapping metric notifies
once, not at every flap. A *spike* (a baseline deviation far beyond the band)
fires at once, without waiting for ``for``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from seawall.alerts._types import AlertState

__all__ = ["SeriesState", "step"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesState:
    """Where one series is, and since when.

    ``since`` is when it entered ``state``; ``active_since`` when the
    condition began to hold (pending's start); ``fired_at`` when it last began
    firing; ``last_active`` the last evaluation at which the condition held
    (None for a series restored as firing: counted from its next step).
    """

    state: AlertState = "inactive"
    since: float | None = None
    active_since: float | None = None
    fired_at: float | None = None
    last_active: float | None = None


def step(
    state: SeriesState,
    *,
    active: bool,
    now: float,
    for_: float,
    keep_firing_for: float,
    spike: bool = False,
) -> tuple[SeriesState, AlertState | None]:
    """The series' state after an evaluation at ``now``, and the state it moved to (None: stayed).

    ``active`` is whether the rule's condition holds now.
    """
    current = state.state
    if current == "firing":
        if active:
            return replace(state, last_active=now), None
        last = state.last_active
        if last is None and keep_firing_for > 0:  # restored: the hysteresis starts now
            return replace(state, last_active=now), None
        if last is not None and now - last < keep_firing_for:
            return state, None
        return _resolve(state, now)

    if current == "pending":
        if not active:
            return SeriesState(state="inactive", since=now), "inactive"
        started = state.active_since if state.active_since is not None else now
        if spike or now - started >= for_:
            return _fire(now, started), "firing"
        return replace(state, last_active=now), None

    # inactive or resolved
    if active:
        if spike or for_ <= 0:
            return _fire(now, now), "firing"
        return SeriesState(state="pending", since=now, active_since=now, last_active=now), "pending"
    if current == "resolved":
        return SeriesState(state="inactive", since=now), "inactive"
    return state, None


def _fire(now: float, started: float) -> SeriesState:
    return SeriesState(
        state="firing", since=now, active_since=started, fired_at=now, last_active=now
    )


def _resolve(state: SeriesState, now: float) -> tuple[SeriesState, AlertState]:
    resolved = SeriesState(
        state="resolved",
        since=now,
        active_since=state.active_since,
        fired_at=state.fired_at,
        last_active=state.last_active,
    )
    return resolved, "resolved"
