"""Every fault kind, added through the control API, seen from a real HTTP client."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest

from seawall.chaos import RunningSimulator, SimulatorControl

from ._support import CHARGE, DROPPED, StartSimulator


async def test_latency_delays_the_response_by_at_least_ms(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A latency fault of 150 ms makes the response take at least 150 ms."""
    await SimulatorControl(weather.url).add_fault(kind="latency", ms=150, jitter_ms=20)
    started = time.perf_counter()
    response = await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Oslo"})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.15


async def test_latency_combines_with_an_error(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Latency applies on top of another fault: the error arrives, and late."""
    control = SimulatorControl(weather.url)
    await control.add_fault(kind="latency", ms=100)
    await control.add_fault(kind="error", statuses=[503])
    started = time.perf_counter()
    response = await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Oslo"})
    assert response.status_code == 503
    assert time.perf_counter() - started >= 0.1


async def test_error_rate_is_statistically_close_and_uses_listed_statuses(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An error fault at rate 0.3 fails 20-40% of 200 requests, each with a listed status."""
    await SimulatorControl(weather.url).add_fault(
        kind="error", rate=0.3, statuses=[500, 503], seed=11
    )
    statuses = [
        (await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Rome"})).status_code
        for _ in range(200)
    ]
    failures = [status for status in statuses if status != 200]
    assert 40 <= len(failures) <= 80
    assert set(failures) == {500, 503}


async def test_error_fault_with_a_seed_is_reproducible(
    start_simulator: StartSimulator, http: httpx.AsyncClient
) -> None:
    """Two simulators given the same fault seed fail exactly the same requests."""
    sequences = []
    for _ in range(2):
        simulator = await start_simulator("weather")
        await SimulatorControl(simulator.url).add_fault(kind="error", probability=0.5, seed=3)
        sequences.append(
            [(await http.get(f"{simulator.url}/healthcheck")).status_code for _ in range(30)]
        )
    assert sequences[0] == sequences[1]
    assert 200 in sequences[0]
    assert 500 in sequences[0]


async def test_error_fault_body_and_headers_replace_the_vendor_error(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """An error fault's own body and headers are what the client receives."""
    await SimulatorControl(weather.url).add_fault(
        kind="error", statuses=[502], body={"oops": True}, headers={"X-Edge": "cdn"}
    )
    response = await http.get(f"{weather.url}/healthcheck")
    assert response.status_code == 502
    assert response.json() == {"oops": True}
    assert response.headers["X-Edge"] == "cdn"


async def test_injected_error_uses_the_vendor_error_shape(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Without a body, an injected 500 looks like the vendor's own api_error."""
    await SimulatorControl(stripe.url).add_fault(kind="error", statuses=[500])
    response = await http.post(f"{stripe.url}/v1/charges", data=CHARGE)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "api_error"
    assert stripe.state.charge_count == 0


async def test_hang_holds_until_the_client_times_out_and_the_server_keeps_working(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A hang ends in the client's read timeout, and the next request is served normally."""
    control = SimulatorControl(weather.url)
    await control.add_fault(kind="hang", first=1)
    with pytest.raises(httpx.ReadTimeout):
        await http.get(f"{weather.url}/healthcheck", timeout=0.3)
    response = await http.get(f"{weather.url}/healthcheck")
    assert response.json() == {"status": "ok"}
    assert (await control.faults())[0]["fired"] == 1


async def test_hang_gives_up_after_max_seconds_with_504(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A hang bounded by max_seconds answers 504 in the vendor's error shape once it passes."""
    await SimulatorControl(weather.url).add_fault(kind="hang", max_seconds=0.2)
    response = await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Oslo"})
    assert response.status_code == 504
    assert response.json()["cod"] == "504"


async def test_reset_drops_the_connection_before_the_vendor_runs(
    stripe: RunningSimulator, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A reset fault breaks the connection, charges nothing, and logs no traceback."""
    caplog.set_level(logging.DEBUG)
    await SimulatorControl(stripe.url).add_fault(kind="reset", first=1)
    with pytest.raises(DROPPED):
        await http.post(f"{stripe.url}/v1/charges", data=CHARGE)
    assert stripe.state.charge_count == 0
    assert (await http.get(f"{stripe.url}/healthcheck")).status_code == 200
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= 30]


async def test_malformed_json_answers_200_with_an_unparseable_body(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A malformed_json fault sends status 200 and a body no JSON parser accepts."""
    await SimulatorControl(weather.url).add_fault(kind="malformed_json")
    response = await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Oslo"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_drift_renames_removes_and_retypes_fields(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A drift fault renames, removes and retypes fields, nested and inside lists."""
    url = f"{weather.url}/data/2.5/weather"
    original = (await http.get(url, params={"q": "Oslo"})).json()
    await SimulatorControl(weather.url).add_fault(
        kind="drift",
        rename={"main.temp": "temperature", "name": "city"},
        remove=["weather.description", "dt"],
        retype={"main.humidity": "string"},
    )
    drifted = (await http.get(url, params={"q": "Oslo"})).json()
    assert drifted["main"]["temperature"] == original["main"]["temp"]
    assert "temp" not in drifted["main"]
    assert drifted["city"] == "Oslo"
    assert "name" not in drifted
    assert "dt" not in drifted
    assert "description" not in drifted["weather"][0]
    assert drifted["weather"][0]["main"] == original["weather"][0]["main"]
    assert drifted["main"]["humidity"] == str(original["main"]["humidity"])


async def test_rate_limit_answers_429_with_retry_after(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A rate_limit fault answers 429 with Retry-After and an epoch X-RateLimit-Reset."""
    await SimulatorControl(weather.url).add_fault(kind="rate_limit", retry_after=3)
    response = await http.get(f"{weather.url}/data/2.5/weather", params={"q": "Oslo"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time()) + 2
    assert response.json()["cod"] == "429"


async def test_rate_limit_token_bucket_only_limits_past_the_rate(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """With limit_per_second 2, a quick burst of 6 gets the first 2 through and 429s others."""
    control = SimulatorControl(weather.url)
    await control.add_fault(kind="rate_limit", limit_per_second=2)
    responses = [await http.get(f"{weather.url}/healthcheck") for _ in range(6)]
    statuses = [response.status_code for response in responses]
    assert statuses[:2] == [200, 200]
    limited = [response for response in responses if response.status_code == 429]
    assert len(limited) >= 2
    assert all(int(response.headers["Retry-After"]) >= 1 for response in limited)
    assert {response.headers["X-RateLimit-Limit"] for response in limited} == {"2"}
    (fault,) = await control.faults()
    assert fault["fired"] == len(limited)


async def test_first_n_spends_the_fault(weather: RunningSimulator, http: httpx.AsyncClient) -> None:
    """A fault with first: 2 fires on two requests, then is spent and shown as such."""
    control = SimulatorControl(weather.url)
    await control.add_fault(kind="error", statuses=[503], first=2)
    statuses = [(await http.get(f"{weather.url}/healthcheck")).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    (fault,) = await control.faults()
    assert fault["fired"] == 2
    assert fault["spent"] is True


async def test_path_and_method_targeting_hit_only_matching_requests(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A fault on POST /v1/charges* leaves other paths and methods alone."""
    await SimulatorControl(stripe.url).add_fault(
        kind="error", statuses=[503], path="/v1/charges*", method="post"
    )
    assert (await http.get(f"{stripe.url}/healthcheck")).status_code == 200
    assert (await http.get(f"{stripe.url}/v1/charges/ch_missing")).status_code == 404
    assert (await http.post(f"{stripe.url}/v1/charges", data=CHARGE)).status_code == 503
    subscription = {"customer": "cus_1", "price": "price_basic"}
    assert (await http.post(f"{stripe.url}/v1/subscriptions", data=subscription)).status_code == 200


async def test_control_api_is_never_faulted(
    weather: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A catch-all reset fault does not touch /_sim/, so faults can always be removed."""
    control = SimulatorControl(weather.url)
    await control.add_fault(kind="reset", path="*")
    assert (await control.state())["kind"] == "weather"
    assert await control.clear_faults() == 1
    assert (await http.get(f"{weather.url}/healthcheck")).status_code == 200


async def test_commit_then_fail_with_an_idempotency_key_charges_once(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """After a commit-then-fail, retrying with the same key replays the charge: one charge."""
    await SimulatorControl(stripe.url).add_fault(
        kind="commit_then_fail", path="/v1/charges", first=1
    )
    headers = {"Idempotency-Key": "order-42"}
    with pytest.raises(DROPPED):
        await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert stripe.state.charge_count == 1
    retry = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == stripe.state.charges[0].id
    assert stripe.state.charge_count == 1


async def test_commit_then_fail_without_a_key_charges_twice(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """After a commit-then-fail, a blind retry without a key makes a second charge."""
    await SimulatorControl(stripe.url).add_fault(
        kind="commit_then_fail", path="/v1/charges", first=1
    )
    with pytest.raises(DROPPED):
        await http.post(f"{stripe.url}/v1/charges", data=CHARGE)
    retry = await http.post(f"{stripe.url}/v1/charges", data=CHARGE)
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert stripe.state.charge_count == 2
    assert stripe.state.charges_by_customer() == {"cus_1": 2}


async def test_processing_latency_holds_the_idempotency_key_so_a_racing_retry_gets_409(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """While a keyed charge is still processing, the same key again is refused with 409."""
    await SimulatorControl(stripe.url).add_fault(
        kind="latency", ms=400, phase="processing", first=1
    )
    headers = {"Idempotency-Key": "race-1"}
    first = asyncio.create_task(http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers))
    await asyncio.sleep(0.15)
    racing = await http.post(f"{stripe.url}/v1/charges", data=CHARGE, headers=headers)
    assert racing.status_code == 409
    assert racing.json()["error"]["type"] == "idempotency_error"
    assert (await first).status_code == 200
    assert stripe.state.charge_count == 1
