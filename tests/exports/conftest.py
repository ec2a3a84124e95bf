"""Fixtures of the export tests: the reference configuration loaded, and promtool."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from seawall.config import Config, check_config
from tests.conftest import REFERENCE_ENV

PromtoolRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def reference_config(reference_path: Path) -> Config:
    config, findings = check_config(reference_path, env=REFERENCE_ENV, check_imports=False)
    assert config is not None, "\n".join(str(f) for f in findings)
    return config


@pytest.fixture(scope="session")
def promtool() -> PromtoolRun:
    """Run Debian's promtool; missing, the test fails (CI checks the rules with it)."""
    exe = shutil.which("promtool") or (
        "/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None
    )
    if exe is None:
        pytest.fail(
            "promtool is not installed; the rules are checked with it: "
            "sudo apt-get install prometheus (Debian/Ubuntu), or put promtool on PATH"
        )

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
        )

    return run
