"""The /_sim/ control API and its SimulatorControl client."""

from __future__ import annotations

import httpx
import pytest

from seawall.chaos import RunningSimulator, SimulatorControl

from ._support import CHARGE, StartSimulator


async def test_fault_lifecycle_over_raw_http(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Faults are added (201), listed, removed one by one (204) and all at once."""
    added = await http.post(f"{weather.url}/_sim/faults", json={"kind": "latency", "ms": 1})
    assert added.status_code == 201
    fault_id = added.json()["id"]
    await http.post(f"{weather.url}/_sim/faults", json={"kind": "reset", "path": "/nowhere"})
    listed = (await http.get(f"{weather.url}/_sim/faults")).json()["faults"]
    assert [fault["kind"] for fault in listed] == ["latency", "reset"]
    assert listed[0] == {
        "id": fault_id,
        "kind": "latency",
        "ms": 1.0,
        "jitter_ms": 0.0,
        "phase": "request",
        "path": "*",
        "method": None,
        "first": None,
        "probability": 1.0,
        "seed": None,
        "matched": 0,
        "fired": 0,
        "spent": False,
    }
    assert (await http.delete(f"{weather.url}/_sim/faults/{fault_id}")).status_code == 204
    missing = await http.delete(f"{weather.url}/_sim/faults/{fault_id}")
    assert missing.status_code == 404
    assert fault_id in missing.json()["error"]
    assert (await http.delete(f"{weather.url}/_sim/faults")).json() == {"removed": 1}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "earthquake"}, "kind: Input tag 'earthquake'"),
        ({"ms": 5}, "needs 'kind'"),
        ({"kind": "latency"}, "ms: Field required"),
        ({"kind": "error", "rate": 1.5}, "rate: Input should be less than or equal to 1"),
        ({"kind": "error", "statuses": [99]}, "statuses.0"),
        ({"kind": "error", "statuses": []}, "statuses"),
        ({"kind": "reset", "probability": -0.1}, "probability"),
        ({"kind": "reset", "first": 0}, "first"),
        ({"kind": "reset", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"kind": "reset", "method": "FETCH"}, "method must be one of"),
        ({"kind": "reset", "path": "v1/charges"}, "path pattern starts with '/'"),
        ({"kind": "drift"}, "at least one of rename, remove or retype"),
        ({"kind": "drift", "retype": {"a": "decimal"}}, "retype.a"),
        ({"kind": "drift", "rename": {"a": "b.c"}}, "without dots"),
        ({"kind": "rate_limit", "limit_per_second": 0}, "limit_per_second"),
        ({"kind": "hang", "max_seconds": 0}, "max_seconds"),
        (["latency"], "a fault spec is a JSON object"),
    ],
)
async def test_invalid_fault_specs_are_refused_with_a_clear_message(
    weather: RunningSimulator, http: httpx.AsyncClient, spec: object, message: str
) -> None:
    """A bad fault spec gets 400 and an error naming the field and the problem."""
    response = await http.post(f"{weather.url}/_sim/faults", json=spec)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert (await http.get(f"{weather.url}/_sim/faults")).json() == {"faults": []}


async def test_fault_spec_that_is_not_json_is_refused(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A body that is not JSON gets 400 saying so."""
    response = await http.post(f"{weather.url}/_sim/faults", content=b"{kind: latency")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


async def test_control_client_add_fault_raises_value_error_with_the_reason(
    weather: RunningSimulator,
) -> None:
    """SimulatorControl.add_fault turns a 400 into ValueError carrying the server's message."""
    with pytest.raises(ValueError, match="ms: Field required"):
        await SimulatorControl(weather.url).add_fault(kind="latency")


async def test_control_client_round_trip(stripe: RunningSimulator, http: httpx.AsyncClient) -> None:
    """The client adds, lists, removes and clears faults and reads and resets state."""
    control = SimulatorControl(stripe.url + "/")
    first = await control.add_fault(kind="error", statuses=[503], first=1)
    second = await control.add_fault(kind="latency", ms=1)
    assert [fault["id"] for fault in await control.faults()] == [first, second]
    assert await control.remove_fault(first) is True
    assert await control.remove_fault(first) is False
    assert await control.clear_faults() == 1

    await http.post(f"{stripe.url}/v1/charges", data=CHARGE)
    state = await control.state()
    assert state["kind"] == "payment"
    assert state["dialect"] == "stripe"
    assert state["charge_count"] == 1
    assert state["requests"] == {"POST /v1/charges": 1}

    await control.add_fault(kind="reset")
    await control.reset()
    state = await control.state()
    assert state["charge_count"] == 0
    assert state["requests_total"] == 0
    assert await control.faults() == []


async def test_control_client_can_share_a_caller_client(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Given an httpx client, SimulatorControl uses it instead of opening its own."""
    control = SimulatorControl(weather.url, client=http)
    fault_id = await control.add_fault(kind="latency", ms=1)
    assert (await control.faults())[0]["id"] == fault_id


async def test_reset_restores_seeded_state_and_restarts_ids(
    start_simulator: StartSimulator, http: httpx.AsyncClient
) -> None:
    """After /_sim/reset a seeded simulator hands out the same ids again."""
    simulator = await start_simulator("payment", seed=5)
    first = (await http.post(f"{simulator.url}/v1/charges", data=CHARGE)).json()["id"]
    assert (await http.post(f"{simulator.url}/_sim/reset")).json() == {"reset": True}
    again = (await http.post(f"{simulator.url}/v1/charges", data=CHARGE)).json()["id"]
    assert again == first
    assert simulator.state.charge_count == 1


async def test_unknown_control_path_answers_json_404(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An unknown /_sim/ path gets a control-style JSON 404, not the vendor's shape."""
    response = await http.get(f"{weather.url}/_sim/nothing")
    assert response.status_code == 404
    assert "error" in response.json()
