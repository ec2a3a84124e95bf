"""FanOutSink: typed sinks get only their event types, straight at their handlers;
a failing sink is logged once and never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from seawall._events import (
    AttemptFinished,
    CallFinished,
    Event,
    FanOutSink,
    RecordingSink,
    Rejected,
    TypedSink,
)


def attempt() -> AttemptFinished:
    return AttemptFinished(
        at=1.0,
        integration="pay",
        provider="a",
        attempt=1,
        outcome="success",
        status=200,
        duration=0.01,
    )


def call() -> CallFinished:
    return CallFinished(
        at=1.0,
        integration="pay",
        provider="a",
        method="GET",
        outcome="success",
        status=200,
        attempts=1,
        duration=0.01,
    )


class Typed:
    """Handles calls only; its emit must never be used by the fan-out."""

    def __init__(self) -> None:
        self.calls: list[CallFinished] = []
        self.emitted = 0

    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {CallFinished: self.calls.append}

    def emit(self, event: Event) -> None:
        self.emitted += 1


class Broken:
    @property
    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {CallFinished: self.boom, AttemptFinished: self.boom}

    def emit(self, event: Event) -> None:
        self.boom(event)

    def boom(self, event: object) -> None:
        msg = "sink bug"
        raise RuntimeError(msg)


def test_a_typed_sink_gets_only_its_types_at_its_handler() -> None:
    typed, plain = Typed(), RecordingSink()
    assert isinstance(typed, TypedSink)
    assert not isinstance(plain, TypedSink)
    fan = FanOutSink([typed, plain])
    events: list[Event] = [
        attempt(),
        call(),
        Rejected(at=1.0, integration="pay", provider=None, reason="circuit-open"),
        call(),
    ]
    for event in events:
        fan.emit(event)
    assert typed.calls == [events[1], events[3]]
    assert typed.emitted == 0
    assert plain.events == events  # a sink without handlers sees everything, in order


def test_a_failing_sink_is_logged_once_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after = RecordingSink()
    fan = FanOutSink([Broken(), after])
    with caplog.at_level(logging.WARNING, logger="seawall.events"):
        for _ in range(3):
            fan.emit(call())
            fan.emit(attempt())
    assert len(after.events) == 6
    warnings = [r for r in caplog.records if "Broken event sink failed" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None


def test_the_hot_events_are_immutable() -> None:
    event = call()
    with pytest.raises(AttributeError):
        event.outcome = "failure"  # type: ignore[misc]
    assert event == call()
    assert event._replace(outcome="failure").outcome == "failure"
