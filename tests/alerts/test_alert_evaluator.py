"""Tests for seawall.alerts.Evaluator: rules over real events, a controlled clock, transitions out."""

from __future__ import annotations

import logging

import pytest

from seawall.alerts import Baselines, Evaluator, LiveMetrics
from tests.alerts.conftest import (
    DAY,
    HOUR,
    MONDAY,
    Run,
    attempt,
    call,
    make_config,
    rejected,
    states,
    traffic,
    unchecked_config,
)

ERRORS = "- {name: pay-errors, integration: payments, metric: error_rate, above: 5%, for: 2m}"


def healthy(live: LiveMetrics) -> None:
    traffic(live, ok=10)


def failing(live: LiveMetrics) -> None:
    traffic(live, ok=5, bad=5)


# -- (a) and (b): for, keep_firing_for, exactly once ------------------------------------


def test_a_30_second_blip_does_not_fire_a_for_2m_rule() -> None:
    """Half the calls fail for 30 s: the rule goes pending and back, and never fires."""
    run = Run(make_config(ERRORS))
    run.advance(300, each=healthy)
    run.advance(30, each=failing)
    run.advance(600, each=healthy)
    assert states(run.transitions) == ["pending", "inactive"]


def test_a_sustained_error_rate_fires_once_and_resolves_once() -> None:
    """Five minutes of failures: one firing (after ``for: 2m``), one resolution, then inactive."""
    run = Run(make_config(ERRORS))
    run.advance(300, each=healthy)
    started = run.now
    run.advance(300, each=failing)
    run.advance(600, each=healthy)
    assert states(run.transitions) == ["pending", "firing", "resolved", "inactive"]
    pending, firing, resolved, _ = run.transitions
    assert firing.at - pending.at == pytest.approx(120.0)
    assert started < pending.at <= started + 10
    assert firing.fired_at == firing.at
    assert firing.active_since == pending.at
    assert resolved.fired_at == firing.at
    assert firing.value == pytest.approx(0.5)
    assert firing.threshold == 0.05
    assert firing.summary == "payments error rate 50% is above 5% (over 1m)"
    assert firing.labels["alertname"] == "pay-errors"
    assert firing.severity == "warning"


def flapping(seconds: float, *, keep_firing_for: str) -> Run:
    """20 s of failures every 140 s, for ``seconds``; then healthy for 15 minutes."""
    rule = (
        "- {name: flappy, integration: payments, metric: error_rate, above: 5%, "
        f"keep_firing_for: {keep_firing_for}}}"
    )
    run = Run(make_config(rule))
    run.advance(120, each=healthy)
    for _ in range(round(seconds / 140)):
        run.advance(20, each=failing)
        run.advance(120, each=healthy)
    run.advance(900, each=healthy)
    return run


def test_a_flapping_metric_fires_once_with_keep_firing_for() -> None:
    """A flapping error rate with ``keep_firing_for: 5m`` fires once and resolves once."""
    run = flapping(1400, keep_firing_for="5m")
    assert states(run.transitions) == ["firing", "resolved", "inactive"]
    firing, resolved, _ = run.transitions
    assert resolved.at - firing.at > 1000  # it stayed firing through the flaps


def test_without_keep_firing_for_the_same_flapping_fires_every_time() -> None:
    """The control: the same traffic without hysteresis fires at every flap."""
    run = flapping(1400, keep_firing_for="0s")
    assert states(run.transitions).count("firing") == 10


# -- (c) and (d): baselines ----------------------------------------------------------------

BASELINE = """
- name: inventory-slow
  integration: inventory
  metric: latency_p95
  baseline: {window: 7d, seasonality: hour-of-week, deviations: 3}
"""


#: twelve 5-minute offsets from the usual value: median 0, median absolute offset 0.03
OFFSETS = (-0.05, -0.04, -0.03, -0.03, -0.02, -0.01, 0.01, 0.02, 0.03, 0.03, 0.04, 0.05)


