"""Pure pieces without a server: drift, truncation, fault plans, form nesting, key records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall._types import ManualClock
from seawall.chaos import parse_fault_spec
from seawall.chaos._drift import apply_drift, convert_json_type, malformed_body
from seawall.chaos._fault_book import DropConnection, FaultBook, Respond, TokenBucket
from seawall.chaos._http import nest_form_fields
from seawall.chaos._idempotency import IdempotencyOutcome, IdempotencyStore, fingerprint_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _book(*specs: dict[str, Any]) -> FaultBook:
    clock = ManualClock()
    book = FaultBook(seed=1, clock=clock.now)
    for spec in specs:
        book.add(parse_fault_spec(spec))
    return book


def test_drift_walks_lists_and_indexes() -> None:
    """Dotted paths reach into nested objects, every list element, or one index."""
    document = {"items": [{"price": 1, "sku": "a"}, {"price": 2, "sku": "b"}], "meta": {"n": 2}}
    drifted = apply_drift(
        document,
        rename={"items.sku": "id"},
        remove=["items.1.price"],
        retype={"meta.n": "string"},
    )
    assert drifted == {"items": [{"price": 1, "id": "a"}, {"id": "b"}], "meta": {"n": "2"}}
    assert document["items"][0]["sku"] == "a"  # the input is left untouched


def test_drift_ignores_paths_that_are_absent() -> None:
    """A drift of a field the response lacks changes nothing."""
    assert apply_drift({"a": 1}, remove=["b.c"], rename={"x": "y"}) == {"a": 1}


def test_json_type_conversions() -> None:
    """Retyping converts values the way a careless release would send them."""
    assert convert_json_type(12, "string") == "12"
    assert convert_json_type("3.5", "number") == 3.5
    assert convert_json_type("3.9", "integer") == 3
    assert convert_json_type("inf", "number") == 0.0
    assert convert_json_type(0, "boolean") is False
    assert convert_json_type("x", "null") is None
    assert convert_json_type(1, "array") == [1]
    assert convert_json_type(1, "object") == {"value": 1}


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_malformed_body_never_parses(document: Any) -> None:
    """Whatever the original JSON, the truncated body is not valid JSON."""
    garbled = malformed_body(json.dumps(document).encode())
    try:
        json.loads(garbled)
    except ValueError:
        return
    raise AssertionError(garbled)


def test_first_interrupting_fault_wins_and_latency_adds_up() -> None:
    """Latencies sum; the first interrupting fault answers; post-handler faults are skipped."""
    book = _book(
        {"kind": "latency", "ms": 100},
        {"kind": "reset", "path": "/a*"},
        {"kind": "error", "statuses": [503]},
        {"kind": "latency", "ms": 50},
        {"kind": "drift", "remove": ["x"]},
    )
    plan = book.plan("GET", "/abc")
    assert plan.delay_seconds == pytest.approx(0.15)
    assert isinstance(plan.interruption, DropConnection)
    assert plan.drifts == []
    other = book.plan("GET", "/zzz")
    assert isinstance(other.interruption, Respond)
    assert other.interruption.status == 503
    fired = {fault.id: fault.fired for fault in book.faults()}
    assert fired == {"flt_1": 2, "flt_2": 1, "flt_3": 1, "flt_4": 2, "flt_5": 0}


def test_commit_then_fail_outranks_malformed_and_drift() -> None:
    """After the handler, a connection drop makes garbling and drift moot."""
    book = _book(
        {"kind": "drift", "remove": ["x"]},
        {"kind": "malformed_json"},
        {"kind": "commit_then_fail", "first": 1},
    )
    first = book.plan("POST", "/v1/charges")
    assert (first.drop_after_commit, first.malformed, first.drifts) == (True, False, [])
    second = book.plan("POST", "/v1/charges")
    assert (second.drop_after_commit, second.malformed, second.drifts) == (False, True, [])


def test_token_bucket_refills_at_its_rate() -> None:
    """A bucket of 2 at 1/s admits 2, then one more after a second."""
    bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == 1.0
    assert bucket.take(1.0) == 0.0


def test_form_fields_nest_like_stripe() -> None:
    """Bracketed form keys become nested objects and index lists."""
    assert nest_form_fields(
        [
            ("amount", "100"),
            ("card[number]", "4242"),
            ("items[0][price]", "p1"),
            ("items[1][price]", "p2"),
            ("expand[]", "a"),
            ("expand[]", "b"),
            ("to", "x"),
            ("to", "y"),
        ]
    ) == {
        "amount": "100",
        "card": {"number": "4242"},
        "items": [{"price": "p1"}, {"price": "p2"}],
        "expand": ["a", "b"],
        "to": ["x", "y"],
    }


def test_fingerprint_ignores_order_and_number_encoding() -> None:
    """{"amount": 100} and {"amount": "100"} in any key order are the same request."""
    assert fingerprint_of({"amount": 100, "currency": "usd"}) == fingerprint_of(
        {"currency": "usd", "amount": "100"}
    )
    assert fingerprint_of({"amount": 100}) != fingerprint_of({"amount": 101})


def test_idempotency_store_outcomes() -> None:
    """A key executes once, is in flight until completed, then replays or mismatches."""
    clock = ManualClock(start=1000.0)
    store = IdempotencyStore(ttl_seconds=10.0, clock=clock.now)
    outcome, _ = store.begin("k", endpoint="POST /x", fingerprint="a")
    assert outcome is IdempotencyOutcome.EXECUTE
    assert store.begin("k", endpoint="POST /x", fingerprint="a")[0] is IdempotencyOutcome.IN_FLIGHT
    store.abandon("k")
    assert store.begin("k", endpoint="POST /x", fingerprint="a")[0] is IdempotencyOutcome.EXECUTE
    record = store.get("k")
    assert record is not None
    record.status = 200
    assert store.begin("k", endpoint="POST /x", fingerprint="b")[0] is IdempotencyOutcome.MISMATCH
    assert store.begin("k", endpoint="POST /y", fingerprint="a")[0] is IdempotencyOutcome.MISMATCH
    assert store.begin("k", endpoint="POST /x", fingerprint="a")[0] is IdempotencyOutcome.REPLAY
    clock.advance(10.0)
    assert len(store) == 0
