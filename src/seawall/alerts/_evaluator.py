"""The evaluator: every rule, every few seconds, against the live counts; state changes out.

:meth:`Evaluator.evaluate` is synchronous and does no I/O: the live counts are
in memory (:class:`~seawall.alerts.LiveMetrics`) and baselines are learned
ahead (:class:`~seawall.alerts.Baselines`, refreshed from the store by the
caller). It returns the :class:`~seawall.alerts.Transition` of every series
whose state changed; notifications and incidents act on them.

A rule that raises is logged once (until it works again), reported in
:meth:`Evaluator.statuses` and skipped, keeping its state: one broken rule
never stops the others, nor resolves an alert it cannot see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from seawall.alerts._compile import compile_rules
from seawall.alerts._history import Baselines, HistorySpec
from seawall.alerts._live import MAX_RETENTION, LiveMetrics
from seawall.alerts._rules import (
    BaselineRule,
    Inapplicable,
    Measurement,
    Rule,
    Sources,
)
from seawall.alerts._state import SeriesState, step
from seawall.alerts._types import AlertState, Transition
from seawall.config import Config, format_duration

__all__ = ["AlertStatus", "Evaluator"]

_log = logging.getLogger("seawall.alerts")
#: live counts kept even when no rule reads that far (the admin API's recent view)
_MIN_RETENTION = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertStatus:
    """One rule's series as the admin API shows it."""

    rule: str
    kind: str
    severity: str
    labels: Mapping[str, str]
    fingerprint: str
    state: AlertState
    #: when the series entered ``state``
    since: float | None
    active_since: float | None
    fired_at: float | None
    value: float | None
    threshold: float | None
    summary: str
    #: "learning: ...", "no data", "not applicable: ...", "error: ...", "" when all is plain
    note: str = ""
    baseline: Mapping[str, float | str] | None = None
    evaluated_at: float | None = None


