"""Alerts: rules over live counts and learned baselines, evaluated into state transitions.

::

    live = LiveMetrics()                                  # an EventSink beside the recorder
    baselines = Baselines()
    evaluator = Evaluator(config, live, baselines=baselines, backup_age=age_of_last_backup)
    live.seed(await store.rollups.query(start=now - live.retention, end=now, width=60))
    evaluator.restore(firing_before_restart)              # (fingerprint, fired_at) pairs
    while running:
        await baselines.refresh(store.rollups, time.time())
        for transition in evaluator.evaluate(time.time()):
            ...                                           # notify, open incidents

Pure parts, tested with plain numbers: :func:`step` (the series state
machine), :func:`learn` (a baseline band from samples), :func:`review` (how
the rules behaved over a period).
"""

from __future__ import annotations

from seawall.alerts._baseline import Band, learn
from seawall.alerts._compile import compile_rules
from seawall.alerts._counts import WindowCounts
from seawall.alerts._evaluator import AlertStatus, Evaluator
from seawall.alerts._history import Baselines, HistorySpec, history_samples
from seawall.alerts._live import MAX_RETENTION, LiveMetrics
from seawall.alerts._review import Episode, RuleReview, render_review, review
from seawall.alerts._rules import Measurement, Rule, RuleKind
from seawall.alerts._state import SeriesState, step
from seawall.alerts._types import AlertState, Transition, fingerprint

__all__ = [
    "MAX_RETENTION",
    "AlertState",
    "AlertStatus",
    "Band",
    "Baselines",
    "Episode",
    "Evaluator",
    "HistorySpec",
    "LiveMetrics",
    "Measurement",
    "Rule",
    "RuleKind",
    "RuleReview",
    "SeriesState",
    "Transition",
    "WindowCounts",
    "compile_rules",
    "fingerprint",
    "history_samples",
    "learn",
    "render_review",
    "review",
    "step",
]
