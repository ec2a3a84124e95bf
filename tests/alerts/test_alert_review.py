"""Tests for seawall.alerts._review: how the rules behaved over a period, and the flags."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from seawall.alerts import Band, RuleReview, render_review, review
from tests.alerts.conftest import DAY, MONDAY, make_config

SINCE, UNTIL = MONDAY, MONDAY + 7 * DAY

CONFIG = make_config(
    """
    - {name: quiet, integration: payments, metric: error_rate, above: 50%}
    - {name: noisy, integration: payments, metric: error_rate, above: 0.1%}
    - {name: flappy, integration: payments, metric: latency_p95, above: 300ms}
    - {name: fine, integration: payments, metric: error_rate, above: 5%}
    - {name: learned, integration: inventory, metric: latency_p95, baseline: {}}
    - {name: stuck, integration: inventory, metric: throughput, below: 1/s}
    """
)


@dataclass(frozen=True)
class Episode:
    rule: str
    fired_at: float
    resolved_at: float | None


def band(median: float) -> Band:
    return Band(
        median=median,
        sigma=0.01,
        mad=0.0067,
        samples=84,
        level="hour-of-week",
        slot="Mon 03:00-04:00",
    )


def reviews() -> dict[str, RuleReview]:
    episodes = [
        Episode("noisy", SINCE + DAY, SINCE + 5 * DAY),  # 4 of 7 days
        *(Episode("flappy", SINCE + i * 3600, SINCE + i * 3600 + 120) for i in range(6)),
        Episode("fine", SINCE + DAY, SINCE + DAY + 600),
        Episode("fine", SINCE + 2 * DAY, SINCE + 2 * DAY + 1800),
        Episode("fine", SINCE - 600, SINCE + 300),  # began before the period
        Episode("stuck", SINCE - DAY, None),  # firing all along
        Episode("gone", SINCE, SINCE + 60),  # a rule no longer configured
    ]
    found = review(
        CONFIG.alerts,
        episodes,
        since=SINCE,
        until=UNTIL,
        bands_then={"learned": band(0.12)},
        bands_now={"learned": band(0.15)},
    )
    return {r.rule: r for r in found}


def test_each_rule_gets_counts_times_and_flags() -> None:
    """Fired counts, time to resolve and share firing are measured inside the period."""
    r = reviews()
    assert list(r) == ["quiet", "noisy", "flappy", "fine", "learned", "stuck"]
    assert (r["fine"].fired, r["fine"].flags) == (2, ())
    assert r["fine"].firing_seconds == pytest.approx(600 + 1800 + 300)
    assert r["fine"].median_resolve == 900.0  # of 600, 900 (the one begun before) and 1800
    assert r["fine"].max_resolve == 1800.0
    assert not r["fine"].still_firing
    assert r["noisy"].firing_share == pytest.approx(4 / 7)


def test_never_fired_constantly_and_flapping_are_flagged() -> None:
    """No episode; firing over half the period or all of it; five or more short episodes."""
    r = reviews()
    assert r["quiet"].flags == ("never fired",)
    assert r["quiet"].fired == 0
    assert r["quiet"].median_resolve is None
    assert r["noisy"].flags == ("fired constantly",)
    assert r["stuck"].flags == ("fired constantly",)
    assert r["stuck"].still_firing
    assert r["stuck"].fired == 0
    assert r["stuck"].firing_share == pytest.approx(1.0)
    assert r["flappy"].flags == ("flapping",)
    assert r["flappy"].fired == 6
    assert any("keep_firing_for" in advice for advice in r["flappy"].advice)


def test_four_short_episodes_are_not_flapping() -> None:
    """The flapping flag needs five short episodes, not four."""
    episodes = [Episode("fine", SINCE + i * 3600, SINCE + i * 3600 + 60) for i in range(4)]
    [_, _, _, fine, *_] = review(CONFIG.alerts, episodes, since=SINCE, until=UNTIL)
    assert fine.flags == ()


def test_a_baseline_rule_reports_how_far_its_usual_value_moved() -> None:
    """The band's median then and now: absolute and relative shift."""
    learned = reviews()["learned"]
    assert learned.kind == "baseline"
    assert (learned.baseline_then, learned.baseline_now) == (0.12, 0.15)
    assert learned.baseline_shift == pytest.approx(0.03)
    assert learned.baseline_shift_pct == pytest.approx(0.25)


def test_renders_as_text_json_and_markdown() -> None:
    """Each format carries the rules and their flags; an unknown format is refused."""
    found = list(reviews().values())
    text = render_review(found)
    assert "noisy [threshold, warning]: fired 1x, firing 57.1% of the period" in text
    assert "usual value 0.12 -> 0.15 (+25%)" in text
    data = json.loads(render_review(found, "json"))
    assert [row["rule"] for row in data["rules"]] == [
        "quiet",
        "noisy",
        "flappy",
        "fine",
        "learned",
        "stuck",
    ]
    assert data["rules"][2]["flags"] == ["flapping"]
    markdown = render_review(found, "markdown")
    assert markdown.splitlines()[0].startswith("| rule | kind | fired |")
    assert "| flappy | threshold | 6 |" in markdown
    with pytest.raises(ValueError, match="text, json or markdown"):
        render_review(found, "yaml")


def test_the_period_must_have_a_length() -> None:
    """A period that ends before it starts is refused."""
    with pytest.raises(ValueError, match="end after it starts"):
        review(CONFIG.alerts, [], since=UNTIL, until=SINCE)
