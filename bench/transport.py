"""Benchmark: bare httpx vs httpx with ``seawall.Transport`` vs httpx inside tenacity (+ pybreaker).

    .venv/bin/python bench/transport.py            # full run, under a minute
    .venv/bin/python bench/transport.py --quick    # smoke run, a few seconds
    .venv/bin/python bench/transport.py --json     # results as JSON on stdout
    .venv/bin/python bench/transport.py --kib      # also a 1 KiB body on loopback
    .venv/bin/python bench/transport.py --loop asyncio   # default: uvloop, both sides

Three parts, in one run:

1. **Loopback**: a fixed-answer HTTP/1.1 server in a child process on 127.0.0.1
   (``bench/_common.py``), called with one reused ``httpx.AsyncClient`` per
   contender, sequentially and with 32 concurrent workers: bare httpx; httpx
   over ``seawall.Transport`` (aiohttp underneath, the default); httpx over
   ``seawall.Transport(transport=httpx.AsyncHTTPTransport())`` (the same wire as
   bare httpx, to separate seawall's policies from its faster wire); bare httpx
   inside tenacity ``AsyncRetrying`` with a pybreaker breaker per attempt; and,
   for reference only, aiohttp's client alone (seawall's default wire). httpx
   clients keep httpx's default pool limits, as ``httpx.AsyncClient()`` does.
2. **MockTransport**: the same clients over ``httpx.MockTransport`` (no
   network), sequential: what each layer adds per call.
3. **Engine alone**: ``Engine.call`` over an in-memory upstream vs calling that
   upstream directly: seawall's own policy work per call.

Targets are printed (PASS/MISS), never asserted; the exit status is 0 whatever
they say. Progress goes to stderr, the table (or the JSON) to stdout.

pybreaker 1.x has no asyncio API (``call_async`` needs Tornado; native
``acall`` is only proposed upstream), so the breaker wraps each attempt with its
documented ``with breaker.calling():`` context manager, which runs the same
state machine around an awaited body.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import httpx
import pybreaker
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

import seawall
from seawall.config import Config, check_text
from seawall.engine import Engine, ProviderTarget, Request, Response

try:  # python bench/transport.py
    from _common import (
        BODIES,
        LoopbackServer,
        Measurement,
        default_loop,
        loop_factory,
        measure,
        merge,
        progress,
        render_table,
    )
except ModuleNotFoundError:  # python -m bench.transport
    from bench._common import (
        BODIES,
        LoopbackServer,
        Measurement,
        default_loop,
        loop_factory,
        measure,
        merge,
        progress,
        render_table,
    )

INTEGRATION = "bench"
BASELINE = "httpx"
SEAWALL = "seawall.Transport (aiohttp wire)"
SEAWALL_HTTPX = "seawall.Transport (httpx wire)"
#: Loopback contenders run in this many interleaved rounds.
LOOPBACK_ROUNDS = 2
MOCK_BASELINE = "httpx + MockTransport"
MOCK_SEAWALL = "seawall.Transport + MockTransport"
MOCK_TENACITY = "tenacity + httpx + MockTransport"

#: seawall's default policies, spelled out: 3 attempts with a retry budget, a
#: count-window breaker, a bulkhead above the benchmark's concurrency, no rate limit;
#: the egress guard (on in the in-process client) admits the loopback server.
CONFIG = """
version: 1
gateway:
  egress:
    allow: [127.0.0.1/32]  # the egress guard refuses loopback unless allowed
defaults:
  policy:
    timeout: 2s
    deadline: 10s
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
  bench:
    providers:
      - {name: local, base_url: "$BASE_URL"}
