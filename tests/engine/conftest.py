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


#: the head of a config whose vendors run on 127.0.0.1: the egress guard refuses
#: loopback addresses unless they are allowed
LOOPBACK_HEAD = "version: 1\ngateway: {egress: {allow: [127.0.0.1/32]}}\n"


def loopback_config(integrations: str) -> Config:
    """:func:`make_config` for vendors on loopback: ``integrations`` is the rest of the YAML."""
    return make_config(LOOPBACK_HEAD + textwrap.dedent(integrations))


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
