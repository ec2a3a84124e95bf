"""The live faults of one simulator and the plan they make for each request.

:meth:`FaultBook.plan` is pure bookkeeping: it rolls each fault's seeded RNG,
counts what fired and returns a :class:`FaultPlan` value; the aiohttp
middleware in :mod:`seawall.chaos._inject` carries the plan out. Rules:

* Faults are considered in the order they were added.
* Every firing ``latency`` fault adds its delay (latency combines with others).
* The first firing *interrupting* fault (``error``, ``rate_limit``, ``hang``,
  ``reset``) answers instead of the vendor; later interrupting faults are not
  rolled, and post-handler faults do not apply since the vendor never ran.
* Otherwise, after the vendor ran: ``commit_then_fail`` drops the connection;
  else ``malformed_json`` garbles the body; else every firing ``drift`` applies.
* ``matched`` counts the requests a fault was rolled for, ``fired`` the ones
  it changed. ``first: N`` spends a fault after N matched requests, so
  ``{kind: error, rate: 0.5, first: 10}`` fails about half of the next ten.
  A fault not rolled (an earlier fault already interrupted) is not matched.
* A ``rate_limit`` with ``limit_per_second`` fires only when its bucket is empty.
"""

from __future__ import annotations

import fnmatch
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seawall.chaos._faults import (
    CommitThenFailFault,
    DriftFault,
    ErrorFault,
    FaultSpec,
    HangFault,
    LatencyFault,
    MalformedJsonFault,
    RateLimitFault,
    ResetFault,
)

__all__ = [
    "ActiveFault",
    "DropConnection",
    "FaultBook",
    "FaultPlan",
    "HoldOpen",
    "Interruption",
    "Respond",
    "TokenBucket",
]


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer ``status`` instead of the vendor (an ``error`` or ``rate_limit`` fault)."""

    fault_id: str
    status: int
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class HoldOpen:
    """Keep the request open until the client leaves or ``max_seconds`` pass."""

    fault_id: str
    max_seconds: float


@dataclass(frozen=True, slots=True)
class DropConnection:
    """Abort the TCP connection before the vendor runs."""

    fault_id: str


Interruption = Respond | HoldOpen | DropConnection


@dataclass(slots=True)
class FaultPlan:
    """What the faults do to one request."""

    delay_seconds: float = 0.0
    processing_delay_seconds: float = 0.0
    interruption: Interruption | None = None
    drop_after_commit: bool = False
    malformed: bool = False
    drifts: list[DriftFault] = field(default_factory=list)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; a request without a token is limited."""

    __slots__ = ("_tokens", "_updated", "burst", "rate")

    def __init__(self, *, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now

    def take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


@dataclass(slots=True)
class ActiveFault:
    """A fault in force: its spec, its own RNG and what it has done so far."""

    id: str
    spec: FaultSpec
    rng: random.Random
    matched: int = 0
    fired: int = 0
    bucket: TokenBucket | None = None

    @property
    def spent(self) -> bool:
        return self.spec.first is not None and self.matched >= self.spec.first

    def matches(self, method: str, path: str) -> bool:
        if self.spec.method is not None and self.spec.method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.spec.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.spec.model_dump(mode="json"),
            "matched": self.matched,
            "fired": self.fired,
            "spent": self.spent,
        }