class Evaluator:
    """Evaluates ``config.alerts`` against ``live`` counts.

    ::

        live = LiveMetrics()
        evaluator = Evaluator(config, live, baselines=Baselines(), backup_age=catalog.age)
        evaluator.restore(stored_firing)           # after a restart: no second notification
        for transition in evaluator.evaluate(time.time()):
            ...                                    # notify, open incidents

    ``backup_age(integration)`` returns the age in seconds of the integration's
    last backup (``None``: the whole store's), or None when unknown. Building
    the evaluator sets ``live.retention`` to what the rules read.
    """

    def __init__(
        self,
        config: Config,
        live: LiveMetrics,
        *,
        baselines: Baselines | None = None,
        backup_age: Callable[[str | None], float | None] = lambda name: None,
    ) -> None:
        self._live = live
        self._baselines = baselines
        self._backup_age = backup_age
        self._rules: list[Rule] = []
        self._states: dict[str, SeriesState] = {}
        self._last: dict[str, Measurement] = {}
        self._errors: dict[str, str] = {}
        self._evaluated_at: float | None = None
        self._install(compile_rules(config), {})

    # -- configuration --------------------------------------------------------------

    @property
    def rules(self) -> list[Rule]:
        return list(self._rules)

    @property
    def retention(self) -> float:
        """Seconds of live counts the rules read (the longest window, burn rates' long ones too)."""
        return max((rule.needs for rule in self._rules), default=0.0)

    def _install(self, rules: list[Rule], states: dict[str, SeriesState]) -> None:
        self._rules = rules
        self._states = {rule.name: states.get(rule.name, SeriesState()) for rule in rules}
        names = set(self._states)
        self._last = {k: v for k, v in self._last.items() if k in names}
        self._errors = {k: v for k, v in self._errors.items() if k in names}
        for rule in rules:
            if rule.needs > MAX_RETENTION:
                _log.warning(
                    "alert rule %r reads %s of history but live counts keep at most %s; "
                    "its window is cut short",
                    rule.name,
                    format_duration(rule.needs),
                    format_duration(MAX_RETENTION),
                )
        # a bucket of slack each side: windows are read in whole buckets
        self._live.retention = max(self.retention, _MIN_RETENTION) + 2 * self._live.resolution
        if self._baselines is not None:
            specs: dict[str, HistorySpec] = {
                rule.name: rule.history for rule in rules if isinstance(rule, BaselineRule)
            }
            self._baselines.configure(specs)

    def reconfigure(self, config: Config, *, now: float | None = None) -> list[Transition]:
        """Use ``config``'s rules; a rule whose definition did not change keeps its state.

        A changed rule watching the same series (same labels) that was firing
        stays firing, as if restored, and resolves at the next evaluation if
        its new condition does not hold. A firing series whose rule is gone (or
        now watches other labels) is resolved: its transitions are returned,
        dated ``now`` (default: the last evaluation).
        """
        at = now if now is not None else (self._evaluated_at or 0.0)
        old = {rule.name: rule for rule in self._rules}
        new = compile_rules(config)
        states: dict[str, SeriesState] = {}
        kept_series: set[str] = set()
        for rule in new:
            before = old.get(rule.name)
            if before is None:
                continue
            state = self._states[rule.name]
            if before == rule:
                states[rule.name] = state
                kept_series.add(before.fingerprint)
            elif before.fingerprint == rule.fingerprint and state.state == "firing":
                states[rule.name] = _restored(state.fired_at or at)
                kept_series.add(before.fingerprint)
                self._last.pop(rule.name, None)
            else:
                self._last.pop(rule.name, None)
        out = [
            _gone(rule, self._states[rule.name], at)
            for rule in self._rules
            if self._states[rule.name].state == "firing" and rule.fingerprint not in kept_series
        ]
        self._install(new, states)
        return out

    def restore(self, firing: Iterable[tuple[str, float]]) -> int:
        """Series stored as firing before a restart, as (fingerprint, fired_at): firing again.

        They come back without a firing transition; each resolves once its
        condition is found not to hold. Unknown fingerprints (a rule since
        removed) are ignored. Returns how many were restored.
        """
        by_print = {
            rule.fingerprint: rule for rule in self._rules if not isinstance(rule, Inapplicable)
        }
        count = 0
        for print_, fired_at in firing:
            rule = by_print.get(print_)
            if rule is None:
                continue
            self._states[rule.name] = _restored(fired_at)
            count += 1
        return count

    # -- evaluating -------------------------------------------------------------------

    def evaluate(self, now: float) -> list[Transition]:
        """Measure every rule at wall time ``now``; the transitions of the series that moved."""
        sources = Sources(self._live, baselines=self._baselines, backup_age=self._backup_age)
        out: list[Transition] = []
        states = self._states
        for rule in self._rules:
            name = rule.name
            try:
                measured = rule.measure(sources, now)
                before = states[name]
                active = measured.active
                if measured.value is None and before.state == "firing" and not active:
                    # no data while firing: an outage that stops the traffic is no recovery
                    active = True
                after, moved = step(
                    before,
                    active=active,
                    now=now,
                    for_=rule.for_,
                    keep_firing_for=rule.keep_firing_for,
                    spike=measured.spike,
                )
                self._last[name] = measured
                states[name] = after
                if moved is not None:
                    out.append(_transition(rule, measured, before.state, after, now))
            except Exception as error:  # noqa: BLE001 - one broken rule must not stop the others
                self._failed(name, error)
                continue
            if name in self._errors:
                del self._errors[name]
                _log.info("alert rule %r evaluates again", name)
        self._evaluated_at = now
        return out

    def _failed(self, name: str, error: Exception) -> None:
        if name not in self._errors:
            _log.error(
                "alert rule %r failed to evaluate and is skipped until it works: %s",
                name,
                error,
                exc_info=error,
            )
        self._errors[name] = f"{type(error).__name__}: {error}"

    def statuses(self) -> list[AlertStatus]:
        """Every rule's series: state, last value and threshold, summary and notes."""
        out = []
        for rule in self._rules:
            state = self._states[rule.name]
            measured = self._last.get(rule.name)
            if measured is None and isinstance(rule, Inapplicable):
                measured = rule.measure(Sources(self._live), 0.0)
            note = measured.note if measured is not None else "not evaluated yet"
            if rule.name in self._errors:
                note = f"error: {self._errors[rule.name]}"
            band = None if measured is None or measured.band is None else measured.band.as_mapping()
            out.append(
                AlertStatus(
                    rule=rule.name,
                    kind=rule.kind,
                    severity=rule.severity,
                    labels=rule.labels,
                    fingerprint=rule.fingerprint,
                    state=state.state,
                    since=state.since,
                    active_since=state.active_since,
                    fired_at=state.fired_at,
                    value=None if measured is None else measured.value,
                    threshold=None if measured is None else measured.threshold,
                    summary=_summary(rule, measured),
                    note=note,
                    baseline=band,
                    evaluated_at=self._evaluated_at,
                )
            )
        return out


def _restored(fired_at: float) -> SeriesState:
    return SeriesState(state="firing", since=fired_at, active_since=fired_at, fired_at=fired_at)


def _summary(rule: Rule, measured: Measurement | None) -> str:
    if measured is None:
        return f"{rule.name}: not evaluated yet"
    try:
        return rule.summary(measured)
    except Exception as error:  # noqa: BLE001 - a summary must never hide the alert
        return f"{rule.name}: {measured.value!r} (the summary failed: {error})"


def _transition(
    rule: Rule, measured: Measurement, previous: AlertState, state: SeriesState, now: float
) -> Transition:
    return Transition(
        rule=rule.name,
        labels=rule.labels,
        state=state.state,
        previous=previous,
        at=now,
        value=measured.value,
        threshold=measured.threshold,
        summary=_summary(rule, measured),
        severity=rule.severity,
        active_since=state.active_since,
        fired_at=state.fired_at,
        baseline=None if measured.band is None else measured.band.as_mapping(),
        fingerprint=rule.fingerprint,
    )


def _gone(rule: Rule, state: SeriesState, now: float) -> Transition:
    return Transition(
        rule=rule.name,
        labels=rule.labels,
        state="resolved",
        previous=state.state,
        at=now,
        value=None,
        threshold=None,
        summary=f"{rule.name} was removed or changed by a configuration reload",
        severity=rule.severity,
        active_since=state.active_since,
        fired_at=state.fired_at,
        fingerprint=rule.fingerprint,
    )
