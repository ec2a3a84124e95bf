"""Run ``seawall run`` as a subprocess against loopback upstreams."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

_LISTENING = re.compile(r"seawall gateway on [^:]+:(\d+), admin on [^:]+:(\d+)")

ADMIN_TOKEN = "admin-secret-token-0123456789"
OPERATOR_TOKEN = "operator-secret-token-0123456789"
VIEWER_TOKEN = "viewer-secret-token-0123456789"


@dataclass
class Gateway:
    process: asyncio.subprocess.Process
    port: int
    admin_port: int
    config_path: Path
    stderr: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"


@asynccontextmanager
async def run_gateway(config_path: Path) -> AsyncIterator[Gateway]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "seawall",
        "run",
        "-c",
        str(config_path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines: list[str] = []
    ports: tuple[int, int] | None = None
    try:
        async with asyncio.timeout(20):
            while ports is None:
                raw = await process.stderr.readline()
                if not raw:
                    raise AssertionError("seawall run exited early:\n" + "".join(lines))
                line = raw.decode()
                lines.append(line)
                match = _LISTENING.search(line)
                if match:
                    ports = (int(match.group(1)), int(match.group(2)))
    except BaseException:
        process.kill()
        await process.wait()
        raise

    async def pump() -> None:
        assert process.stderr is not None
        while raw := await process.stderr.readline():
            lines.append(raw.decode())

    pumping = asyncio.create_task(pump())
    gateway = Gateway(process, ports[0], ports[1], config_path, lines)
    try:
        yield gateway
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        await pumping


def write_config(tmp_path: Path, body: str, name: str = "seawall.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def admin_block() -> str:
    return f"""
    admin:
      listen: 127.0.0.1:0
      tokens:
        - {{name: ops, token: "{ADMIN_TOKEN}", role: admin}}
        - {{name: oncall, token: "{OPERATOR_TOKEN}", role: operator}}
        - {{name: dash, token: "{VIEWER_TOKEN}", role: viewer}}
    """


def service_head(store: Path) -> str:
    """The top of a Service config: the SQLite ``store``, the gateway on a free
    loopback port with loopback egress allowed, and the admin server's three tokens."""
    return f"""
    version: 1
    store: "sqlite:///{store}"
    gateway:
      listen: 127.0.0.1:0
      egress: {{allow: [127.0.0.1/32]}}
    {admin_block()}"""


async def echo(request: web.Request) -> web.StreamResponse:
    """Answer with what arrived, after ?delay= seconds; ?status= picks the status."""
    delay = float(request.query.get("delay", "0"))
    if delay:
        await asyncio.sleep(delay)
    if "size" in request.query:
        size = int(request.query["size"])
        streamed = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await streamed.prepare(request)
        block = bytes(range(256)) * 256
        sent = 0
        while sent < size:
            piece = block[: min(len(block), size - sent)]
            await streamed.write(piece)
            sent += len(piece)
        await streamed.write_eof()
        return streamed
    body = await request.read()
    payload = {
        "method": request.method,
        "path": request.path,
        "query": request.raw_path.partition("?")[2],
        "headers": [[k, v] for k, v in request.headers.items()],
        "body": body.decode("latin-1"),
    }
    status = int(request.query.get("status", "200"))
    headers = {"Connection": "keep-alive", "X-Upstream": "echo"}
    if "redirect" in request.query:
        headers["Location"] = "http://169.254.169.254/latest/meta-data/"
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers,
    )


@asynccontextmanager
async def echo_server() -> AsyncIterator[str]:
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def config_writer(tmp_path: Path) -> Callable[[str], Path]:
    return lambda body: write_config(tmp_path, body)