class FaultBook:
    """The faults of one simulator, in the order they were added."""

    def __init__(self, *, seed: int | None, clock: Callable[[], float]) -> None:
        self._seed = seed
        self._clock = clock
        self._faults: dict[str, ActiveFault] = {}
        self._added = 0
        self._seeds = random.Random(seed)

    def add(self, spec: FaultSpec) -> ActiveFault:
        self._added += 1
        fault_id = f"flt_{self._added}"
        # Each fault draws from its own stream, so adding a second fault does
        # not change which requests the first one hits.
        seed = spec.seed if spec.seed is not None else self._seeds.getrandbits(64)
        fault = ActiveFault(id=fault_id, spec=spec, rng=random.Random(seed))
        if isinstance(spec, RateLimitFault) and spec.limit_per_second is not None:
            burst = spec.burst or max(1, math.ceil(spec.limit_per_second))
            fault.bucket = TokenBucket(rate=spec.limit_per_second, burst=burst, now=self._clock())
        self._faults[fault_id] = fault
        return fault

    def get(self, fault_id: str) -> ActiveFault | None:
        return self._faults.get(fault_id)

    def remove(self, fault_id: str) -> bool:
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        count = len(self._faults)
        self._faults.clear()
        return count

    def reset(self) -> None:
        """Remove every fault and restart ids and seeds, as on a fresh simulator."""
        self.clear()
        self._added = 0
        self._seeds = random.Random(self._seed)

    def faults(self) -> list[ActiveFault]:
        return list(self._faults.values())

    def plan(self, method: str, path: str) -> FaultPlan:
        """Roll every matching fault for one request and say what happens to it."""
        plan = FaultPlan()
        post_handler: list[ActiveFault] = []
        for fault in list(self._faults.values()):
            if fault.spent or not fault.matches(method, path):
                continue
            spec = fault.spec
            if isinstance(spec, LatencyFault):
                fault.matched += 1
                if _rolls(fault, spec.probability):
                    fault.fired += 1
                    seconds = (spec.ms + fault.rng.uniform(0.0, spec.jitter_ms)) / 1000.0
                    if spec.phase == "processing":
                        plan.processing_delay_seconds += seconds
                    else:
                        plan.delay_seconds += seconds
            elif isinstance(spec, MalformedJsonFault | DriftFault | CommitThenFailFault):
                post_handler.append(fault)
            elif plan.interruption is None:
                fault.matched += 1
                plan.interruption = self._interrupt(fault)
        if plan.interruption is None:
            self._plan_post_handler(plan, post_handler)
        return plan

    def _interrupt(self, fault: ActiveFault) -> Interruption | None:
        spec = fault.spec
        if not _rolls(fault, spec.probability):
            return None
        interruption: Interruption
        if isinstance(spec, ErrorFault):
            if fault.rng.random() >= spec.rate:
                return None
            interruption = Respond(
                fault_id=fault.id,
                status=fault.rng.choice(spec.statuses),
                body=spec.body,
                headers=tuple(spec.headers.items()),
            )
        elif isinstance(spec, RateLimitFault):
            retry_after = spec.retry_after if spec.retry_after is not None else 1
            limit = None
            if fault.bucket is not None:
                wait = fault.bucket.take(self._clock())
                if wait == 0.0:
                    return None
                limit = fault.bucket.burst
                if spec.retry_after is None:
                    retry_after = max(1, math.ceil(wait))
            interruption = Respond(
                fault_id=fault.id, status=429, retry_after=retry_after, limit=limit
            )
        elif isinstance(spec, HangFault):
            interruption = HoldOpen(fault_id=fault.id, max_seconds=spec.max_seconds)
        elif isinstance(spec, ResetFault):
            interruption = DropConnection(fault_id=fault.id)
        else:  # pragma: no cover - plan() routes every other kind elsewhere
            return None
        fault.fired += 1
        return interruption

    @staticmethod
    def _plan_post_handler(plan: FaultPlan, faults: list[ActiveFault]) -> None:
        for fault in faults:
            spec = fault.spec
            if isinstance(spec, CommitThenFailFault) and not plan.drop_after_commit:
                fault.matched += 1
                if _rolls(fault, spec.probability):
                    fault.fired += 1
                    plan.drop_after_commit = True
        if plan.drop_after_commit:
            return
        for fault in faults:
            spec = fault.spec
            if isinstance(spec, MalformedJsonFault) and not plan.malformed:
                fault.matched += 1
                if _rolls(fault, spec.probability):
                    fault.fired += 1
                    plan.malformed = True
        if plan.malformed:
            return
        for fault in faults:
            spec = fault.spec
            if isinstance(spec, DriftFault):
                fault.matched += 1
                if _rolls(fault, spec.probability):
                    fault.fired += 1
                    plan.drifts.append(spec)


def _rolls(fault: ActiveFault, probability: float) -> bool:
    return probability >= 1.0 or fault.rng.random() < probability
