"""Fixtures for failover tests: the example adapters importable for one test at a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def adapters_importable(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """examples/ on sys.path for this test only, and its modules forgotten afterwards."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield EXAMPLES
    for name in [
        m for m in sys.modules if m == "seawall_adapters" or m.startswith("seawall_adapters.")
    ]:
        del sys.modules[name]