"""

#: The issue's targets.
TARGET_LOOPBACK_RATIO = 1.0  # seawall req/s >= 1.0x bare httpx on loopback
TARGET_ADDED_US = 15.0  # seawall adds <= 15 us per call over MockTransport (and < tenacity)

Call = Callable[[], Awaitable[object]]
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Sizes:
    loop_calls: int
    loop_warmup: int
    mock_calls: int
    engine_calls: int
    rounds: int
    time_cap: float


FULL = Sizes(
    loop_calls=2_000,
    loop_warmup=200,
    mock_calls=20_000,
    engine_calls=100_000,
    rounds=5,
    time_cap=10.0,
)
QUICK = Sizes(
    loop_calls=200, loop_warmup=20, mock_calls=2_000, engine_calls=10_000, rounds=2, time_cap=2.0
)


def make_config(base_url: str) -> Config:
    config, findings = check_text(CONFIG.replace("$BASE_URL", base_url), env={})
    if config is None or findings:
        msg = "benchmark config is invalid:\n" + "\n".join(str(f) for f in findings)
        raise SystemExit(msg)
    return config


# -- contenders -------------------------------------------------------------------


def checked_get(client: httpx.AsyncClient, path: str) -> Call:
    """One GET that must come back 200 with a body (the server's answer)."""

    async def call() -> httpx.Response:
        response = await client.get(path)
        if response.status_code != 200 or not response.content:
            msg = f"unexpected answer {response.status_code} ({len(response.content)} bytes)"
            raise RuntimeError(msg)
        return response

    return call


def with_tenacity(send: Call, breaker: pybreaker.CircuitBreaker | None = None) -> Call:
    """``send`` inside tenacity's AsyncRetrying, optionally with a pybreaker per attempt.

    A fresh AsyncRetrying per call, as tenacity documents for ``async for``: one
    shared instance keeps its iteration state per thread, not per task, so
    concurrent calls through it would trample each other.
    """

    async def call() -> object:
        result: object = None
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        ):
            with attempt:
                if breaker is None:
                    result = await send()
                else:
                    with breaker.calling():
                        result = await send()
        return result

    return call


def new_breaker() -> pybreaker.CircuitBreaker:
    return pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)


def mock_handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, headers=[("Content-Type", "application/json")], content=BODIES["/small"]
    )


class FakeUpstream:
    """An upstream that answers at once, for measuring the engine alone."""

    async def send(self, target: ProviderTarget, request: Request, *, timeout: float) -> Response:
        return Response(status=200, headers=[], body=b"{}")

    async def aclose(self) -> None:
        return None


# -- part 1: loopback ------------------------------------------------------------


@dataclass(slots=True)
class Contender:
    name: str
    call: Call
    close: Closer
    reference: bool = False  # shown for context, not one of the contenders


def httpx_contender(name: str, client: httpx.AsyncClient, call: Call) -> Contender:
    return Contender(name, call, client.aclose)


def aiohttp_contender(base_url: str, path: str) -> Contender:
    """aiohttp's client alone: the wire seawall.Transport sends through by default."""
    session = aiohttp.ClientSession(base_url=base_url)

    async def call() -> bytes:
        async with session.get(path) as response:
            body = await response.read()
            if response.status != 200 or not body:
                msg = f"unexpected answer {response.status} ({len(body)} bytes)"
                raise RuntimeError(msg)
            return body

    return Contender("aiohttp.ClientSession (reference)", call, session.close, reference=True)


def loopback_contenders(server: LoopbackServer, config: Config, path: str) -> list[Contender]:
    bare = httpx.AsyncClient(base_url=server.url())
    sw = httpx.AsyncClient(
        transport=seawall.Transport(INTEGRATION, config=config), base_url="http://bench"
    )
    sw_httpx = httpx.AsyncClient(
        transport=seawall.Transport(
            INTEGRATION, config=config, transport=httpx.AsyncHTTPTransport()
        ),
        base_url="http://bench",
    )
    ten = httpx.AsyncClient(base_url=server.url())
    return [
        httpx_contender(BASELINE, bare, checked_get(bare, path)),
        httpx_contender(SEAWALL, sw, checked_get(sw, path)),
        httpx_contender(SEAWALL_HTTPX, sw_httpx, checked_get(sw_httpx, path)),
        httpx_contender(
            "tenacity + pybreaker + httpx",
            ten,
            with_tenacity(checked_get(ten, path), new_breaker()),
        ),
        aiohttp_contender(server.url(), path),
    ]


