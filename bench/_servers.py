"""Processes for ``bench/gateway.py``: upstreams, proxies and load generators.

Run as a script, this module is the child side (one event loop per process):

- ``upstream``: a fixed 1 KiB JSON answer over keep-alive HTTP/1.1, optionally
  after a delay (``loop.call_later``, so a slow upstream costs no CPU while it
  waits); raw asyncio protocol on uvloop, the cheapest Python server there is;
- ``passthrough``: a bare aiohttp pass-through proxy (low-level server, one
  ``ClientSession`` with a keep-alive pool) forwarding method, path and body and
  returning status, Content-Type and body: the floor a Python proxy starts from;
- ``load``: an aiohttp load generator, ``--duration`` seconds of keep-alive calls
  over ``--connections`` workers (the fallback when wrk is missing);
- ``hold``: opens ``--calls`` connections (a few hundred handshakes at a time),
  then sends one request on every one of them at once and waits for every
  answer (the hold test), over a raw protocol so the generator stays cheap;

Python children print one JSON line (``{"port": ..., "pid": ...}``) when ready
and stop when their stdin closes, so they never outlive the benchmark.

Imported, it is the parent side: :class:`Child` (start, wait until ready, stop),
nginx configurations, CPU and memory readings from ``/proc``, and a wrk runner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:  # python bench/gateway.py
    from _common import BODIES, default_loop, loop_factory, percentile
except ModuleNotFoundError:  # python -m bench.gateway
    from bench._common import BODIES, default_loop, loop_factory, percentile

__all__ = [
    "BODY",
    "Child",
    "cpu_seconds",
    "fd_count",
    "free_port",
    "nginx_proxy_conf",
    "nginx_static_conf",
    "process_tree",
    "raise_nofile",
    "rss_kib",
    "run_wrk",
    "tcp_counters",
    "wait_port",
]

#: Every upstream answers every path with this 1 KiB JSON body.
BODY: bytes = BODIES["/1k"]
SCRIPT = str(Path(__file__).resolve())


# -- the parent side ---------------------------------------------------------------


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for servers that cannot report port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


def raise_nofile(want: int = 65536) -> int:
    """Raise this process's open-file limit towards ``want`` (to the hard limit at most)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
    return max(soft, target)


class Child:
    """One benchmark process, started in its own session so a stop reaches its workers.

    ``ready`` is polled until it returns a port (or the timeout passes); ``stop_signal``
    is sent first, SIGKILL to the process group if it has not exited within 10 s.
    Python children of this module are stopped by closing their stdin.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        ready: Callable[[Child], int | None] | None = None,
        stop_signal: int | None = None,
        log: Path | None = None,
        json_ready: bool = False,
        start_timeout: float = 20.0,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.port = 0
        self.info: dict[str, Any] = {}
        self._ready = ready
        self._json = json_ready
        self._stop_signal = stop_signal
        self._timeout = start_timeout
        self._cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Child:
        stderr: Any = subprocess.DEVNULL
        if self.log is not None:
            stderr = self.log.open("wb")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE if self._json else subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                cwd=self._cwd,
            )
        finally:
            if self.log is not None:
                stderr.close()
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + self._timeout
        if self._json:
            assert self.proc.stdout is not None
            ready, _, _ = select.select([self.proc.stdout], [], [], self._timeout)
            line = self.proc.stdout.readline() if ready else b""
            if line:
                self.info = json.loads(line)
                return int(self.info["port"])
        else:
            assert self._ready is not None
            while time.monotonic() < deadline and self.proc.poll() is None:
                port = self._ready(self)
                if port:
                    return port
                time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-2000:] if self.log else ""
        msg = f"{self.name} did not start within {self._timeout:g}s (exit {self.proc.poll()})"
        raise RuntimeError(msg + (f":\n{tail}" if tail else ""))

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            if self._stop_signal is not None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(self._stop_signal)
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # the Python children's signal to stop
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def python_child(name: str, command: str, *args: str) -> Child:
    """A child running this module's ``command`` (upstream, passthrough)."""
    return Child(name, [sys.executable, SCRIPT, command, *args], json_ready=True)


