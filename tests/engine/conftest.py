"""Helpers for engine tests: a config builder and an engine over httpx.MockTransport."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import httpx

from seawall._events import RecordingSink
from seawall._types import ManualClock
from seawall.config import Config, check_text
from seawall.engine import Engine
from seawall.transports import HttpxUpstream


def make_config(yaml_text: str) -> Config:
    config, findings = check_text(textwrap.dedent(yaml_text), env={})
    assert not findings, [str(f) for f in findings]
    assert config is not None
    return config


def make_engine(
    yaml_text: str,
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    clock: ManualClock | None = None,
) -> tuple[Engine, RecordingSink]:
    sink = RecordingSink()
    engine = Engine(
        make_config(yaml_text),
        upstream=HttpxUpstream(httpx.MockTransport(handler)),
        sink=sink,
        clock=clock,
    )
    return engine, sink
