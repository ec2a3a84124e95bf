"""The code keeps the project's standards: ruff, mypy strict, the layers contract, the public API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import seawall

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / name
    if not exe.exists():  # pragma: no cover - the dev extra installs every tool
        pytest.fail(f"{name} is not installed beside {sys.executable}; pip install -e '.[dev]'")
    return subprocess.run(
        [str(exe), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_ruff_lint_is_clean() -> None:
    """ruff finds nothing to fix in the source, tests and benchmarks."""
    result = _tool("ruff", "check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    """Every file is formatted as ruff format would write it."""
    result = _tool("ruff", "format", "--check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    """mypy in strict mode accepts all of src/."""
    result = _tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers_hold() -> None:
    """Imports point down the architecture picture (import-linter layers contract)."""
    result = _tool("lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_names_are_pinned() -> None:
    """seawall's top-level API is exactly these names, sorted."""
    assert seawall.__all__ == sorted(seawall.__all__)
    assert set(seawall.__all__) == {
        "BudgetExhausted",
        "BulkheadFull",
        "CallInfo",
        "CircuitOpen",
        "Config",
        "ConfigError",
        "DeadlineExceeded",
        "EgressDenied",
        "Engine",
        "NoProvider",
        "NotificationError",
        "PolicyRejected",
        "RateLimited",
        "SeawallError",
        "StoreError",
        "SyncTransport",
        "Transport",
        "UnknownIntegration",
        "UpstreamConnectError",
        "UpstreamError",
        "UpstreamStatus",
        "UpstreamTimeout",
        "load_config",
    }


def test_every_error_derives_from_the_root() -> None:
    """Every exception seawall exports is a SeawallError with a reason slug."""
    for name in seawall.__all__:
        obj = getattr(seawall, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, seawall.SeawallError), name
            assert obj.reason, name
            assert obj.reason == obj.reason.lower(), name
