"""Benchmark: failover speed when the primary provider dies, hangs or answers 503.

    .venv/bin/python bench/failover.py            # full run, under a minute
    .venv/bin/python bench/failover.py --quick    # smoke run, about 20-30 s
    .venv/bin/python bench/failover.py --json     # results as JSON on stdout
    .venv/bin/python bench/failover.py --loop asyncio   # default: uvloop, every process

Two ``inventory`` vendor simulators (``seawall.chaos``, the same dialect), each
in its own child process on 127.0.0.1: a primary and a ``role: backup``. A
client sends a steady open-loop stream of idempotent GETs (one every
``1/rate`` s, each in its own task, so a slow call never delays the next one)
for ``pre`` seconds, then the primary fails at a known instant and the stream
goes on for ``post`` seconds. Three ways to fail, each with a fresh primary:

- ``die``: the primary process gets SIGKILL. Its listening socket and
  keep-alive connections close with it: new connections are refused, pooled
  ones are closed or reset;
- ``hang``: the primary takes every request and never answers (a ``hang``
  fault), so failover waits for the per-attempt timeout;
- ``503``: the primary answers every request 503 (an ``error`` fault).

Two contenders see the same traffic: httpx over ``seawall.Transport`` (failover
routing, 250 ms per-attempt timeout, 3 attempts, breaker and outlier detection
as configured in ``CONFIG``), and plain httpx with a naive client-side
failover (GET the primary with the same 250 ms timeout; on an exception or a
5xx, GET the backup). The backup simulator is shared by every run (it is only
read from); each run gets a fresh primary.

Reported per scenario and contender, from per-request timestamps: the time
from the failure to the first success answered by the backup
(``response.extensions["seawall"].provider``), the calls that failed as the application saw them
(an exception or a non-2xx answer), p50/p99 latency before and after the
failure (and in the steady state from 1 s after it), calls answered after a
failover (``attempts`` > 1), and how many attempts still went to the
failed primary after the failure, and until when. For seawall those come from
the engine's own ``AttemptFinished`` events (the attempt's start is its end
minus its duration), with the outlier-ejection and breaker transitions that
stopped them; the naive client tries the primary first on every call.

The issue's targets are printed (PASS/MISS), never asserted: the first success
on the backup within the attempt timeout plus 50 ms, and zero errors seen by
the application for idempotent calls. The exit status is 0 whatever they say.
Progress goes to stderr, the tables (or the JSON) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

import seawall
from seawall._events import AttemptFinished, BreakerChanged, ProviderHealthChanged, RecordingSink
from seawall.chaos import SimulatorControl
from seawall.config import Config, check_text

try:  # python bench/failover.py
    from _common import default_loop, loop_factory, percentile, progress, render_table
except ModuleNotFoundError:  # python -m bench.failover
    from bench._common import default_loop, loop_factory, percentile, progress, render_table

INTEGRATION = "inventory"
SIM_KIND = "inventory"
PATH = "/v1/inventory/SKU-1001"
PRIMARY = "primary"
BACKUP = "backup"
SEAWALL = "httpx + seawall.Transport"
NAIVE = "httpx + naive failover"

#: The per-attempt timeout (seawall's ``timeout``; httpx's connect/read/write/pool).
TIMEOUT = 0.25
#: The issue's target: first success on the backup within the timeout plus this.
TARGET_SLACK = 0.05
#: Calls this long after the failure count as the steady state.
STEADY_AFTER = 1.0
#: At most this many calls in flight per run (the open loop's safety bound).
MAX_INFLIGHT = 512
#: Calls to the primary before the clock starts (connections, first-call paths).
WARMUP_CALLS = 20

#: Failover routing over two simulators of one dialect. seawall's default breaker
#: and outlier detection, spelled out; a 250 ms per-attempt timeout within a 1 s
#: deadline; the egress guard admits loopback.
CONFIG = """
version: 1
gateway:
  egress:
    allow: [127.0.0.1/32]
defaults:
  policy:
    timeout: 250ms
    deadline: 1s
    retry:
      attempts: 3
      backoff: {initial: 50ms, max: 1s, multiplier: 2, jitter: full}
      on: [connect-error, timeout, 429, 502, 503, 504]
      budget: {ratio: 20%, min_per_second: 5}
    circuit_breaker:
      window: {type: count, size: 50}
      min_calls: 20
      failure_rate: 50%
      slow_call: {duration: 1s, rate: 80%}
      open_for: 30s
      half_open_calls: 3
    bulkhead: {max_concurrent: 100, max_queue: 200, queue_timeout: 500ms}