async def run_loopback(server: LoopbackServer, path: str, sizes: Sizes) -> list[Measurement]:
    """Every contender at concurrency 1 and 32, in interleaved rounds (so a busy
    patch of a shared machine hits all of them alike), rounds merged."""
    config = make_config(server.url())
    rounds = LOOPBACK_ROUNDS
    results: list[Measurement] = []
    for concurrency in (1, 32):
        # Fresh clients (and pools) per concurrency level, so each level opens its own.
        contenders = loopback_contenders(server, config, path)
        parts: dict[str, list[Measurement]] = {c.name: [] for c in contenders}
        try:
            progress(f"  loopback {path} c={concurrency}: warm-up")
            for c in contenders:
                await measure(
                    c.name,
                    c.call,
                    count=max(sizes.loop_warmup, concurrency * 4),
                    concurrency=concurrency,
                    time_cap=sizes.time_cap / 4,
                    record_latency=False,
                )
            for r in range(rounds):
                for c in contenders:
                    progress(f"  loopback {path} c={concurrency} round {r + 1}/{rounds}: {c.name}")
                    parts[c.name].append(
                        await measure(
                            c.name,
                            c.call,
                            count=max(1, sizes.loop_calls // rounds),
                            concurrency=concurrency,
                            time_cap=sizes.time_cap / rounds,
                        )
                    )
        finally:
            for c in contenders:
                await c.close()
        results.extend(merge(parts[c.name]) for c in contenders)
    return results


# -- part 2: MockTransport, and part 3: the engine alone ---------------------------


@dataclass(slots=True)
class Micro:
    """A sequential contender measured in interleaved rounds; best round wins."""

    name: str
    call: Call
    rounds: list[Measurement]

    @property
    def best_us(self) -> float:
        return min(r.us_per_call for r in self.rounds)

    @property
    def median_us(self) -> float:
        return statistics.median(r.us_per_call for r in self.rounds)

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.rounds)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)

    def as_dict(self, baseline: Micro | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "calls": self.calls,
            "errors": self.errors,
            "rounds": len(self.rounds),
            "us_per_call_best": round(self.best_us, 3),
            "us_per_call_median": round(self.median_us, 3),
        }
        if baseline is not None:
            out["us_added_best"] = round(self.best_us - baseline.best_us, 3)
            out["us_added_median"] = round(self.median_us - baseline.median_us, 3)
        return out


