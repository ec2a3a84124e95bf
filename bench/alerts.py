"""Benchmark: one evaluation of 1,000 alert rules over live counts, against a 50 ms target.

    .venv/bin/python bench/alerts.py            # 1,000 rules, 50 integrations, 6 h of traffic
    .venv/bin/python bench/alerts.py --quick    # 200 rules, 10 integrations, 1 h: a smoke run
    .venv/bin/python bench/alerts.py --json     # results as JSON on stdout

Fifty integrations of two providers each get realistic traffic -- a few calls
per provider every 10 s, mostly successes, some declines, throttles and
faults, log-normal latencies, and an incident on every tenth integration in
the last 20 minutes -- fed as real engine events into a
:class:`~seawall.alerts.LiveMetrics`. The rules are a mix of the kinds a
configuration holds: 50% thresholds (error rate, availability, p95/p99
latency, throughput), 30% baselines (each fed a week of 5-minute history)
and 20% SLA burn rates (1h/5m and 6h/30m pairs).

Then ``Evaluator.evaluate(now)`` runs ``--rounds`` times, the clock 10 s
further each round (with that round's traffic emitted in between, untimed);
the median and p95 per evaluation are printed against the target (printed,
never asserted), and the first evaluation of a new hour, which learns every
baseline's band for it (``Baselines.refresh`` does that ahead of time when a
store is attached). The baseline, measured in the same run: reading the same
windows by summing per-bucket counts (what a plain ring of buckets does),
without the cumulative snapshots.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from seawall._events import AttemptFinished, CallFinished, Event, Rejected
from seawall.alerts import Baselines, Evaluator, LiveMetrics
from seawall.alerts._rules import BaselineRule, BurnRateRule, Rule, ThresholdRule
from seawall.config import Config

try:  # python bench/alerts.py
    from _common import percentile
except ModuleNotFoundError:  # python -m bench.alerts
    from bench._common import percentile

TARGET_MS = 50.0
#: Monday 2 November 2026, 12:00 UTC: a busy hour
START = 1_793_577_600.0 + 12 * 3600
STEP = 10.0
PROVIDERS = ("primary", "backup")


@dataclass(frozen=True)
class Sizes:
    integrations: int
    rules: int
    traffic_seconds: float
    rounds: int


def _name(index: int) -> str:
    return f"integration-{index:02d}"


def build_config(sizes: Sizes, rng: random.Random) -> Config:
    integrations = {
        _name(i): {
            "rpo": "5m",
            "providers": [
                {"name": "primary", "base_url": f"https://{_name(i)}.example"},
                {"name": "backup", "role": "backup", "base_url": f"https://b.{_name(i)}.example"},
            ],
        }
        for i in range(sizes.integrations)
    }
    slas = {
        f"sla-{i:02d}": {
            "provider": f"{_name(i)}/primary",
            "objectives": [{"metric": "availability", "target": "99.9%"}],
        }
        for i in range(sizes.integrations)
    }
    thresholds = [
        ("error_rate", {"above": "5%"}),
        ("availability", {"below": "99%"}),
        ("latency_p95", {"above": "800ms"}),
        ("latency_p99", {"above": "2s"}),
        ("throughput", {"below": "0.1/s"}),
    ]
    alerts: list[dict[str, Any]] = []
    for n in range(sizes.rules):
        i = n % sizes.integrations
        common: dict[str, Any] = {"name": f"rule-{n:04d}", "for": rng.choice(["0s", "1m", "2m"])}
        if rng.random() < 0.5:
            common["provider"] = rng.choice(PROVIDERS)
        kind = n % 10
        if kind < 5:
            metric, bound = thresholds[n % len(thresholds)]
            alerts.append({**common, "integration": _name(i), "metric": metric, **bound})
        elif kind < 8:
            metric = ("latency_p95", "error_rate", "throughput")[n % 3]
            spec = {"deviations": 3, "direction": "below" if metric == "throughput" else "above"}
            alerts.append({**common, "integration": _name(i), "metric": metric, "baseline": spec})
        else:
            pair = rng.choice([("1h", "5m", 14.4), ("6h", "30m", 6)])
            burn = {"long": pair[0], "short": pair[1], "factor": pair[2]}
            alerts.append({"name": common["name"], "sla": f"sla-{i:02d}", "burn_rate": burn})
    return Config.model_validate({"integrations": integrations, "slas": slas, "alerts": alerts})


class Traffic:
    """Pre-built engine events per provider, emitted a bucket at a time."""

    def __init__(self, sizes: Sizes, rng: random.Random) -> None:
        self._rng = rng
        self._sizes = sizes
        self._pools: dict[tuple[str, str, bool], list[Event]] = {}
        for i in range(sizes.integrations):
            for provider in PROVIDERS:
                for incident in (False, True):
                    self._pools[(_name(i), provider, incident)] = self._pool(
                        _name(i), provider, incident=incident
                    )

    def _pool(self, integration: str, provider: str, *, incident: bool) -> list[Event]:
        rng = self._rng
        out: list[Event] = []
        for _ in range(200):
            roll = rng.random()
            if incident:
                outcome = "failure" if roll < 0.3 else "timeout" if roll < 0.4 else "success"
            else:
                outcome = (
                    "final"
                    if roll < 0.03
                    else "throttled"
                    if roll < 0.05
                    else "failure"
                    if roll < 0.06
                    else "success"
                )
            duration = rng.lognormvariate(math.log(0.12), 0.6) * (4 if incident else 1)
            out.append(
                AttemptFinished(
                    at=0.0,
                    integration=integration,
                    provider=provider,
                    attempt=1,
                    outcome=outcome,
                    status=None,
                    duration=duration,
                )
            )
            out.append(
                CallFinished(
                    at=0.0,
                    integration=integration,
                    provider=provider,
                    method="GET",
                    outcome=outcome,
                    status=None,
                    attempts=1,
                    duration=duration,
                )
            )
        out.append(
            Rejected(at=0.0, integration=integration, provider=provider, reason="circuit-open")
        )
        return out

    def bucket(self, sinks: list[Any], now: float) -> int:
        """One bucket of traffic for every provider; the events emitted."""
        rng = self._rng
        emitted = 0
        late = now > START - 1200
        for i in range(self._sizes.integrations):
            incident = late and i % 10 == 0
            for provider in PROVIDERS:
                pool = self._pools[(_name(i), provider, incident)]
                calls = rng.randint(1, 6) if provider == "primary" else rng.randint(0, 1)
                for _ in range(calls):
                    at = 2 * rng.randrange(len(pool) // 2)
                    for sink in sinks:
                        sink.emit(pool[at])
                        sink.emit(pool[at + 1])
                    emitted += 2
        return emitted


class BucketSums:
    """The baseline: per-bucket counts, a window is the sum of its buckets."""

    def __init__(self, live: LiveMetrics, clock: list[float]) -> None:
        self._live = live
        self._clock = clock
        self.buckets: dict[tuple[str, str | None], dict[int, list[float]]] = {}

    def emit(self, event: Event) -> None:
        if not isinstance(event, AttemptFinished | CallFinished):
            return
        bucket = math.floor(self._clock[0] / STEP)
        keys = [(event.integration, event.provider), (event.integration, None)]
        for key in keys:
            series = self.buckets.setdefault(key, {})
            counts = series.get(bucket)
            if counts is None:
                counts = series[bucket] = [0.0] * 35
            counts[0] += 1

    def window(self, integration: str, provider: str | None, seconds: float, now: float) -> float:
        series = self.buckets.get((integration, provider), {})
        first, last = math.floor((now - seconds) / STEP), math.floor(now / STEP)
        total = [0.0] * 35
        for bucket in range(first, last + 1):
            counts = series.get(bucket)
            if counts is not None:
                total = [a + b for a, b in zip(total, counts, strict=True)]
        return total[0]


def windows_of(rule: Rule) -> list[tuple[str, str | None, float]]:
    if rule.integration is None:
        return []
    if isinstance(rule, BurnRateRule):
        return [
            (rule.integration, rule.provider, rule.long),
            (rule.integration, rule.provider, rule.short),
        ]
    if isinstance(rule, ThresholdRule | BaselineRule):
        return [(rule.integration, rule.provider, rule.window)]
    return []


def feed_history(baselines: Baselines, evaluator: Evaluator, rng: random.Random) -> int:
    """A week of 5-minute samples per baseline rule, with a daily rhythm."""
    fed = 0
    for rule in evaluator.rules:
        if not isinstance(rule, BaselineRule):
            continue
        usual = {"latency_p95": 0.2, "error_rate": 0.01, "throughput": 0.3}[rule.metric]
        samples = []
        for k in range(7 * 288):
            t = START - 7 * 86_400 + k * 300 + 150
            rhythm = 1 + 0.5 * math.sin((t % 86_400) / 86_400 * 2 * math.pi)
            samples.append((t, usual * rhythm * rng.uniform(0.85, 1.15)))
        baselines.feed(rule.name, samples)
        fed += len(samples)
    return fed


def run(sizes: Sizes, *, time_cap: float) -> dict[str, Any]:
    rng = random.Random(20261102)
    config = build_config(sizes, rng)
    clock = [START - sizes.traffic_seconds]
    live = LiveMetrics(clock=lambda: clock[0])
    baselines = Baselines()
    evaluator = Evaluator(config, live, baselines=baselines)
    kinds: dict[str, int] = {}
    for rule in evaluator.rules:
        kinds[rule.kind] = kinds.get(rule.kind, 0) + 1
    traffic = Traffic(sizes, rng)
    naive = BucketSums(live, clock)
    sinks: list[Any] = [live, naive]

    began = time.perf_counter()
    events = 0
    buckets = int(sizes.traffic_seconds // STEP)
    filled = 0
    for _ in range(buckets):
        events += traffic.bucket(sinks, clock[0])
        clock[0] += STEP
        filled += 1
        if time.perf_counter() - began > time_cap:
            break
    fill_seconds = time.perf_counter() - began
    samples = feed_history(baselines, evaluator, rng)
    for _ in range(3):  # warm the per-hour band cache, as the running evaluator has it
        evaluator.evaluate(clock[0])

    timings: list[float] = []
    transitions = 0
    deadline = time.perf_counter() + time_cap
    gc.collect()
    for _ in range(sizes.rounds):
        traffic.bucket(sinks, clock[0])
        clock[0] += STEP
        t0 = time.perf_counter()
        transitions += len(evaluator.evaluate(clock[0]))
        timings.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline:
            break

    # the first evaluation in a new hour learns every baseline's band for that hour
    clock[0] = math.floor(clock[0] / 3600 + 1) * 3600 + 5
    t0 = time.perf_counter()
    evaluator.evaluate(clock[0])
    new_hour_ms = (time.perf_counter() - t0) * 1000

    wanted = [w for rule in evaluator.rules for w in windows_of(rule)]
    naive_timings: list[float] = []
    deadline = time.perf_counter() + time_cap
    for _ in range(max(3, sizes.rounds // 10)):
        t0 = time.perf_counter()
        for integration, provider, seconds in wanted:
            naive.window(integration, provider, seconds, clock[0])
        naive_timings.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline:
            break

    ordered = sorted(timings)
    median_ms = statistics.median(ordered) * 1000
    p95_ms = percentile(ordered, 0.95) * 1000
    naive_ms = statistics.median(naive_timings) * 1000
    firing = sum(1 for s in evaluator.statuses() if s.state == "firing")
    return {
        "rules": len(evaluator.rules),
        "kinds": kinds,
        "integrations": sizes.integrations,
        "traffic_seconds": filled * STEP,
        "events": events,
        "fill_seconds": fill_seconds,
        "history_samples": samples,
        "rounds": len(timings),
        "median_ms": median_ms,
        "p95_ms": p95_ms,
        "max_ms": ordered[-1] * 1000,
        "new_hour_ms": new_hour_ms,
        "target_ms": TARGET_MS,
        "pass": p95_ms <= TARGET_MS,
        "transitions": transitions,
        "firing": firing,
        "windows_per_round": len(wanted),
        "baseline_ms": naive_ms,
        "baseline_rounds": len(naive_timings),
        "ratio": median_ms / naive_ms if naive_ms else math.nan,
    }


def render(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["pass"] else "MISS"
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(result["kinds"].items()))
    lines = [
        f"Alert evaluation: {result['rules']:,} rules ({kinds}) over "
        f"{result['integrations']} integrations",
        f"  live counts: {result['events']:,} events over {result['traffic_seconds'] / 3600:.1f} h "
        f"(fed in {result['fill_seconds']:.1f} s); {result['history_samples']:,} history samples",
        f"  evaluate(), {result['rounds']} rounds: median {result['median_ms']:.2f} ms, "
        f"p95 {result['p95_ms']:.2f} ms, max {result['max_ms']:.2f} ms  "
        f"(target p95 <= {TARGET_MS:.0f} ms): {verdict}",
        f"  the first evaluation of a new hour, learning "
        f"{result['kinds'].get('baseline', 0)} bands: {result['new_hour_ms']:.1f} ms",
        f"  baseline, the same {result['windows_per_round']:,} windows summed bucket by bucket: "
        f"{result['baseline_ms']:.1f} ms a round (median of {result['baseline_rounds']})",
        f"  ratio seawall / baseline: {result['ratio']:.3f}x",
        f"  {result['transitions']} transitions in the timed rounds, "
        f"{result['firing']} series firing",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 rules, 10 integrations, 1 h")
    parser.add_argument("--json", action="store_true", help="print JSON results on stdout")
    parser.add_argument("--rounds", type=int, default=50, help="timed evaluations (default 50)")
    parser.add_argument(
        "--time-cap", type=float, default=60.0, help="seconds each phase may take at most"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.quick:
        sizes = Sizes(integrations=10, rules=200, traffic_seconds=3600.0, rounds=args.rounds)
    else:
        sizes = Sizes(integrations=50, rules=1000, traffic_seconds=6 * 3600.0, rounds=args.rounds)
    result = run(sizes, time_cap=args.time_cap)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
