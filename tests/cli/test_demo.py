"""``seawall demo`` runs simulators, the gateway and shoppers, and shows the outage."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.realserver, pytest.mark.slow]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_demo_shows_breaker_opening_and_no_double_charge(tmp_path: Path) -> None:
    """The demo's outage opens the payment breaker, shoppers see refusals, not hangs."""
    text = (ROOT / "examples" / "seawall.yaml").read_text()
    ports = _free_ports(8)
    for old, new in zip((8080, 8081, 9101, 9103, 9104, 9106, 9107, 9190), ports, strict=True):
        text = text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
    text = text.replace("open_for: 10s", "open_for: 2s")
    text = text.replace("window: 30s\n    for: 10s", "window: 5s\n    for: 1s")
    assert "window: 5s" in text, "the example's payments-errors alert has changed"
    config = tmp_path / "demo.yaml"
    config.write_text(text)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall",
            "demo",
            "-c",
            str(config),
            "--duration",
            "14",
            "--outage-after",
            "2",
            "--outage-for",
            "6",
            "--plain",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "OUTAGE" in out
    assert "breaker payments/stripe: closed -> open" in out
    assert "the payment vendor has recovered" in out

    assert "half_open -> closed" in out
    assert "circuit-open" in out
    # the outage fires the alert, opens an incident and reaches the demo's webhook
    assert "demo-webhook received: [FIRING" in out
    assert "incident #1" in out
    assert "payments" in out.split("incident #1", 1)[1].splitlines()[0]
    for name in ("inventory", "email", "crm", "weather"):
        line = next(line for line in out.splitlines() if line.strip().startswith(f"{name}:"))
        assert line.strip().startswith(f"{name}: ok"), line
    assert "Traceback" not in out + result.stderr
