"""Helpers shared by the benchmarks in ``bench/``.

- a loopback HTTP/1.1 server in a child process (``python bench/_common.py serve``),
  so the server never shares an event loop, or a CPU's time slices, with the client;
- bounded measurement loops (a call count *and* a time cap) that record per-call latency;
- event loop selection (uvloop or asyncio) applied the same way to every contender;
- a plain-text table printer.

Only the standard library (plus uvloop when asked for) is used here, so a benchmark's
server process starts fast and measures nothing of seawall's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import select
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BODIES",
    "LoopbackServer",
    "Measurement",
    "default_loop",
    "loop_factory",
    "measure",
    "merge",
    "percentile",
    "progress",
    "render_table",
]

# -- the loopback server ------------------------------------------------------


def _json_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes, shaped like a small vendor answer."""
    head = b'{"id":"ch_3PZbench0001","object":"charge","amount":1999,"currency":"usd","pad":"'
    tail = b'"}'
    pad = size - len(head) - len(tail)
    if pad < 0:
        msg = f"a {size}-byte body is too small for the template"
        raise ValueError(msg)
    body = head + b"x" * pad + tail
    json.loads(body)  # keep it valid JSON
    return body


#: Paths the server answers, and their bodies: ~100 B (a typical small vendor
#: answer) and 1 KiB. Any other path gets the small body.
BODIES: dict[str, bytes] = {"/small": _json_body(100), "/1k": _json_body(1024)}


def _response_bytes(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HttpProtocol(asyncio.Protocol):
    """Keep-alive HTTP/1.1 with fixed answers: as little server work as possible.

    Requests are framed by the blank line and ``Content-Length``; chunked request
    bodies are not supported (the benchmarks only send GETs).
    """

    def __init__(self, answers: dict[bytes, bytes], default: bytes) -> None:
        self._answers = answers
        self._default = default
        self._buffer = b""
        self._transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have write().
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            first = head.split(b"\r\n", 1)[0].split(b" ")
            path = first[1] if len(first) > 1 else b"/"
            out.append(self._answers.get(path, self._default))
            buffer = buffer[total:]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


async def _serve(loop_name: str) -> None:
    loop = asyncio.get_running_loop()
    answers = {path.encode(): _response_bytes(body) for path, body in BODIES.items()}
    default = answers[b"/small"]
    server = await loop.create_server(
        lambda: _HttpProtocol(answers, default), "127.0.0.1", 0, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "loop": loop_name, "pid": os.getpid()}), flush=True)
    stopped = loop.create_future()

    def watch_parent() -> None:
        # The parent holds our stdin open; EOF means it is gone (or done with us).
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))

    threading.Thread(target=watch_parent, daemon=True).start()
    async with server:
        await stopped


class LoopbackServer:
    """The fixed-answer server in a child process, bound to 127.0.0.1 on a free port.

    ``with LoopbackServer(loop="uvloop") as server: server.url("/small")``
    """

    def __init__(self, *, loop: str, start_timeout: float = 15.0) -> None:
        self.loop = loop
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.pid = 0

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LoopbackServer:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", "--loop", self.loop],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self._start_timeout)
        line = self._proc.stdout.readline() if ready else b""
        if not line:
            self.__exit__(None, None, None)
            msg = f"the loopback server did not start within {self._start_timeout:g}s"
            raise RuntimeError(msg)
        info = json.loads(line)
        self.port = int(info["port"])
        self.pid = int(info["pid"])
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