integrations:
  inventory:
    routing: failover
    providers:
      - {name: primary, base_url: "$PRIMARY_URL"}
      - {name: backup, role: backup, base_url: "$BACKUP_URL"}
    outlier_detection:
      consecutive_failures: 5
      failure_rate: 50%
      min_calls: 10
      interval: 10s
      base_ejection: 30s
"""

SCENARIOS: dict[str, str] = {
    "die": "the primary process is SIGKILLed (connections refused or reset)",
    "hang": "the primary accepts every request and never answers (hang fault)",
    "503": "the primary answers every request 503 (error fault)",
}

clock = time.monotonic  # the engine's clock too, so its events share our time base


@dataclass(frozen=True, slots=True)
class Sizes:
    rate: float  # calls per second
    pre: float  # seconds of traffic before the failure
    post: float  # seconds of traffic after it


FULL = Sizes(rate=200.0, pre=1.5, post=3.0)
QUICK = Sizes(rate=200.0, pre=0.5, post=1.5)


def make_config(primary_url: str, backup_url: str) -> Config:
    text = CONFIG.replace("$PRIMARY_URL", primary_url).replace("$BACKUP_URL", backup_url)
    config, findings = check_text(text, env={})
    if config is None or findings:
        msg = "benchmark config is invalid:\n" + "\n".join(str(f) for f in findings)
        raise SystemExit(msg)
    return config


# -- simulator processes -------------------------------------------------------------


async def _serve(kind: str) -> None:
    from seawall.chaos import serve_simulator

    loop = asyncio.get_running_loop()
    sim = await serve_simulator(kind, host="127.0.0.1", port=0, seed=1)
    # Move the start-up objects out of the collector's reach: a full collection
    # over them stalls the simulator for tens of ms, which is no vendor's failure.
    gc.collect()
    gc.freeze()
    print(json.dumps({"port": sim.port, "pid": os.getpid()}), flush=True)
    stopped = loop.create_future()

    def watch_parent() -> None:
        # The parent holds our stdin open; EOF means it is gone (or done with us).
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        await stopped
    finally:
        await sim.close()


class SimProcess:
    """A vendor simulator in a child process on 127.0.0.1 (``python failover.py serve``)."""

    def __init__(self, kind: str, loop: str) -> None:
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "serve",
                "--kind",
                kind,
                "--loop",
                loop,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.port = 0
        self.pid = 0
        self.killed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self, timeout: float = 15.0) -> SimProcess:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        found, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if found else b""
        if not line:
            self.stop()
            msg = f"the {SIM_KIND} simulator did not start within {timeout:g}s"
            raise RuntimeError(msg)
        info = json.loads(line)
        self.port, self.pid = int(info["port"]), int(info["pid"])
        return self

    def kill(self) -> float:
        """SIGKILL: the process dies with its sockets. Returns the instant, before the signal."""
        assert self._proc is not None
        at = clock()
        os.kill(self._proc.pid, signal.SIGKILL)
        self.killed = True
        return at

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # the simulator's signal to stop
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


# -- contenders --------------------------------------------------------------------------

#: One call: (status, provider that answered, attempts), or an exception.
Send = Callable[[], Awaitable[tuple[int, str, int]]]


@dataclass(slots=True)
class Contender:
    name: str
    send: Send
    close: Callable[[], Awaitable[None]]
    sink: RecordingSink | None = None  # seawall's engine events


def seawall_contender(config: Config) -> Contender:
    sink = RecordingSink()
    client = httpx.AsyncClient(
        transport=seawall.Transport(INTEGRATION, config=config, sink=sink),
        base_url="http://inventory",
        timeout=5.0,  # not used by seawall.Transport; its own policy times each attempt
    )

    async def send() -> tuple[int, str, int]:
        response = await client.get(PATH)
        info: seawall.CallInfo = response.extensions["seawall"]
        return response.status_code, info.provider, info.attempts

    return Contender(SEAWALL, send, client.aclose, sink)


def naive_contender(primary_url: str, backup_url: str) -> Contender:
    """Try the primary; on any exception or a 5xx, try the backup once."""
    timeout = httpx.Timeout(TIMEOUT)
    primary = httpx.AsyncClient(base_url=primary_url, timeout=timeout, trust_env=False)
    backup = httpx.AsyncClient(base_url=backup_url, timeout=timeout, trust_env=False)

    async def send() -> tuple[int, str, int]:
        try:
            response = await primary.get(PATH)
        except httpx.HTTPError:
            pass
        else:
            if response.status_code < 500:
                return response.status_code, PRIMARY, 1
        response = await backup.get(PATH)
        return response.status_code, BACKUP, 2

    async def close() -> None:
        await primary.aclose()
        await backup.aclose()

    return Contender(NAIVE, send, close)


# -- one run: steady traffic, a failure at a known instant ----------------------------------


@dataclass(slots=True)
class Record:
    """One call as the application saw it."""

    due: float
    start: float = 0.0
    end: float = 0.0
    ok: bool = False
    status: int | None = None
    provider: str = ""
    attempts: int = 0
    error: str = ""


@dataclass(slots=True)
class Run:
    scenario: str
    contender: str
    records: list[Record]
    kill_at: float
    inject: float  # how long putting the failure in place took (the open loop waited)
    max_lag: float  # how late the open loop started a call, at worst
    unfinished: int
    cpu: float  # the client process's CPU seconds over the run (the simulators are children)
    events: list[Any] = field(default_factory=list)


async def drive(send: Send, sizes: Sizes, fail: Callable[[], Awaitable[float]]) -> Run:
    """``sizes.rate`` calls per second for ``pre + post`` seconds; ``fail()`` after ``pre``.

    Open loop: call ``i`` is due at ``t0 + i / rate`` whatever the earlier calls
    are doing, so a hanging provider does not slow the offered load (no
    coordinated omission), bounded by ``MAX_INFLIGHT`` and a fixed call count.
    ``fail()`` returns the instant from which every new call meets the failure;
    no call starts while it runs, so none races the failure's injection.
    """
    interval = 1.0 / sizes.rate
    total = round((sizes.pre + sizes.post) * sizes.rate)
    fail_index = round(sizes.pre * sizes.rate)
    gate = asyncio.Semaphore(MAX_INFLIGHT)
    records: list[Record] = []
    tasks: set[asyncio.Task[None]] = set()
    kill_at = inject = 0.0

    async def one(record: Record) -> None:
        record.start = clock()
        try:
            status, provider, attempts = await send()
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            record.provider = str(getattr(exc, "provider", "") or "")
            record.attempts = int(getattr(exc, "attempts", 0) or 0)
        else:
            record.status, record.provider, record.attempts = status, provider, attempts
            record.ok = 200 <= status < 300
            if not record.ok:
                record.error = f"HTTP {status}"
        finally:
            record.end = clock()
            gate.release()

    cpu = time.process_time()
    t0 = clock() + 0.02
    for i in range(total):
        due = t0 + i * interval
        if i == fail_index:
            wait = due - clock()
            if wait > 0:
                await asyncio.sleep(wait)
            began = clock()
            kill_at = await fail()
            inject = clock() - began
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        await gate.acquire()
        record = Record(due=due)
        records.append(record)
        task = asyncio.create_task(one(record))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    unfinished = 0
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=5.0)
        unfinished = len(pending)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        for record in records:
            if not record.ok and not record.error:
                record.error = "unfinished: still running 5 s after the last call started"
    cpu = time.process_time() - cpu
    lag = max((r.start - r.due for r in records if r.start), default=0.0)
    return Run("", "", records, kill_at, inject, lag, unfinished, cpu)


async def run_one(
    scenario: str, make: Callable[[str], Contender], backup: SimProcess, sizes: Sizes, loop: str
) -> Run:
    primary = SimProcess(SIM_KIND, loop).ready()
    control_client = httpx.AsyncClient(trust_env=False, timeout=5.0)
    control = SimulatorControl(primary.url, client=control_client)
    contender = make(primary.url)

    async def fail() -> float:
        if scenario == "die":
            # Conservative: the instant before the signal; the process is gone
            # (and its sockets closed) a few ms later.
            return primary.kill()
        # A fault is in place once the control API has answered: from then on,
        # every new request to the primary meets it.
        if scenario == "hang":
            await control.add_fault(kind="hang", path="*", max_seconds=60)
        else:
            await control.add_fault(kind="error", path="*", rate=1.0, statuses=[503])
        return clock()

    try:
        for _ in range(WARMUP_CALLS):
            status, provider, _attempts = await contender.send()
            if status != 200 or provider != PRIMARY:
                msg = f"warm-up: {contender.name} got {status} from {provider}"
                raise RuntimeError(msg)
        await control.faults()  # opens the control connection now, not at the failure
        if contender.sink is not None:
            contender.sink.events.clear()
        gc.collect()  # as bench/_common.measure does: earlier runs' garbage is not this run's
        run = await drive(contender.send, sizes, fail)
    finally:
        await contender.close()
        await control_client.aclose()
        primary.stop()
    run.scenario, run.contender = scenario, contender.name
    if contender.sink is not None:
        run.events = list(contender.sink.events)
    return run


# -- analysis ----------------------------------------------------------------------------


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 3)


def _latency(records: Sequence[Record]) -> dict[str, float | None]:
    values = sorted(r.end - r.start for r in records)
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": _ms(percentile(values, 0.50)),
        "p99": _ms(percentile(values, 0.99)),
        "max": _ms(values[-1]),
    }


def analyse(run: Run) -> dict[str, Any]:
    kill = run.kill_at
    before = [r for r in run.records if r.start < kill]
    after = [r for r in run.records if r.start >= kill]
    steady = [r for r in after if r.start >= kill + STEADY_AFTER]
    errors = [r for r in run.records if not r.ok]
    backup_ok = [r for r in run.records if r.ok and r.provider == BACKUP and r.end >= kill]
    first = min(backup_ok, key=lambda r: r.end) if backup_ok else None
    out: dict[str, Any] = {
        "scenario": run.scenario,
        "contender": run.contender,
        "calls_before": len(before),
        "calls_after": len(after),
        "errors": len(errors),
        "errors_after": sum(1 for r in errors if r.start >= kill),
        "error_kinds": _error_kinds(errors),
        "unfinished": run.unfinished,
        "max_start_lag_ms": _ms(run.max_lag),
        "inject_ms": _ms(run.inject),
        "client_cpu_ms_per_call": _ms(run.cpu / len(run.records)) if run.records else None,
        "first_backup_success_ms": _ms(first.end - kill) if first else None,
        "first_backup_call": (
            {
                "started_ms": _ms(first.start - kill),
                "attempts": first.attempts,
                "latency_ms": _ms(first.end - first.start),
            }
            if first
            else None
        ),
        "failed_over_after": sum(1 for r in after if r.attempts > 1),
        "latency_before_ms": _latency(before),
        "latency_after_ms": _latency(after),
        "latency_steady_ms": _latency(steady),
    }
    if run.events:
        attempts = [
            e
            for e in run.events
            if isinstance(e, AttemptFinished)
            and e.provider == PRIMARY
            and e.at - e.duration >= kill
        ]
        starts = [e.at - e.duration for e in attempts]
        out["primary_attempts_after"] = len(attempts)
        out["primary_failures_after"] = sum(1 for e in attempts if e.outcome != "success")
        out["primary_last_attempt_ms"] = _ms(max(starts) - kill) if starts else None
        out["timeline"] = _timeline(run.events, kill)
    else:  # the naive client sends every call to the primary first
        out["primary_attempts_after"] = len(after)
        out["primary_failures_after"] = sum(1 for r in after if r.attempts > 1 or not r.ok)
        out["primary_last_attempt_ms"] = _ms(max(r.start for r in after) - kill) if after else None
        out["timeline"] = []
    return out


def _error_kinds(errors: Sequence[Record]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for r in errors:
        kind = r.error.split(":", 1)[0] if r.error else "?"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _timeline(events: Sequence[Any], kill: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in events:
        if isinstance(e, ProviderHealthChanged):
            what = f"health {e.old} -> {e.new} ({e.reason})"
        elif isinstance(e, BreakerChanged):
            what = f"breaker {e.old.value} -> {e.new.value}" + (f" ({e.cause})" if e.cause else "")
        else:
            continue
        out.append({"at_ms": _ms(e.at - kill), "provider": e.provider, "change": what})
    return out


# -- report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.1f}x"


def scenario_lines(name: str, stats: list[dict[str, Any]], sizes: Sizes) -> list[str]:
    rows: list[list[str]] = []
    for s in stats:
        lb, la, ls = s["latency_before_ms"], s["latency_after_ms"], s["latency_steady_ms"]
        rows.append(
            [
                s["contender"],
                f"{s['calls_before']}/{s['calls_after']}",
                str(s["errors"]),
                _num(s["first_backup_success_ms"]),
                str(s["primary_attempts_after"]),
                _num(s["primary_last_attempt_ms"], 0),
                str(s["failed_over_after"]),
                _num(lb["p50"], 2),
                _num(lb["p99"], 2),
                _num(la["p50"], 2),
                _num(la["p99"], 2),
                _num(la["max"], 1),
                _num(ls["p99"], 2),
                _num(s["client_cpu_ms_per_call"], 2),
            ]
        )
    title = (
        f"Scenario '{name}': {SCENARIOS[name]}; {sizes.rate:g} GET/s open loop, "
        f"{sizes.pre:g} s before + {sizes.post:g} s after; all times in ms ('at': from the "
        "failure; cpu/call: the client process's CPU per call)"
    )
    lines = [
        render_table(
            title,
            [
                "contender",
                "calls pre/post",
                "app errors",
                "1st backup ok",
                "primary hits after",
                "last hit at",
                "failed over",
                "p50 pre",
                "p99 pre",
                "p50 post",
                "p99 post",
                "max post",
                f"p99 >{STEADY_AFTER:g}s",
                "cpu/call",
            ],
            rows,
        )
    ]
    by = {s["contender"]: s for s in stats}
    sw, nv = by.get(SEAWALL), by.get(NAIVE)
    if sw and nv:
        lines.append(
            "  naive / seawall: p50 post "
            f"{_ratio(nv['latency_after_ms']['p50'], sw['latency_after_ms']['p50'])}, "
            f"p99 post {_ratio(nv['latency_after_ms']['p99'], sw['latency_after_ms']['p99'])}, "
            f"steady p99 "
            f"{_ratio(nv['latency_steady_ms']['p99'], sw['latency_steady_ms']['p99'])}, "
            "primary hits after the failure "
            f"{_ratio(nv['primary_attempts_after'], sw['primary_attempts_after'])}"
        )
    for s in stats:
        first = s["first_backup_call"]
        if first:
            lines.append(
                f"  {s['contender']}: first backup success: a call started at "
                f"{first['started_ms']:+.1f} ms, {first['attempts']} attempt(s), "
                f"{first['latency_ms']:.1f} ms"
            )
        for t in s["timeline"]:
            lines.append(
                f"  {s['contender']}: {t['at_ms']:+8.1f} ms  {t['provider']}: {t['change']}"
            )
        if s["errors"]:
            kinds = ", ".join(f"{k} x{v}" for k, v in s["error_kinds"].items())
            lines.append(f"  {s['contender']}: errors the application saw: {kinds}")
        if s["unfinished"]:
            lines.append(f"  {s['contender']}: {s['unfinished']} calls unfinished at the end")
        lag = s["max_start_lag_ms"] or 0.0
        if lag > 50.0:
            lines.append(
                f"  {s['contender']}: the client fell behind the offered rate by up to "
                f"{lag:,.1f} ms (its process was CPU-bound; see the load average): its "
                "latencies include that queueing"
            )
        elif lag > 5.0:
            lines.append(
                f"  {s['contender']}: the open loop started a call up to {lag:.1f} ms late "
                f"(injecting the failure took {s['inject_ms']:.1f} ms)"
            )
    return [*lines, ""]


def report(meta: dict[str, Any], runs: list[Run], sizes: Sizes) -> tuple[str, dict[str, Any]]:
    stats = [analyse(run) for run in runs]
    lines: list[str] = []
    targets: list[dict[str, Any]] = []
    limit_ms = (TIMEOUT + TARGET_SLACK) * 1e3
    for name in SCENARIOS:
        mine = [s for s in stats if s["scenario"] == name]
        if not mine:
            continue
        lines += scenario_lines(name, mine, sizes)
        for s in mine:
            if s["contender"] != SEAWALL:
                continue
            first = s["first_backup_success_ms"]
            targets.append(
                {
                    "scenario": name,
                    "target": f"{name}: first success on the backup <= {limit_ms:g} ms "
                    f"(timeout {TIMEOUT * 1e3:g} ms + {TARGET_SLACK * 1e3:g} ms)",
                    "value": first,
                    "unit": "ms",
                    "pass": first is not None and first <= limit_ms,
                }
            )
            targets.append(
                {
                    "scenario": name,
                    "target": f"{name}: zero errors seen by the application (idempotent GETs)",
                    "value": s["errors"],
                    "unit": "errors",
                    "pass": s["errors"] == 0 and not s["unfinished"],
                }
            )
    rows = [
        [
            t["target"],
            "-"
            if t["value"] is None
            else (f"{t['value']:.1f} ms" if t["unit"] == "ms" else str(t["value"])),
            verdict(t["pass"]),
        ]
        for t in targets
    ]
    lines.append(
        render_table(
            "Targets for seawall.Transport (printed, not asserted)",
            ["target", "measured", "verdict"],
            rows,
        )
    )
    data = {"meta": meta, "runs": stats, "targets": targets}
    return "\n".join(lines), data


# -- main --------------------------------------------------------------------------------


async def main(args: argparse.Namespace, sizes: Sizes) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    scenarios = list(SCENARIOS) if not args.scenario else args.scenario
    runs: list[Run] = []
    backup = SimProcess(SIM_KIND, args.loop).ready()
    progress(f"backup {SIM_KIND} simulator pid {backup.pid} on {backup.url}")
    try:
        for scenario in scenarios:
            makers: list[Callable[[str], Contender]] = [
                lambda url: seawall_contender(make_config(url, backup.url)),
                lambda url: naive_contender(url, backup.url),
            ]
            for make in makers:
                run = await run_one(scenario, make, backup, sizes, args.loop)
                progress(
                    f"  {scenario}: {run.contender}: {len(run.records)} calls, "
                    f"{sum(1 for r in run.records if not r.ok)} errors"
                )
                runs.append(run)
    finally:
        backup.stop()
    meta: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "loop": args.loop,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {
            "seawall": seawall.__version__,
            "httpx": httpx.__version__,
            "aiohttp": aiohttp.__version__,
        },
        "sizes": {"rate": sizes.rate, "pre_s": sizes.pre, "post_s": sizes.post},
        "timeout_ms": TIMEOUT * 1e3,
        "target_ms": (TIMEOUT + TARGET_SLACK) * 1e3,
        "runtime_s": round(time.perf_counter() - started, 1),
        # other work on the machine shows up as latency; the 1-minute load average
        # before and after the run says how busy it was
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    text, data = report(meta, runs, sizes)
    header = (
        f"seawall failover benchmark ({meta['mode']}): Python {meta['python']}, {args.loop} loop, "
        f"{meta['cpus']} CPUs, httpx {httpx.__version__}, aiohttp {aiohttp.__version__}; "
        f"two {SIM_KIND} simulators in child processes on 127.0.0.1; attempt timeout "
        f"{TIMEOUT * 1e3:g} ms, 3 attempts; {meta['runtime_s']} s; load average "
        f"{meta['load_average'][0]:.2f} -> {meta['load_average'][1]:.2f}\n"
    )
    return header + "\n" + text, data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="child side: run one simulator (port on stdout)")
    serve.add_argument("--kind", default=SIM_KIND)
    serve.add_argument("--loop", choices=("uvloop", "asyncio"), default=default_loop())
    parser.add_argument("--quick", action="store_true", help="short windows: a smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON results on stdout")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default=default_loop(),
        help="event loop for the client and the simulators (default: uvloop when installed)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--rate", type=float, default=None, help="calls per second")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "serve":
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            runner.run(_serve(args.kind))
        return 0
    sizes = QUICK if args.quick else FULL
    if args.rate:
        sizes = Sizes(rate=max(1.0, min(args.rate, 2000.0)), pre=sizes.pre, post=sizes.post)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        text, data = runner.run(main(args, sizes))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(text)
    return 0  # timings are reported, never asserted


if __name__ == "__main__":
    sys.exit(run())