def daily_latency_history(span: float = 7 * DAY) -> list[tuple[float, float]]:
    """Seven days of 5-minute p95 samples: 250 ms at 03:00, 450 ms at the 12:00 peak, 300 ms else.

    At 03:00 the spread is 1.4826 x 30 ms = 44 ms; at the peak twice that.
    """
    samples = []
    for i in range(int(span // 300)):
        t = MONDAY + i * 300 + 150
        hour = int((t - MONDAY) // HOUR) % 24
        usual, scale = {3: (0.25, 1.0), 12: (0.45, 2.0)}.get(hour, (0.3, 1.0))
        samples.append((t, usual + scale * OFFSETS[i % 12]))
    return samples


def baseline_run(at: float, *, history: list[tuple[float, float]] | None) -> Run:
    baselines = Baselines()
    run = Run(make_config(BASELINE), start=at, baselines=baselines)
    if history is not None:
        baselines.feed("inventory-slow", history)
    return run


def slow_calls(live: LiveMetrics) -> None:
    """9 calls of 100 ms and one of 400 ms: a p95 of 400 ms (0.3 + 0.2 x 5/10 in its bucket)."""
    traffic(live, ok=9, integration="inventory", provider="shipbob", duration=0.1)
    traffic(live, ok=1, integration="inventory", provider="shipbob", duration=0.4)


def test_a_spike_at_night_fires_but_the_same_value_at_the_daily_peak_does_not() -> None:
    """400 ms is 3.4 deviations above the usual 250 ms of 03:00, and ordinary at the 12:00 peak."""
    night = MONDAY + 7 * DAY + 3 * HOUR
    run = baseline_run(night, history=daily_latency_history())
    run.advance(300, each=slow_calls)
    assert states(run.transitions) == ["firing"]
    [firing] = run.transitions
    assert firing.value == pytest.approx(0.4)
    assert firing.baseline is not None
    assert firing.baseline["level"] == "hour-of-week"
    assert firing.baseline["slot"] == "Mon 03:00-04:00"
    median, sigma = float(firing.baseline["median"]), float(firing.baseline["sigma"])
    assert median == pytest.approx(0.25)
    assert sigma == pytest.approx(1.4826 * 0.03)
    assert 3 < (0.4 - median) / sigma < 3.5
    assert firing.threshold == pytest.approx(median + 3 * sigma)
    assert "deviations above its usual" in firing.summary
    assert firing.summary.endswith("for this hour of the week")

    peak = MONDAY + 7 * DAY + 12 * HOUR
    run = baseline_run(peak, history=daily_latency_history())
    run.advance(300, each=slow_calls)
    assert run.transitions == []
    [status] = run.evaluator.statuses()
    assert status.state == "inactive"
    assert status.value == pytest.approx(0.4)
    assert status.baseline is not None
    assert float(status.baseline["median"]) == pytest.approx(0.45)


def test_a_quiet_hour_uses_the_hour_of_day_when_the_weekday_has_no_history() -> None:
    """Only six days of history (no Monday): Monday 03:00 falls back to the other days' 03:00."""
    history = [(t, v) for t, v in daily_latency_history() if t >= MONDAY + DAY]
    run = baseline_run(MONDAY + 7 * DAY + 3 * HOUR, history=history)
    run.advance(300, each=slow_calls)
    assert states(run.transitions) == ["firing"]
    assert run.transitions[0].baseline is not None
    assert run.transitions[0].baseline["level"] == "hour-of-day"


def test_without_history_a_baseline_rule_is_learning_and_never_fires() -> None:
    """No samples, or too few: the rule reports it is learning and stays inactive."""
    for history in (None, [(MONDAY + 7 * DAY, 0.1), (MONDAY + 7 * DAY + 60, 0.1)]):
        run = baseline_run(MONDAY + 8 * DAY + 3 * HOUR, history=history)
        run.advance(600, each=slow_calls)
        assert run.transitions == []
        [status] = run.evaluator.statuses()
        assert status.note.startswith("learning")
        assert status.value == pytest.approx(0.4)
        assert "learning" in status.summary


def test_a_baseline_spike_fires_without_waiting_for_for() -> None:
    """``spike: 10``: ten spreads out fires at once although ``for`` is 30 minutes."""
    rule = BASELINE.replace("deviations: 3}", "deviations: 3, spike: 10}\n  for: 30m")
    baselines = Baselines()
    night = MONDAY + 7 * DAY + 3 * HOUR
    run = Run(make_config(rule), start=night, baselines=baselines)
    baselines.feed("inventory-slow", daily_latency_history())
    run.advance(60, each=slow_calls)  # 3.4 deviations: pending, waiting for `for`
    assert states(run.transitions) == ["pending"]
    very_slow = Run(make_config(rule), start=night, baselines=baselines)
    very_slow.advance(  # p95 of 738 ms: 11 deviations
        10,
        each=lambda live: traffic(
            live, ok=10, integration="inventory", provider="shipbob", duration=0.75
        ),
    )
    assert states(very_slow.transitions) == ["firing"]


# -- (e) burn rate ---------------------------------------------------------------------------

BURN = "- {name: burn, sla: stripe-standard, burn_rate: {long: 1h, short: 5m, factor: 14.4}}"


def some_errors(live: LiveMetrics) -> None:
    traffic(live, ok=9, bad=1)  # 10%: 100x a 99.9% budget


def test_burn_rate_needs_the_short_window_too() -> None:
    """An hour of errors that stopped five minutes ago: the long window burns, the short not."""
    run = Run(make_config(BURN))
    run.advance(3000, each=some_errors)
    assert states(run.transitions) == ["firing"]
    run.advance(400, each=healthy)
    assert states(run.transitions) == ["firing", "resolved", "inactive"]
    [status] = run.evaluator.statuses()
    assert status.state == "inactive"
    assert "not both above 14.4x" in status.summary


def test_burn_rate_needs_the_long_window_too() -> None:
    """Fresh errors burn the short window at once; it fires only once the hour has burnt enough."""
    run = Run(make_config(BURN))
    run.advance(3000, each=healthy)
    started = run.now
    run.advance(300, each=some_errors)
    assert run.transitions == []  # short: 10% > 1.44%; long: about 0.8%
    run.advance(600, each=some_errors)
    assert states(run.transitions) == ["firing"]
    fired = run.transitions[0].at - started
    # the long window's error rate passes 14.4 x 0.1% after 1.44/10 of an hour: ~8.6 minutes
    assert 480 <= fired <= 560
    assert run.transitions[0].labels["sla"] == "stripe-standard"
    assert "is burning its error budget" in run.transitions[0].summary


def test_seawalls_own_rejections_do_not_burn_the_vendors_budget() -> None:
    """Breaker-open rejections are the platform's errors, not the vendor's: no burn."""
    run = Run(make_config(BURN))

    def rejecting(live: LiveMetrics) -> None:
        traffic(live, ok=10)
        for _ in range(5):
            live.emit(rejected("circuit-open"))

    run.advance(3600, each=rejecting)
    assert run.transitions == []


def test_the_evaluator_keeps_live_counts_for_its_longest_window() -> None:
    """A burn rule with a 6 h long window makes the live counts keep at least 6 hours."""
    live = LiveMetrics(retention=60)
    Evaluator(make_config(BURN.replace("long: 1h", "long: 6h")), live)
    assert live.retention >= 6 * HOUR


# -- (f) freshness, no data, backup age --------------------------------------------------------


def test_freshness_fires_when_no_success_for_max_age() -> None:
    """inventory's max_age is 15m: failures only for 20 minutes fire it; one success resolves it."""
    run = Run(make_config("- {name: stale, integration: inventory, metric: freshness}"))
    run.advance(
        60, each=lambda live: traffic(live, ok=1, integration="inventory", provider="shipbob")
    )
    last_success = run.now - 10
    run.advance(
        1200,
        each=lambda live: traffic(live, ok=0, bad=1, integration="inventory", provider="shipbob"),
    )
    assert states(run.transitions) == ["firing"]
    assert run.transitions[0].at - last_success == pytest.approx(910.0)
    assert "no successful call for 15m" in run.transitions[0].summary
    run.advance(
        20, each=lambda live: traffic(live, ok=1, integration="inventory", provider="shipbob")
    )
    assert states(run.transitions) == ["firing", "resolved", "inactive"]


def test_freshness_counts_from_the_start_when_no_success_was_ever_seen() -> None:
    """Nothing seen since counting began: it fires once max_age has passed since then."""
    run = Run(make_config("- {name: stale, integration: inventory, metric: freshness}"))
    run.advance(890)
    assert run.transitions == []
    run.advance(20)
    assert states(run.transitions) == ["firing"]


def test_no_data_fires_after_a_silent_window_and_not_while_warming_up() -> None:
    """email, window 5m: silent from the start is not judged before 5 minutes; silence fires."""
    run = Run(make_config("- {name: quiet, integration: email, metric: no_data, window: 5m}"))
    run.advance(290)
    assert run.transitions == []
    run.advance(20)
    assert states(run.transitions) == ["firing"]
    run.advance(60, each=lambda live: live.emit(call("email", "sendgrid")))
    assert states(run.transitions) == ["firing", "resolved", "inactive"]
    run.advance(290)
    assert states(run.transitions) == ["firing", "resolved", "inactive"]
    run.advance(30)
    assert states(run.transitions) == ["firing", "resolved", "inactive", "firing"]


def test_no_data_counts_rejections_as_data() -> None:
    """A rejected call is still traffic: no_data does not fire."""
    run = Run(make_config("- {name: quiet, integration: email, metric: no_data, window: 1m}"))
    run.advance(600, each=lambda live: live.emit(rejected("bulkhead-full", "email", None)))
    assert run.transitions == []


def test_backup_age_against_the_rpo() -> None:
    """payments' rpo is 1m: 30 s is fine, 90 s fires; an unknown age neither fires nor clears."""
    ages: dict[str | None, float | None] = {"payments": 30.0, None: 30.0}
    config = make_config(
        """
        - {name: pay-backup, integration: payments, metric: backup_age, above: rpo}
        - {name: any-backup, metric: backup_age, above: rpo, for: 1m}
        """
    )
    run = Run(config, backup_age=ages.get)
    run.advance(30)
    assert run.transitions == []
    ages["payments"] = 90.0
    ages[None] = 90.0
    run.advance(10)
    assert states(run.transitions) == ["firing", "pending"]
    assert (
        run.transitions[0].summary == "the last payments backup is 1m old, older than its RPO of 1m"
    )
    ages["payments"] = None
    run.advance(10)
    assert states(run.transitions, "pay-backup") == ["firing"], "no data is not a recovery"
    statuses = {s.rule: s for s in run.evaluator.statuses()}
    assert statuses["pay-backup"].note == "no data"
    assert statuses["pay-backup"].state == "firing"
    ages["payments"] = 20.0
    run.advance(10)
    assert states(run.transitions, "pay-backup") == ["firing", "resolved"]


# -- (h) restore -------------------------------------------------------------------------------


def test_restored_firing_series_do_not_fire_again_after_a_restart() -> None:
    """Fired before a restart, restored after: no second firing; one resolution when it clears."""
    first = Run(make_config(ERRORS))
    first.advance(300, each=failing)
    assert states(first.transitions) == ["pending", "firing"]
    stored = [
        (s.fingerprint, s.fired_at)
        for s in first.evaluator.statuses()
        if s.state == "firing" and s.fired_at is not None
    ]
    fired_at = first.transitions[1].fired_at

    second = Run(make_config(ERRORS), start=first.now + 30)
    assert second.evaluator.restore([*stored, ("0123456789abcdef", 1.0)]) == 1
    second.advance(300, each=failing)
    assert second.transitions == []
    second.advance(300, each=healthy)
    assert states(second.transitions) == ["resolved", "inactive"]
    assert second.transitions[0].fired_at == fired_at


# -- robustness, reloads, statuses ----------------------------------------------------------------


def test_a_rule_that_raises_is_logged_once_reported_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broken backup_age source: the rule reports the error; the other rules carry on."""
    broken = True

    def backup_age(name: str | None) -> float | None:
        if broken:
            raise OSError("catalog unreachable")
        return 10.0

    config = make_config(
        """
        - {name: pay-backup, integration: payments, metric: backup_age, above: rpo}
        - {name: pay-errors, integration: payments, metric: error_rate, above: 5%}
        """
    )
    run = Run(config, backup_age=backup_age)
    with caplog.at_level(logging.ERROR, logger="seawall.alerts"):
        run.advance(60, each=failing)
    assert states(run.transitions) == ["firing"]
    assert run.transitions[0].rule == "pay-errors"
    assert len([r for r in caplog.records if "pay-backup" in r.getMessage()]) == 1
    statuses = {s.rule: s for s in run.evaluator.statuses()}
    assert statuses["pay-backup"].note == "error: OSError: catalog unreachable"
    broken = False
    run.advance(10, each=failing)
    assert run.evaluator.statuses()[0].note == ""


def test_reconfigure_keeps_unchanged_rules_and_resolves_removed_ones() -> None:
    """Unchanged: same state; changed, same series: still firing; removed: resolved at once."""
    before = make_config(
        """
        - {name: keep, integration: payments, metric: error_rate, above: 5%}
        - {name: change, integration: payments, metric: error_rate, above: 10%}
        - {name: drop, integration: payments, metric: error_rate, above: 20%}
        """
    )
    run = Run(before)
    run.advance(30, each=failing)
    assert sorted(states(run.transitions)) == ["firing"] * 3
    after = make_config(
        """
        - {name: keep, integration: payments, metric: error_rate, above: 5%}
        - {name: change, integration: payments, metric: error_rate, above: 60%}
        - {name: new, integration: payments, metric: error_rate, above: 70%}
        """
    )
    gone = run.evaluator.reconfigure(after, now=run.now)
    assert [(t.rule, t.state, t.previous) for t in gone] == [("drop", "resolved", "firing")]
    seen = run.advance(10, each=failing)
    assert [(t.rule, t.state) for t in seen] == [("change", "resolved")]
    statuses = {s.rule: s.state for s in run.evaluator.statuses()}
    assert statuses == {"keep": "firing", "change": "resolved", "new": "inactive"}


def test_statuses_show_every_rule_with_its_notes() -> None:
    """Learning, not applicable and plain rules all appear, with value, threshold and summary."""
    config = unchecked_config(
        [
            {"name": "errors", "integration": "payments", "metric": "error_rate", "above": "5%"},
            {"name": "slow", "integration": "inventory", "metric": "latency_p95", "baseline": {}},
            {"name": "stale", "integration": "email", "metric": "freshness"},
        ]
    )
    run = Run(config, baselines=Baselines())
    before = run.evaluator.statuses()
    assert next(s.note for s in before) == "not evaluated yet"
    assert before[2].note.startswith("not applicable")
    run.advance(10, each=healthy)
    errors, slow, stale = run.evaluator.statuses()
    assert (errors.state, errors.value, errors.threshold) == ("inactive", 0.0, 0.05)
    assert errors.summary == "payments error rate 0% is not above 5% (over 1m)"
    assert errors.evaluated_at == run.now
    assert slow.note.startswith("learning: 0 history samples, 3 needed")
    assert (
        stale.note
        == "not applicable: integration 'email' has no freshness.max_age and the rule no 'above:'"
    )
    assert stale.kind == "freshness"


def test_a_thousand_rules_evaluate_over_shared_windows() -> None:
    """Many rules on the same series read each window once and all transition as expected."""
    rules = "\n".join(
        f"- {{name: r{i}, integration: payments, metric: error_rate, above: {i % 50}%}}"
        for i in range(1000)
    )
    run = Run(make_config(rules))
    run.advance(10, each=lambda live: traffic(live, ok=75, bad=25))
    # 25% errors: the rules with a bound under 25% fire
    assert len(run.transitions) == sum(1 for i in range(1000) if i % 50 < 25)
    for t in run.transitions:
        assert t.state == "firing"


def test_attempts_of_unknown_outcomes_count_but_do_not_skew_the_error_rate() -> None:
    """An outcome the alerts do not know counts as an attempt, neither good nor bad."""
    run = Run(make_config("- {name: e, integration: payments, metric: error_rate, above: 5%}"))

    def mixed(live: LiveMetrics) -> None:
        live.emit(attempt(outcome="mystery"))
        traffic(live, ok=10)

    run.advance(60, each=mixed)
    assert run.transitions == []
    counts = run.live.window("payments", "stripe", seconds=60, now=run.now)
    assert counts.attempts == 66


def test_a_throughput_floor_waits_until_its_window_was_watched() -> None:
    """Right after a start, "below 1/s" is not judged on a few seconds of traffic."""
    rule = "- {name: slow-traffic, integration: payments, metric: throughput, below: 1/s}"
    run = Run(make_config(rule))
    run.advance(50, each=lambda live: traffic(live, ok=20))
    assert run.transitions == []
    assert run.evaluator.statuses()[0].note == "warming up"
    run.advance(60)  # no calls at all for a minute: throughput 0
    assert states(run.transitions) == ["firing"]
    assert run.transitions[0].threshold == 1.0
    assert "is below 1/s" in run.transitions[0].summary


def test_a_window_longer_than_a_week_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """Live counts keep a week at most: a longer burn window is logged as cut short."""
    with caplog.at_level(logging.WARNING, logger="seawall.alerts"):
        Evaluator(make_config(BURN.replace("long: 1h", "long: 30d")), LiveMetrics())
    assert "cut short" in caplog.text