# -- event loops ----------------------------------------------------------------


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """``asyncio.Runner(loop_factory=...)`` for ``uvloop`` or ``asyncio``."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if name == "asyncio":
        return asyncio.new_event_loop
    msg = f"unknown event loop {name!r} (uvloop or asyncio)"
    raise ValueError(msg)


def default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


# -- measuring ------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(slots=True)
class Measurement:
    """One contender's run: how many calls finished in how long, and their latencies."""

    name: str
    calls: int = 0
    errors: int = 0
    elapsed: float = 0.0
    concurrency: int = 1
    capped: bool = False  # the time cap stopped it before its call count
    first_error: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.calls / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def us_per_call(self) -> float:
        """Wall time per finished call (throughput view), in microseconds."""
        return self.elapsed / self.calls * 1e6 if self.calls else math.nan

    def latency_us(self) -> dict[str, float]:
        values = sorted(self.latencies)
        if not values:
            return {"mean": math.nan, "p50": math.nan, "p99": math.nan}
        return {
            "mean": statistics.fmean(values) * 1e6,
            "p50": percentile(values, 0.50) * 1e6,
            "p99": percentile(values, 0.99) * 1e6,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calls": self.calls,
            "errors": self.errors,
            "first_error": self.first_error or None,
            "elapsed_s": round(self.elapsed, 6),
            "concurrency": self.concurrency,
            "capped_by_time": self.capped,
            "rps": round(self.rps, 1),
            "us_per_call": round(self.us_per_call, 3),
            "latency_us": {k: round(v, 2) for k, v in self.latency_us().items()},
        }


async def measure(
    name: str,
    call: Callable[[], Awaitable[object]],
    *,
    count: int,
    concurrency: int = 1,
    time_cap: float = 10.0,
    warmup: int = 0,
    record_latency: bool = True,
) -> Measurement:
    """Run ``call`` ``count`` times over ``concurrency`` workers, stopping at ``time_cap`` s.

    A warm-up of ``warmup`` calls (same concurrency, capped at a quarter of the
    time cap) runs first and is not counted. A call that raises counts as an
    error and does not count in ``calls``. Garbage from earlier runs is collected
    before the clock starts; the collector stays on during the run, since
    allocation is part of what a contender costs.
    """
    if warmup:
        await _run(call, warmup, concurrency, time_cap / 4, None, Measurement(name))
    gc.collect()
    result = Measurement(name, concurrency=concurrency)
    latencies: list[float] | None = [] if record_latency else None
    start = time.perf_counter()
    await _run(call, count, concurrency, time_cap, latencies, result)
    result.elapsed = time.perf_counter() - start
    result.latencies = latencies or []
    result.capped = result.calls + result.errors < count
    return result


def merge(parts: Sequence[Measurement]) -> Measurement:
    """One measurement from several rounds of the same contender."""
    first = parts[0]
    return Measurement(
        first.name,
        calls=sum(p.calls for p in parts),
        errors=sum(p.errors for p in parts),
        elapsed=sum(p.elapsed for p in parts),
        concurrency=first.concurrency,
        capped=any(p.capped for p in parts),
        first_error=next((p.first_error for p in parts if p.first_error), ""),
        latencies=[x for p in parts for x in p.latencies],
    )


async def _run(
    call: Callable[[], Awaitable[object]],
    count: int,
    concurrency: int,
    time_cap: float,
    latencies: list[float] | None,
    result: Measurement,
) -> None:
    clock = time.perf_counter
    deadline = clock() + time_cap
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < count:
            issued += 1
            started = clock()
            try:
                await call()
            except Exception as exc:
                result.errors += 1
                if not result.first_error:
                    result.first_error = f"{type(exc).__name__}: {exc}"
            else:
                result.calls += 1
            finished = clock()
            if latencies is not None:
                latencies.append(finished - started)
            if finished >= deadline:
                return

    if concurrency <= 1:
        await worker()
    else:
        await asyncio.gather(*(worker() for _ in range(concurrency)))


# -- output ---------------------------------------------------------------------


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays the table (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    out = [title, rule, line(headers), rule]
    out.extend(line(row) for row in rows)
    out.append(rule)
    return "\n".join(out)


# -- the server's entry point ---------------------------------------------------


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bench helper: run the loopback server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve fixed JSON answers on 127.0.0.1 (port on stdout)")
    serve.add_argument("--loop", choices=("uvloop", "asyncio"), default=default_loop())
    args = parser.parse_args(argv)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        runner.run(_serve(args.loop))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