# -- nginx --------------------------------------------------------------------------


def _nginx_common(root: Path, workers: str, connections: int) -> str:
    temp = "\n".join(
        f"  {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
worker_processes {workers};
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections {connections}; }}
http {{
  access_log off;
{temp}
"""


def nginx_static_conf(root: Path, port: int) -> str:
    """nginx answering every path with the 1 KiB body from memory: the fast upstream."""
    body = BODY.decode()
    assert "'" not in body
    assert "$" not in body
    return (
        _nginx_common(root, "1", 4096)
        + f"""  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ default_type application/json; return 200 '{body}'; }}
  }}
}}
"""
    )


def nginx_proxy_conf(root: Path, port: int, upstream_port: int, workers: str) -> str:
    """nginx as a reverse proxy with a keep-alive pool to the upstream."""
    return (
        _nginx_common(root, workers, 4096)
        + f"""  upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    )


def nginx_child(name: str, root: Path, conf: str, port: int) -> Child:
    """nginx in the foreground with a generated config, every path in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "nginx.conf"
    path.write_text(conf)
    nginx = shutil.which("nginx") or "nginx"
    return Child(
        name,
        [
            nginx,
            "-p",
            str(root),
            "-e",
            str(root / "error.log"),
            "-c",
            str(path),
            "-g",
            "daemon off;",
        ],
        ready=lambda _c: port if wait_port(port, 0.2) else None,
        stop_signal=signal.SIGQUIT,  # graceful: workers finish and exit
        log=root / "stderr.log",
    )


# -- /proc readings ------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()  # fields from the 3rd (state) on


def process_tree(pid: int) -> list[int]:
    """``pid`` and its direct children (nginx's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                pids.append(int(entry))
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLK_TCK


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB; (0, 0) when it is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def tcp_counters() -> dict[str, int]:
    """Host-wide TCP counters that show a listen queue overflowing (``/proc/net/netstat``)."""
    wanted = ("ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPReqQFullDoCookies")
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return {k: int(table[k]) for k in wanted if k in table}
    return {}


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


# -- wrk ------------------------------------------------------------------------------

_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _wrk_us(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    result: dict[str, Any] = {"tool": "wrk", "rps": 0.0, "requests": 0, "errors": 0}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.MULTILINE):
        result[f"p{pct}_us"] = _wrk_us(value)
    if match := re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE):
        result["rps"] = float(match.group(1))
    if match := re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+)", out, re.MULTILINE):
        result["requests"] = int(match.group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        errors += sum(int(g) for g in match.groups())
    result["errors"] = errors
    return result


def run_wrk(url: str, connections: int, seconds: float, *, latency: bool = True) -> dict[str, Any]:
    """One bounded wrk run (1 thread); its summary parsed."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s"]
    if latency:
        argv.append("--latency")
    done = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    result = parse_wrk(done.stdout)
    if done.returncode != 0 or not result["requests"]:
        result["error"] = (done.stderr or done.stdout).strip()[-500:]
    return result


def run_pyload(url: str, connections: int, seconds: float) -> dict[str, Any]:
    """The Python fallback for wrk (this module's ``load --duration``)."""
    argv = [sys.executable, SCRIPT, "load", url, "--connections", str(connections)]
    done = subprocess.run(
        [*argv, "--duration", str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"tool": "python", "rps": 0.0, "requests": 0, "errors": 1, "error": done.stderr}


# -- the child side: servers ----------------------------------------------------------


def _answer(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Upstream(asyncio.Protocol):
    """Keep-alive HTTP/1.1, one fixed answer per request, after ``delay`` seconds."""

    def __init__(self, answer: bytes, delay: float) -> None:
        self._answer = answer
        self._delay = delay
        self._buffer = b""
        self._transport: Any = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        answers = 0
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            lower = buffer[:end].lower()
            length = 0
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            buffer = buffer[total:]
            answers += 1
        self._buffer = buffer
        if answers:
            if self._delay > 0:
                self._loop.call_later(self._delay, self._write, self._answer * answers)
            else:
                self._write(self._answer * answers)

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _until_stdin_closes(loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
    stopped: asyncio.Future[None] = loop.create_future()

    def watch() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))

    threading.Thread(target=watch, daemon=True).start()
    return stopped


def _ready(port: int, **extra: Any) -> None:
    print(json.dumps({"port": port, "pid": os.getpid(), **extra}), flush=True)


async def _serve_upstream(delay: float) -> None:
    loop = asyncio.get_running_loop()
    answer = _answer(BODY)
    server = await loop.create_server(
        lambda: _Upstream(answer, delay), "127.0.0.1", 0, backlog=4096
    )
    _ready(server.sockets[0].getsockname()[1], delay=delay, nofile=raise_nofile())
    async with server:
        await _until_stdin_closes(loop)


async def _serve_passthrough(upstream: str) -> None:
    import aiohttp
    from aiohttp import web
    from yarl import URL

    base = upstream.rstrip("/")
    # Pool sized like seawall's own upstream client (limit 1000, 256 per host).
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1000, limit_per_host=256),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
    )

    async def handle(request: web.BaseRequest) -> web.Response:
        body = await request.read() if request.body_exists else None
        async with session.request(
            request.method,
            URL(base + request.raw_path, encoded=True),
            data=body,
            allow_redirects=False,
        ) as resp:
            data = await resp.read()
            kind = resp.headers.get("Content-Type", "application/octet-stream")
            return web.Response(status=resp.status, body=data, headers={"Content-Type": kind})

    runner = web.ServerRunner(web.Server(handle), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = next(a[1] for a in runner.addresses if isinstance(a, tuple))
    _ready(port)
    try:
        await _until_stdin_closes(asyncio.get_running_loop())
    finally:
        await runner.cleanup()
        await session.close()


# -- the child side: load generator ----------------------------------------------------


def _summary(latencies: list[float], elapsed: float, ok: int, **extra: Any) -> dict[str, Any]:
    values = sorted(latencies)
    return {
        "tool": "python",
        "requests": ok,
        "rps": ok / elapsed if elapsed > 0 else 0.0,
        "elapsed_s": round(elapsed, 3),
        "p50_us": percentile(values, 0.50) * 1e6,
        "p99_us": percentile(values, 0.99) * 1e6,
        "max_us": (values[-1] if values else 0.0) * 1e6,
        **extra,
    }


async def _load(url: str, connections: int, duration: float, cap: float) -> dict[str, Any]:
    """Keep-alive calls over ``connections`` workers for ``duration`` seconds (aiohttp)."""
    import aiohttp

    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    clock = time.perf_counter
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=cap)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = clock()
        stop_at = start + duration

        async def worker() -> None:
            while clock() < stop_at:
                began = clock()
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        statuses[str(resp.status)] += 1
                        if resp.status == 200:
                            latencies.append(clock() - began)
                except Exception as exc:
                    errors[type(exc).__name__] += 1

        try:
            async with asyncio.timeout(cap):
                await asyncio.gather(*(worker() for _ in range(connections)))
        except TimeoutError:
            errors["cap"] += 1
        elapsed = clock() - start
    bad = sum(n for s, n in statuses.items() if s != "200")
    return _summary(
        latencies,
        elapsed,
        statuses.get("200", 0),
        errors=sum(errors.values()) + bad,
        statuses=dict(statuses),
        error_kinds=dict(errors),
    )


class _OneCall(asyncio.Protocol):
    """One HTTP/1.1 call on its own connection; ``done`` resolves to the status."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.done: asyncio.Future[int] = loop.create_future()
        self.transport: Any = None
        self.sent = 0.0
        self.finished = 0.0
        self.body = b""
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self.done.done():
            return
        head = bytes(self._buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else None])
        if len(self._buffer) >= end + 4 + length:
            self.finished = time.perf_counter()
            self.body = bytes(self._buffer[end + 4 : end + 4 + length])
            self.done.set_result(int(self._buffer[9:12]))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed before the answer: {exc}"))


async def _hold(url: str, calls: int, cap: float, connect_concurrency: int) -> dict[str, Any]:
    """Open ``calls`` connections (``connect_concurrency`` at a time, untimed), then send
    one request on every one of them at once and wait for every answer.

    Opening first keeps a SYN storm against the proxy's listen queue out of what
    is measured: the proxy holds the calls, not half-open handshakes. A raw
    protocol keeps the generator's own CPU (it shares the machine) small.
    """
    from yarl import URL

    loop = asyncio.get_running_loop()
    nofile = raise_nofile(calls + 1024)
    parsed = URL(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 80
    request = (
        f"GET {parsed.raw_path_qs} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n"
    ).encode()
    errors: Counter[str] = Counter()
    gate = asyncio.Semaphore(connect_concurrency)
    clock = time.perf_counter

    async def connect() -> _OneCall | None:
        async with gate:
            try:
                _, proto = await loop.create_connection(lambda: _OneCall(loop), host, port)
            except OSError as exc:
                errors[f"connect: {type(exc).__name__}"] += 1
                return None
            return proto

    begun = clock()
    try:
        async with asyncio.timeout(cap):
            opened = await asyncio.gather(*(connect() for _ in range(calls)))
    except TimeoutError:
        opened = []
        errors["connect phase over the cap"] += 1
    protos = [p for p in opened if p is not None]
    connect_s = clock() - begun
    start = clock()
    for proto in protos:
        proto.sent = clock()
        proto.transport.write(request)
    sent_s = clock() - start
    statuses: Counter[str] = Counter()
    try:
        async with asyncio.timeout(cap):
            results = await asyncio.gather(*(p.done for p in protos), return_exceptions=True)
    except TimeoutError:
        results = [p.done.result() if p.done.done() else TimeoutError() for p in protos]
    elapsed = clock() - start
    latencies: list[float] = []
    reasons: Counter[str] = Counter()
    for proto, result in zip(protos, results, strict=True):
        if isinstance(result, BaseException):
            errors[type(result).__name__] += 1
        else:
            statuses[str(result)] += 1
            if result == 200:
                latencies.append(proto.finished - proto.sent)
            else:  # seawall's problem+json names a reason
                with contextlib.suppress(ValueError, AttributeError):
                    reasons[str(json.loads(proto.body).get("reason"))] += 1
        proto.transport.close()
    await asyncio.sleep(0.1)  # let the closes go out
    bad = sum(n for s, n in statuses.items() if s != "200")
    return _summary(
        latencies,
        elapsed,
        statuses.get("200", 0),
        errors=sum(errors.values()) + bad,
        statuses=dict(statuses),
        error_kinds=dict(errors),
        reasons=dict(reasons),
        connected=len(protos),
        connect_phase_s=round(connect_s, 3),
        send_phase_s=round(sent_s, 3),
        nofile=nofile,
    )


# -- entry point ------------------------------------------------------------------------


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description="bench/gateway.py helper processes")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default=default_loop())
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upstream", help="serve the 1 KiB answer on 127.0.0.1 (port on stdout)")
    up.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    px = sub.add_parser("passthrough", help="a bare aiohttp pass-through proxy")
    px.add_argument("upstream", help="the upstream's base URL")
    ld = sub.add_parser("load", help="an aiohttp load generator (JSON summary on stdout)")
    ld.add_argument("url")
    ld.add_argument("--connections", type=int, default=1)
    ld.add_argument("--duration", type=float, default=5.0, help="seconds of keep-alive calls")
    ld.add_argument("--cap", type=float, default=60.0, help="seconds at most, whatever happens")
    hd = sub.add_parser("hold", help="open N connections, then one call on each at once")
    hd.add_argument("url")
    hd.add_argument("--calls", type=int, default=10_000)
    hd.add_argument("--connect-concurrency", type=int, default=256)
    hd.add_argument("--cap", type=float, default=60.0, help="seconds at most per phase")
    args = parser.parse_args(argv)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        if args.command == "upstream":
            runner.run(_serve_upstream(args.delay))
        elif args.command == "passthrough":
            runner.run(_serve_passthrough(args.upstream))
        elif args.command == "load":
            cap = min(args.cap, args.duration + 30)
            print(json.dumps(runner.run(_load(args.url, args.connections, args.duration, cap))))
        else:
            result = _hold(args.url, args.calls, args.cap, args.connect_concurrency)
            print(json.dumps(runner.run(result)))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