async def run_micro(contenders: list[tuple[str, Call]], calls: int, sizes: Sizes) -> list[Micro]:
    """Each contender runs ``calls`` calls in ``sizes.rounds`` rounds, interleaved with
    the others, so a slow patch of the machine hits every contender alike."""
    micros = [Micro(name, call, []) for name, call in contenders]
    per_round = max(1, calls // sizes.rounds)
    for micro in micros:  # warm-up: imports, caches, first-call paths
        await measure(micro.name, micro.call, count=min(500, per_round), time_cap=sizes.time_cap)
    for _ in range(sizes.rounds):
        for micro in micros:
            micro.rounds.append(
                await measure(
                    micro.name,
                    micro.call,
                    count=per_round,
                    time_cap=sizes.time_cap / sizes.rounds,
                    record_latency=False,
                )
            )
    return micros


async def run_mock(sizes: Sizes) -> list[Micro]:
    config = make_config("http://bench.test")
    bare = httpx.AsyncClient(transport=httpx.MockTransport(mock_handler), base_url="http://bench")
    sw = httpx.AsyncClient(
        transport=seawall.Transport(
            INTEGRATION, config=config, transport=httpx.MockTransport(mock_handler)
        ),
        base_url="http://bench",
    )
    bare_call = checked_get(bare, "/small")
    try:
        progress(f"  MockTransport: {sizes.mock_calls} calls x 4 contenders")
        return await run_micro(
            [
                (MOCK_BASELINE, bare_call),
                (MOCK_SEAWALL, checked_get(sw, "/small")),
                (MOCK_TENACITY, with_tenacity(bare_call)),
                (
                    "tenacity + pybreaker + httpx + MockTransport",
                    with_tenacity(bare_call, new_breaker()),
                ),
            ],
            sizes.mock_calls,
            sizes,
        )
    finally:
        await bare.aclose()
        await sw.aclose()


async def run_engine(sizes: Sizes) -> list[Micro]:
    config = make_config("http://bench.test")
    upstream = FakeUpstream()
    engine = Engine(config, upstream=upstream)
    target = engine.integration(INTEGRATION).providers[0].target

    async def direct() -> Response:
        return await upstream.send(target, Request("GET", "/x"), timeout=2.0)

    async def through_engine() -> Response:
        return await engine.call(INTEGRATION, Request("GET", "/x"))

    progress(f"  engine alone: {sizes.engine_calls} calls x 2 contenders")
    try:
        return await run_micro(
            [("fake upstream.send() directly", direct), ("Engine.call() over it", through_engine)],
            sizes.engine_calls,
            sizes,
        )
    finally:
        await engine.aclose()


# -- report -------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


@dataclass(slots=True)
class Report:
    """The text tables and the JSON document, built side by side."""

    lines: list[str]
    data: dict[str, Any]
    targets: list[dict[str, Any]]
    notes: list[str]

    def target(self, text: str, value: float, unit: str, ok: bool, **extra: float) -> str:
        self.targets.append(
            {"target": text, "value": round(value, 3), "unit": unit, "pass": ok, **extra}
        )
        return verdict(ok)

    def note_errors(self, where: str, name: str, errors: int, first: str) -> str:
        if not errors:
            return ""
        self.notes.append(f"{where}: {name}: {errors} failed calls, first: {first}")
        return f" ({errors} errors)"


def loopback_section(rep: Report, path: str, results: list[Measurement], loop: str) -> None:
    rows: list[list[str]] = []
    rows_json: list[dict[str, Any]] = []
    for concurrency in sorted({r.concurrency for r in results}):
        level = [r for r in results if r.concurrency == concurrency]
        base = next(r for r in level if r.name == BASELINE)
        base_mean = base.latency_us()["mean"]
        for r in level:
            lat = r.latency_us()
            ratio = r.rps / base.rps if base.rps else float("nan")
            target = ""
            if r.name == SEAWALL:
                target = rep.target(
                    f"loopback {path} c={concurrency}: seawall.Transport req/s "
                    f">= {TARGET_LOOPBACK_RATIO:.1f}x bare httpx",
                    ratio,
                    "x",
                    ratio >= TARGET_LOOPBACK_RATIO and not r.errors,
                )
            name = r.name + rep.note_errors(
                f"loopback {path} c={concurrency}", r.name, r.errors, r.first_error
            )
            if r.capped:
                name += " (time cap)"
            rows.append(
                [
                    name,
                    str(concurrency),
                    f"{r.calls:,}",
                    fmt(r.rps, 0),
                    f"{ratio:.2f}x",
                    fmt(lat["mean"]),
                    fmt(lat["p50"]),
                    fmt(lat["p99"]),
                    f"{lat['mean'] - base_mean:+,.1f}",
                    target,
                ]
            )
            rows_json.append(
                {
                    **r.as_dict(),
                    "ratio_vs_httpx": round(ratio, 3),
                    "us_added_mean": round(lat["mean"] - base_mean, 2),
                }
            )
    rep.data["loopback"][path] = rows_json
    rep.lines += [
        render_table(
            f"Loopback: 127.0.0.1, server in a child process, {len(BODIES[path])} B JSON body, "
            f"{loop} loop on both sides, {LOOPBACK_ROUNDS} interleaved rounds merged",
            [
                "contender",
                "conc",
                "calls",
                "req/s",
                "x httpx",
                "mean us",
                "p50 us",
                "p99 us",
                "+us mean",
                "target",
            ],
            rows,
        ),
        "",
    ]


def micro_section(
    rep: Report, key: str, title: str, micros: list[Micro], targets: dict[str, str]
) -> None:
    base = micros[0]
    rows: list[list[str]] = []
    for m in micros:
        added = m.best_us - base.best_us
        first = next((r.first_error for r in m.rounds if r.first_error), "")
        rows.append(
            [
                m.name + rep.note_errors(key, m.name, m.errors, first),
                f"{m.calls:,}",
                fmt(m.best_us, 2),
                fmt(m.median_us, 2),
                "" if m is base else f"{added:+,.2f}",
                targets.get(m.name, ""),
            ]
        )
        rep.data[key].append(m.as_dict(None if m is base else base))
    rep.lines += [
        render_table(
            f"{title} ({len(base.rounds)} interleaved rounds: best round, median round)",
            ["contender", "calls", "us/call", "median", "+us/call", "target"],
            rows,
        ),
        "",
    ]


def report(
    meta: dict[str, Any],
    loopback: dict[str, list[Measurement]],
    mock: list[Micro],
    engine: list[Micro],
) -> tuple[str, dict[str, Any]]:
    rep = Report(
        lines=[],
        data={"meta": meta, "loopback": {}, "mock": [], "engine": [], "targets": []},
        targets=[],
        notes=[],
    )
    for path, results in loopback.items():
        loopback_section(rep, path, results, meta["loop"])

    by_name = {m.name: m for m in mock}
    base = by_name[MOCK_BASELINE]
    seawall_added = by_name[MOCK_SEAWALL].best_us - base.best_us
    tenacity_added = by_name[MOCK_TENACITY].best_us - base.best_us
    mock_verdict = rep.target(
        f"MockTransport: seawall.Transport adds <= {TARGET_ADDED_US:g} us per call "
        f"and less than tenacity alone (+{tenacity_added:.1f} us)",
        seawall_added,
        "us",
        seawall_added <= TARGET_ADDED_US
        and seawall_added < tenacity_added
        and not by_name[MOCK_SEAWALL].errors,
        tenacity_added=round(tenacity_added, 3),
    )
    micro_section(
        rep,
        "mock",
        "httpx.MockTransport (no network), sequential",
        mock,
        {MOCK_SEAWALL: mock_verdict},
    )

    direct, through = engine
    engine_added = through.best_us - direct.best_us
    engine_verdict = rep.target(
        f"policy work alone: Engine.call adds <= {TARGET_ADDED_US:g} us per call "
        f"and less than tenacity alone (+{tenacity_added:.1f} us)",
        engine_added,
        "us",
        engine_added <= TARGET_ADDED_US and engine_added < tenacity_added and not through.errors,
        tenacity_added=round(tenacity_added, 3),
    )
    micro_section(
        rep,
        "engine",
        "seawall's policy work alone: Engine.call over an in-memory upstream, sequential",
        engine,
        {through.name: engine_verdict},
    )

    rows = [
        [t["target"], f"{t['value']:.2f}{' x' if t['unit'] == 'x' else ' us'}", verdict(t["pass"])]
        for t in rep.targets
    ]
    rep.lines.append(
        render_table("Targets (printed, not asserted)", ["target", "measured", "verdict"], rows)
    )
    if rep.notes:
        rep.lines += ["", "Errors:", *(f"  {n}" for n in rep.notes)]
    rep.data["targets"] = rep.targets
    rep.data["errors"] = rep.notes
    return "\n".join(rep.lines), rep.data


# -- main ---------------------------------------------------------------------------


async def main(args: argparse.Namespace, sizes: Sizes) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "loop": args.loop,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {
            "seawall": seawall.__version__,
            "httpx": httpx.__version__,
            "aiohttp": aiohttp.__version__,
            "tenacity": _version("tenacity"),
            "pybreaker": _version("pybreaker"),
        },
        "sizes": {
            "loopback_calls": sizes.loop_calls,
            "loopback_warmup": sizes.loop_warmup,
            "mock_calls": sizes.mock_calls,
            "engine_calls": sizes.engine_calls,
            "rounds": sizes.rounds,
            "time_cap_s": sizes.time_cap,
        },
    }
    paths = ["/small", "/1k"] if args.kib else ["/small"]
    loopback: dict[str, list[Measurement]] = {}
    with LoopbackServer(loop=args.loop) as server:
        progress(f"loopback server pid {server.pid} on {server.url()} ({args.loop})")
        for path in paths:
            loopback[path] = await run_loopback(server, path, sizes)
    mock = await run_mock(sizes)
    engine = await run_engine(sizes)
    meta["runtime_s"] = round(time.perf_counter() - started, 1)
    text, data = report(meta, loopback, mock, engine)
    header = (
        f"seawall transport benchmark ({meta['mode']}): Python {meta['python']}, "
        f"{args.loop} loop, {meta['cpus']} CPUs, httpx {httpx.__version__}, "
        f"aiohttp {aiohttp.__version__}, tenacity {meta['versions']['tenacity']}, "
        f"pybreaker {meta['versions']['pybreaker']}; {meta['runtime_s']} s\n"
    )
    return header + "\n" + text, data


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON results on stdout")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default=default_loop(),
        help="event loop for the client and the server (default: uvloop when installed)",
    )
    parser.add_argument(
        "--kib", action="store_true", help="also run the loopback part with a 1 KiB body"
    )
    parser.add_argument(
        "--time-cap", type=float, default=None, help="seconds at most per measured loop"
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.time_cap is not None:
        sizes = replace(sizes, time_cap=args.time_cap)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        text, data = runner.run(main(args, sizes))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(text)
    return 0  # timings are reported, never asserted


if __name__ == "__main__":
    sys.exit(run())
