"""The inventory, CRM and weather simulators, and what every vendor shares."""

from __future__ import annotations

import httpx
import pytest

from seawall.chaos import DIALECTS, RunningSimulator

from ._support import StartSimulator

SALESFORCE = "/services/data/v59.0/sobjects/Contact"

#: a JSON endpoint of every simulator, with the headers it needs
JSON_ENDPOINTS = [
    ("payment", "stripe", "POST", "/v1/charges", {}),
    ("payment", "adyen", "POST", "/v71/payments", {"X-API-Key": "k"}),
    ("email", "sendgrid", "POST", "/v3/mail/send", {}),
    ("inventory", "shipbob", "PUT", "/v1/inventory/SKU-1001", {}),
    ("crm", "salesforce", "POST", SALESFORCE, {}),
]


@pytest.fixture
async def inventory(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("inventory")


@pytest.fixture
async def crm(start_simulator: StartSimulator) -> RunningSimulator:
    return await start_simulator("crm")


@pytest.mark.parametrize(
    ("kind", "dialect"),
    [(kind, dialect) for kind, dialects in DIALECTS.items() for dialect in dialects],
)
async def test_every_simulator_has_a_healthcheck(
    start_simulator: StartSimulator, http: httpx.AsyncClient, kind: str, dialect: str
) -> None:
    """GET /healthcheck answers 200 {"status": "ok"} on every kind and dialect."""
    simulator = await start_simulator(kind, dialect=dialect)
    response = await http.get(f"{simulator.url}/healthcheck")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert (simulator.kind, simulator.dialect) == (kind, dialect)


@pytest.mark.parametrize(("kind", "dialect", "method", "path", "headers"), JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"[" * 100_000, b"\xff\xfe{"])
async def test_malformed_json_is_400_never_a_crash(
    start_simulator: StartSimulator,
    http: httpx.AsyncClient,
    kind: str,
    dialect: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Broken, non-object, deeply nested or undecodable JSON gets a 400 in the vendor's shape."""
    simulator = await start_simulator(kind, dialect=dialect)
    response = await http.request(
        method,
        simulator.url + path,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()


@pytest.mark.parametrize(
    ("kind", "dialect", "path"),
    [("payment", "stripe", "/v1/charges"), ("email", "mailgun", "/v3/mg.example.com/messages")],
)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nnot a header line"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data\r\n\r\nv"),
        ("application/x-www-form-urlencoded", b"from=\xff\xfe"),
        ("application/x-www-form-urlencoded; charset=klingon", b"from=a"),
    ],
)
async def test_malformed_form_bodies_are_400_never_a_crash(
    start_simulator: StartSimulator,
    http: httpx.AsyncClient,
    kind: str,
    dialect: str,
    path: str,
    content_type: str,
    body: bytes,
) -> None:
    """Broken multipart or urlencoded bodies get a 400 in the vendor's shape."""
    simulator = await start_simulator(kind, dialect=dialect)
    response = await http.post(
        simulator.url + path, content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert "could not be parsed" in response.text


async def test_body_that_contradicts_its_content_encoding_is_400(
    stripe: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """A body claiming gzip that is not gzip gets a vendor-shaped 400 and charges nothing."""
    response = await http.post(
        f"{stripe.url}/v1/charges",
        content=b"amount=900",
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert stripe.state.charge_count == 0


@pytest.mark.parametrize(("kind", "dialect", "method", "path", "headers"), JSON_ENDPOINTS)
async def test_bodies_over_one_megabyte_are_413(
    start_simulator: StartSimulator,
    http: httpx.AsyncClient,
    kind: str,
    dialect: str,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    """A body past 1 MB is refused with 413 in the vendor's error shape."""
    simulator = await start_simulator(kind, dialect=dialect)
    body = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = await http.request(
        method,
        simulator.url + path,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()


async def test_unknown_routes_use_the_vendor_error_shape(
    start_simulator: StartSimulator, http: httpx.AsyncClient
) -> None:
    """A 404 or 405 from routing still looks like the vendor's own error."""
    stripe = await start_simulator("payment")
    missing = await http.get(f"{stripe.url}/v1/refunds")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    crm = await start_simulator("crm")
    wrong_method = await http.delete(f"{crm.url}{SALESFORCE}/003000000000001AAA")
    assert wrong_method.status_code == 405
    assert wrong_method.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert "PATCH" in wrong_method.headers["Allow"]


async def test_inventory_serves_seeded_skus_and_404_problems(
    inventory: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Seeded SKUs are served with the backed-up fields; an unknown SKU is an RFC 9457 404."""
    level = (await http.get(f"{inventory.url}/v1/inventory/SKU-1001")).json()
    assert level == {
        "sku": "SKU-1001",
        "available": 42,
        "warehouse": "eu-west-1",
        "updated_at": "2023-11-14T22:13:20Z",
    }
    missing = await http.get(f"{inventory.url}/v1/inventory/SKU-9")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert missing.json()["status"] == 404
    assert "SKU-9" in missing.json()["detail"]


async def test_inventory_lists_several_skus(
    inventory: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """GET /v1/inventory?sku=a,b returns the known ones and names the missing."""
    response = await http.get(
        f"{inventory.url}/v1/inventory", params={"sku": "SKU-1003,SKU-404,SKU-1004"}
    )
    body = response.json()
    assert [item["sku"] for item in body["items"]] == ["SKU-1003", "SKU-1004"]
    assert body["missing"] == ["SKU-404"]
    everything = (await http.get(f"{inventory.url}/v1/inventory")).json()
    assert len(everything["items"]) == 5


async def test_inventory_set_and_adjust_count_updates_and_never_go_negative(
    inventory: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """PUT sets, adjust moves stock, going below zero is 409, and every write is counted."""
    url = f"{inventory.url}/v1/inventory/SKU-1004"
    put = await http.put(url, json={"available": 10, "warehouse": "us-west-2"})
    assert (put.json()["available"], put.json()["warehouse"]) == (10, "us-west-2")
    adjusted = await http.post(f"{url}/adjust", json={"delta": -2})
    assert adjusted.json()["available"] == 8
    refused = await http.post(f"{url}/adjust", json={"delta": -9})
    assert refused.status_code == 409
    assert refused.json()["available"] == 8
    invalid = await http.put(url, json={"available": -1})
    assert invalid.status_code == 422
    created = await http.put(f"{inventory.url}/v1/inventory/SKU-NEW", json={"available": 3})
    assert created.json()["available"] == 3
    assert inventory.state.updates_by_sku == {"SKU-1004": 2, "SKU-NEW": 1}
    assert inventory.state.update_count == 3


async def test_crm_reads_creates_and_updates_contacts(
    crm: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Contacts are read under any vNN.N version, created with 201 and patched with 204."""
    seeded = await http.get(f"{crm.url}/services/data/v52.0/sobjects/Contact/003000000000001AAA")
    contact = seeded.json()
    assert (contact["Id"], contact["Email"], contact["LastName"]) == (
        "003000000000001AAA",
        "ada@example.com",
        "Lovelace",
    )
    assert contact["AccountId"] == "001000000000001AAA"
    created = await http.post(
        f"{crm.url}{SALESFORCE}", json={"LastName": "Hamilton", "Email": "mh@example.com"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["success"], body["errors"], len(body["id"])) == (True, [], 18)
    patched = await http.patch(f"{crm.url}{SALESFORCE}/{body['id']}", json={"Title": "Director"})
    assert (patched.status_code, patched.content) == (204, b"")
    fetched = (await http.get(f"{crm.url}{SALESFORCE}/{body['id']}")).json()
    assert (fetched["LastName"], fetched["Title"]) == ("Hamilton", "Director")
    assert crm.state.snapshot()["creates"] == 1
    assert crm.state.snapshot()["updates"] == 1


async def test_crm_errors_use_salesforce_error_lists(
    crm: RunningSimulator, http: httpx.AsyncClient
) -> None:
    """Salesforce errors are lists of {message, errorCode, fields}."""
    missing_name = await http.post(f"{crm.url}{SALESFORCE}", json={"Email": "x@example.com"})
    assert missing_name.status_code == 400
    assert missing_name.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing_name.json()[0]["fields"] == ["LastName"]
    bad_field = await http.post(f"{crm.url}{SALESFORCE}", json={"LastName": "X", "Shoe": "9"})
    assert bad_field.json()[0]["errorCode"] == "INVALID_FIELD"
    unknown = await http.get(f"{crm.url}{SALESFORCE}/003000000000099AAA")
    assert (unknown.status_code, unknown.json()[0]["errorCode"]) == (404, "NOT_FOUND")
    bad_version = await http.get(
        f"{crm.url}/services/data/latest/sobjects/Contact/003000000000001AAA"
    )
    assert bad_version.status_code == 404


async def test_weather_is_deterministic_per_city(
    start_simulator: StartSimulator, http: httpx.AsyncClient
) -> None:
    """The same city gets the same weather from any simulator; another city differs."""
    answers = []
    for _ in range(2):
        simulator = await start_simulator("weather", seed=None)
        response = await http.get(
            f"{simulator.url}/data/2.5/weather", params={"q": "Lisbon", "units": "metric"}
        )
        body = response.json()
        body.pop("dt")
        answers.append(body)
    assert answers[0] == answers[1]
    assert answers[0]["name"] == "Lisbon"
    assert set(answers[0]["main"]) >= {"temp", "humidity"}
    assert set(answers[0]["weather"][0]) >= {"main", "description"}
    assert -20 <= answers[0]["main"]["temp"] <= 40
    other = await http.get(f"{simulator.url}/data/2.5/weather", params={"q": "Tromso"})
    assert other.json()["id"] != answers[0]["id"]
    assert simulator.state.snapshot()["lookups"] == {"lisbon": 1, "tromso": 1}


async def test_weather_errors_use_openweather_shape(
    start_simulator: StartSimulator, http: httpx.AsyncClient
) -> None:
    """No city is 400 "Nothing to geocode"; an impossible name is 404 "city not found"."""
    simulator = await start_simulator("weather")
    nothing = await http.get(f"{simulator.url}/data/2.5/weather")
    assert (nothing.status_code, nothing.json()) == (
        400,
        {"cod": "400", "message": "Nothing to geocode"},
    )
    unknown = await http.get(f"{simulator.url}/data/2.5/weather", params={"q": "12345"})
    assert (unknown.status_code, unknown.json()["message"]) == (404, "city not found")
