"""Tests for the renderers: Markdown holds the numbers, JSON round-trips, HTML is well-formed."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser

from seawall.config import Sla
from seawall.sla import (
    SlaReport,
    build_report,
    daily_series,
    load_json,
    month_bounds,
    render_html,
    render_json,
    render_markdown,
    report_to_dict,
)
from seawall.store import LATENCY_BOUNDS, RollupRow

START, END = month_bounds("2026-11")

CONTRACT = Sla.model_validate(
    {
        "provider": "payments/stripe",
        "objectives": [
            {"metric": "availability", "target": "99.99%", "measure": "minutes"},
            {"metric": "latency", "percentile": 95, "threshold": "800ms", "target": "99%"},
        ],
        "support": {"response_time": "1h", "resolution_time": "8h"},
        "credits": [{"below": "99.99%", "credit": "10%"}, {"below": "99.9%", "credit": "25%"}],
        "monthly_fee": 2000,
        "escalation": {"contact": "vendor-stripe", "after": "30m"},
    }
)


def rows() -> list[RollupRow]:
    fast = [0] * (len(LATENCY_BOUNDS) + 1)
    fast[LATENCY_BOUNDS.index(0.25)] = 10
    out = [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(START) + 60 * m,
            width=60,
            attempts=10,
            success=10,
            latency=tuple(fast),
        )
        for m in range(0, 43_200, 720)
    ]
    out += [
        RollupRow(
            integration="payments",
            provider="stripe",
            start=int(START) + 60 * m,
            width=60,
            attempts=4,
            success=1,
            timeout=3,
        )
        for m in (2000, 2001)
    ]
    return out


def report(name: str = "stripe-standard") -> SlaReport:
    return build_report(name, CONTRACT, rows(), period_start=START, period_end=END, now=END)


def test_markdown_holds_the_numbers() -> None:
    """Objectives, credit, breach times in UTC and support terms appear in the tables."""
    text = render_markdown([report()])
    assert "## stripe-standard: payments/stripe, 2026-11" in text
    assert (
        "| availability (minutes) | 99.99% | 99.9954% (43198 good / 2 bad minutes) | yes |" in text
    )
    assert "latency p95 ≤ 800 ms" in text
    assert "| 2026-11-02T09:20:00Z | 2026-11-02T09:22:00Z | 2 | 8 | 6 | 75% |" in text
    assert "| 1h | 8h | vendor-stripe after 30m |" in text
    assert "0.00 USD" in text
    assert "Verdict: **met**" in text


def test_markdown_escapes_table_breakers() -> None:
    """A pipe or tag in a name cannot break a table or inject HTML."""
    text = render_markdown([report("a|b<i>")])
    assert "a\\|b&lt;i&gt;" in text
    assert "<i>" not in text


def test_json_round_trips_exactly() -> None:
    """load_json(render_json(r)) gives equal reports, and the keys are sorted."""
    original = [report(), dataclasses.replace(report(), name="other")]
    text = render_json(original)
    assert load_json(text) == original
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2) + "\n"
    assert document["version"] == 1
    assert document["reports"][0] == report_to_dict(original[0])
    assert document["reports"][0]["credit"]["amount"] == 0.0


class _Checker(HTMLParser):
    """Records every tag and fails on one closed out of order."""

    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_well_formed_with_inline_svg_charts() -> None:
    """Every tag closes in order, and each SLA has an availability and a latency chart."""
    points = daily_series(rows(), START, END, sla=CONTRACT)
    page = render_html([report()], series={"stripe-standard": points})
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert checker.seen.count("svg") == 2
    assert checker.seen.count("polyline") >= 4  # availability + p50/p95/p99
    assert "circle" in checker.seen
    assert "script" not in checker.seen
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    text = "".join(checker.text)
    assert "availability per day" in text
    assert "2026-11-02T09:20:00Z" in text


def test_html_escapes_every_piece_of_text() -> None:
    """A name carrying markup is shown as text, never parsed as tags."""
    evil = "<script>alert(1)</script>"
    page = render_html([report(evil)], series={evil: daily_series(rows(), START, END)})
    checker = _Checker()
    checker.feed(page)
    assert "script" not in checker.seen
    assert evil in "".join(checker.text)


def test_html_without_a_series_says_so() -> None:
    """An SLA with no daily points gets a sentence instead of charts."""
    page = render_html([report()], series={})
    assert "<svg" not in page
    assert "No daily series" in page
