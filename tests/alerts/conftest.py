"""Shared pieces of the alert tests: a configuration, real engine events, a clock-driven run."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from seawall._events import AttemptFinished, CallFinished, Rejected
from seawall._types import ManualClock
from seawall.alerts import Baselines, Evaluator, LiveMetrics, Transition
from seawall.config import Config, check_text

#: Monday 2 November 2026, 00:00 UTC: a wall time with a known weekday and hour
MONDAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
HOUR = 3600.0
DAY = 86_400.0

INTEGRATIONS = """
integrations:
  payments:
    criticality: critical
    rpo: 1m
    providers:
      - {name: stripe, base_url: https://api.stripe.com}
      - {name: adyen, role: backup, base_url: https://checkout-test.adyen.com}
    sla: stripe-standard
  inventory:
    rpo: 5m
    freshness: {max_age: 15m}
    providers:
      - {name: shipbob, base_url: https://api.shipbob.example}
  email:
    providers:
      - {name: sendgrid, base_url: https://api.sendgrid.com}
slas:
  stripe-standard:
    provider: payments/stripe
    objectives:
      - {metric: availability, target: 99.9%}
"""


def make_config(alerts: str, integrations: str = INTEGRATIONS) -> Config:
    """A checked configuration: the integrations above and ``alerts`` (YAML list items)."""
    text = (
        textwrap.dedent(integrations) + "alerts:\n" + textwrap.indent(textwrap.dedent(alerts), "  ")
    )
    config, findings = check_text(text, env={})
    assert not findings, findings
    assert config is not None
    return config


def unchecked_config(alerts: list[dict[str, object]], integrations: str = INTEGRATIONS) -> Config:
    """A configuration the reference checks would refuse (rules must still cope with it)."""
    base = make_config("[]", integrations)
    data = base.model_dump(by_alias=True, exclude={"alerts"})
    return Config.model_validate({**data, "alerts": alerts})


def attempt(
    integration: str = "payments",
    provider: str = "stripe",
    outcome: str = "success",
    duration: float = 0.1,
) -> AttemptFinished:
    status = {"success": 200, "final": 402, "throttled": 429, "failure": 500}.get(outcome)
    return AttemptFinished(
        at=0.0,
        integration=integration,
        provider=provider,
        attempt=1,
        outcome=outcome,
        status=status,
        duration=duration,
    )


def call(integration: str = "payments", provider: str | None = "stripe") -> CallFinished:
    return CallFinished(
        at=0.0,
        integration=integration,
        provider=provider,
        method="POST",
        outcome="success",
        status=200,
        attempts=1,
        duration=0.1,
    )


def rejected(
    reason: str, integration: str = "payments", provider: str | None = "stripe"
) -> Rejected:
    return Rejected(at=0.0, integration=integration, provider=provider, reason=reason)


def traffic(
    live: LiveMetrics,
    *,
    ok: int,
    bad: int = 0,
    integration: str = "payments",
    provider: str = "stripe",
    duration: float = 0.1,
) -> None:
    """``ok`` successful and ``bad`` failed calls of one attempt each."""
    for i in range(ok + bad):
        live.emit(attempt(integration, provider, "failure" if i < bad else "success", duration))
        live.emit(call(integration, provider))


class Run:
    """A clock, live counts and an evaluator, stepped together every ``step`` seconds."""

    def __init__(
        self,
        config: Config,
        *,
        start: float = MONDAY,
        baselines: Baselines | None = None,
        backup_age: Callable[[str | None], float | None] = lambda name: None,
    ) -> None:
        self.clock = ManualClock(start)
        self.live = LiveMetrics(clock=self.clock.now)
        self.evaluator = Evaluator(config, self.live, baselines=baselines, backup_age=backup_age)
        self.transitions: list[Transition] = []

    def advance(
        self,
        seconds: float,
        *,
        each: Callable[[LiveMetrics], None] | None = None,
        step: float = 10.0,
    ) -> list[Transition]:
        """Feed ``each`` step's events, move the clock a step, evaluate; the transitions seen."""
        seen: list[Transition] = []
        for _ in range(round(seconds / step)):
            if each is not None:
                each(self.live)
            self.clock.advance(step)
            seen.extend(self.evaluator.evaluate(self.clock.now()))
        self.transitions.extend(seen)
        return seen

    @property
    def now(self) -> float:
        return self.clock.now()


def states(transitions: Iterable[Transition], rule: str | None = None) -> list[str]:
    """The states moved to, in order (of one rule's series when given)."""
    return [t.state for t in transitions if rule is None or t.rule == rule]
