"""The values alert rules produce: what notifications and incidents react to.

A rule watches one series (its labels). Each evaluation moves the series
through ``inactive -> pending -> firing -> resolved -> inactive`` and, when the
state changes, yields a :class:`Transition`. Times are Unix seconds (wall
clock): seasonality, silences and reports are about the calendar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["AlertState", "Transition", "fingerprint"]

AlertState = Literal["inactive", "pending", "firing", "resolved"]


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id for one series: the same labels give the same 16 hex digits."""
    text = "\x1f".join(f"{k}\x1e{labels[k]}" for k in sorted(labels))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A series changed state at ``at``.

    ``labels`` always hold ``alertname`` (the rule's name) and ``severity``, and
    ``integration``, ``provider`` and ``sla`` when the rule names them, plus the
    rule's own ``labels``. ``value`` is what was measured (``None``: no data);
    ``threshold`` the bound it was held against (for a baseline, the edge of
    the learned band). ``active_since`` is when the condition first held
    (the start of pending), ``fired_at`` when the series last began firing.
    """

    rule: str
    labels: Mapping[str, str]
    state: AlertState
    previous: AlertState
    at: float
    value: float | None
    threshold: float | None
    summary: str
    severity: str
    active_since: float | None = None
    fired_at: float | None = None
    #: the learned band, for a baseline rule: median, spread, samples, slot
    baseline: Mapping[str, float | str] | None = None
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.labels))
