"""Reviewing the rules: which fired, how often, for how long, and which need a second look.

:func:`review` reads the firing episodes of a period (from the store, an
export, anything with ``rule``, ``fired_at`` and ``resolved_at``) and says per
rule how many times it fired, how fast it resolved, what share of the period
it was firing, and flags the rules worth a look -- alert fatigue comes from
rules that fire constantly or flap, and a rule that never fired may be
unable to:

- ``never fired``: no episode in the period;
- ``fired constantly``: firing more than half the period, or through all of it;
- ``flapping``: five or more episodes shorter than five minutes;

and, for baseline rules, how far the learned usual value moved (then and now).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from seawall.alerts._baseline import Band
from seawall.alerts._compile import rule_kind
from seawall.alerts._format import format_age
from seawall.config import Alert

__all__ = ["Episode", "RuleReview", "render_review", "review"]

#: firing more than this share of the period is "fired constantly"
CONSTANT_SHARE = 0.5
#: this many short episodes make a rule "flapping"
FLAP_COUNT = 5
#: an episode shorter than this is short
FLAP_SECONDS = 300.0

_ADVICE = {
    "never fired": "check that its condition can be reached, or that it is still needed",
    "fired constantly": "raise its threshold, or fix what it keeps pointing at",
    "flapping": "add 'for:' or 'keep_firing_for:', or widen its window",
}


class Episode(Protocol):
    """One time a rule's series fired; ``resolved_at`` is None while it still fires."""

    @property
    def rule(self) -> str: ...

    @property
    def fired_at(self) -> float: ...

    @property
    def resolved_at(self) -> float | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleReview:
    """One rule over the reviewed period."""

    rule: str
    kind: str
    severity: str
    fired: int  #: episodes that began in the period
    firing_seconds: float  #: time firing inside the period
    firing_share: float  #: of the period
    median_resolve: float | None  #: seconds from firing to resolved, over resolved episodes
    max_resolve: float | None
    still_firing: bool
    flags: tuple[str, ...]
    baseline_then: float | None = None  #: the band's median at the period's start
    baseline_now: float | None = None
    baseline_shift: float | None = None
    baseline_shift_pct: float | None = None  #: shift over |then|; None when then is 0

    @property
    def advice(self) -> tuple[str, ...]:
        return tuple(f"{flag}: {_ADVICE[flag]}" for flag in self.flags if flag in _ADVICE)


def review(
    rules: Iterable[Alert],
    episodes: Iterable[Episode],
    *,
    since: float,
    until: float,
    bands_then: Mapping[str, Band | None] | None = None,
    bands_now: Mapping[str, Band | None] | None = None,
) -> list[RuleReview]:
    """One :class:`RuleReview` per rule, in the rules' order, over ``[since, until)``.

    Episodes of rules not given are ignored; an episode counts where it
    overlaps the period (one still firing lasts until ``until``).
    """
    if until <= since:
        msg = f"the period must end after it starts ({since} .. {until})"
        raise ValueError(msg)
    period = until - since
    by_rule: dict[str, list[Episode]] = {}
    for episode in episodes:
        by_rule.setdefault(episode.rule, []).append(episode)
    out = []
    for alert in rules:
        mine = by_rule.get(alert.name, [])
        inside = [
            e
            for e in mine
            if e.fired_at < until and (e.resolved_at is None or e.resolved_at > since)
        ]
        fired = sum(1 for e in inside if e.fired_at >= since)
        firing = sum(
            min(until, e.resolved_at if e.resolved_at is not None else until)
            - max(since, e.fired_at)
            for e in inside
        )
        durations = sorted(
            e.resolved_at - e.fired_at
            for e in inside
            if e.resolved_at is not None and e.resolved_at <= until
        )
        still = any(e.resolved_at is None or e.resolved_at >= until for e in inside)
        whole = any(
            e.fired_at <= since and (e.resolved_at is None or e.resolved_at >= until)
            for e in inside
        )
        flags = []
        if not inside:
            flags.append("never fired")
        if whole or firing / period > CONSTANT_SHARE:
            flags.append("fired constantly")
        if sum(1 for d in durations if d < FLAP_SECONDS) >= FLAP_COUNT:
            flags.append("flapping")
        then = _median(bands_then, alert.name)
        now = _median(bands_now, alert.name)
        shift = None if then is None or now is None else now - then
        out.append(
            RuleReview(
                rule=alert.name,
                kind=rule_kind(alert),
                severity=alert.severity,
                fired=fired,
                firing_seconds=firing,
                firing_share=firing / period,
                median_resolve=statistics.median(durations) if durations else None,
                max_resolve=durations[-1] if durations else None,
                still_firing=still,
                flags=tuple(flags),
                baseline_then=then,
                baseline_now=now,
                baseline_shift=shift,
                baseline_shift_pct=None if shift is None or not then else shift / abs(then),
            )
        )
    return out


def _median(bands: Mapping[str, Band | None] | None, name: str) -> float | None:
    band = None if bands is None else bands.get(name)
    return None if band is None else band.median


# -- rendering ---------------------------------------------------------------------------


def render_review(reviews: Sequence[RuleReview], fmt: str = "text") -> str:
    """The review as plain text (``text``), ``json`` or a ``markdown`` table."""
    if fmt == "json":
        rows = [{**asdict(r), "flags": list(r.flags), "advice": list(r.advice)} for r in reviews]
        return json.dumps({"rules": rows}, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(reviews)
    if fmt == "text":
        return _text(reviews)
    msg = f"no review format {fmt!r}; text, json or markdown"
    raise ValueError(msg)


def _resolve(r: RuleReview) -> str:
    if r.median_resolve is None or r.max_resolve is None:
        return "-"
    return f"{format_age(r.median_resolve)} (max {format_age(r.max_resolve)})"


def _shift(r: RuleReview) -> str:
    if r.baseline_shift is None or r.baseline_then is None or r.baseline_now is None:
        return ""
    pct = "" if r.baseline_shift_pct is None else f" ({r.baseline_shift_pct * 100:+.0f}%)"
    return f"usual value {r.baseline_then:.4g} -> {r.baseline_now:.4g}{pct}"


def _text(reviews: Sequence[RuleReview]) -> str:
    if not reviews:
        return "No alert rules to review.\n"
    lines = []
    for r in reviews:
        head = (
            f"{r.rule} [{r.kind}, {r.severity}]: fired {r.fired}x, "
            f"firing {r.firing_share * 100:.1f}% of the period, "
            f"time to resolve {_resolve(r)}"
        )
        lines.append(head + (", still firing" if r.still_firing else ""))
        shift = _shift(r)
        if shift:
            lines.append(f"  {shift}")
        lines.extend(f"  ! {advice}" for advice in r.advice)
    return "\n".join(lines) + "\n"


def _markdown(reviews: Sequence[RuleReview]) -> str:
    lines = [
        "| rule | kind | fired | firing | time to resolve | flags | baseline |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for r in reviews:
        flags = ", ".join(r.flags) or "-"
        lines.append(
            f"| {_cell(r.rule)} | {r.kind} | {r.fired} | {r.firing_share * 100:.1f}% | "
            f"{_resolve(r)} | {flags} | {_cell(_shift(r)) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
