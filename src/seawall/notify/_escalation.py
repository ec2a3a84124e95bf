"""Escalation chains: who is told next, and when, while nobody acknowledges.

A chain starts when its group first has something to notify (usually the
first firing alert; later, if the group began silenced). Step ``i`` is due at
``started + step.after``, and never before the group's first message (its
``group_wait``), so a step with ``after: 0`` goes out with that message. An
acknowledgement stops the chain: no later step fires for this episode of the
group. The chain is a value; the notifier asks it what is due at ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass

from seawall.config import EscalationStep

__all__ = ["Chain"]


@dataclass(slots=True, kw_only=True)
class Chain:
    """The escalation ``name`` of one group, and how far it has gone."""

    name: str
    steps: tuple[EscalationStep, ...]
    started_at: float | None = None
    #: the index of the next step to fire (``len(steps)`` when all have)
    next_step: int = 0
    #: why the chain stopped early (``acknowledged by alice``), or None
    stopped: str | None = None

    def step_at(self, index: int, first_due: float) -> float | None:
        """When step ``index`` is due, or None before the chain has started."""
        if self.started_at is None:
            return None
        return max(self.started_at + self.steps[index].after, first_due)

    def next_at(self, first_due: float) -> float | None:
        """When the next step is due; None when nothing more will fire (or not started)."""
        if self.stopped is not None or self.next_step >= len(self.steps):
            return None
        return self.step_at(self.next_step, first_due)

    def take_due(self, now: float, first_due: float) -> list[int]:
        """The steps due at ``now``, in order; they count as fired from here on."""
        due: list[int] = []
        while self.stopped is None and self.next_step < len(self.steps):
            at = self.step_at(self.next_step, first_due)
            if at is None or now < at:
                break
            due.append(self.next_step)
            self.next_step += 1
        return due

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
