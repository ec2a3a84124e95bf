"""A fulfilment-system inventory API (the reference config's ``shipbob-*`` providers).

Stock levels per SKU: ``GET /v1/inventory/{sku}`` ->
``{"sku", "available", "warehouse", "updated_at"}`` (the fields the reference
config backs up), ``GET /v1/inventory?sku=a,b``, ``PUT /v1/inventory/{sku}``
to set a level and ``POST /v1/inventory/{sku}/adjust`` ``{"delta": -2}``,
which never takes stock below zero (409). Errors are RFC 9457 problem details
(``application/problem+json``). Five SKUs are seeded, the same every run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from seawall._types import Clock
from seawall.chaos._http import VendorError, WallClock, json_response, read_json_object, vendor_work
from seawall.chaos.simulators._base import Vendor

__all__ = ["InventoryApi", "InventoryState", "StockLevel", "build_shipbob", "render_problem"]

SEED_STOCK: tuple[tuple[str, int, str], ...] = (
    ("SKU-1001", 42, "eu-west-1"),
    ("SKU-1002", 0, "eu-west-1"),
    ("SKU-1003", 250, "us-east-1"),
    ("SKU-1004", 7, "us-east-1"),
    ("SKU-1005", 19, "eu-central-1"),
)
_SEED_TIME = 1_700_000_000.0  # seeded levels carry a fixed timestamp, so snapshots compare
_MAX_SKU_LENGTH = 64


def render_problem(error: VendorError) -> web.Response:
    """An RFC 9457 problem details object."""
    try:
        title = HTTPStatus(error.status).phrase
    except ValueError:
        title = "Error"
    payload: dict[str, Any] = {
        "type": f"https://seawall.dev/problems/{error.code}" if error.code else "about:blank",
        "title": title,
        "status": error.status,
        "detail": error.message,
    }
    payload.update(error.details)
    return json_response(
        payload,
        status=error.status,
        headers=error.headers,
        content_type="application/problem+json",
    )


@dataclass(slots=True)
class StockLevel:
    sku: str
    available: int
    warehouse: str
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        stamp = dt.datetime.fromtimestamp(self.updated_at, tz=dt.UTC)
        return {
            "sku": self.sku,
            "available": self.available,
            "warehouse": self.warehouse,
            "updated_at": stamp.isoformat().replace("+00:00", "Z"),
        }


class InventoryState:
    """Stock per SKU and how many writes each SKU received."""

    def __init__(self) -> None:
        self.clock: Clock = WallClock()
        self.reset()

    def reset(self) -> None:
        self.items: dict[str, StockLevel] = {
            sku: StockLevel(sku, available, warehouse, _SEED_TIME)
            for sku, available, warehouse in SEED_STOCK
        }
        self.updates_by_sku: Counter[str] = Counter()

    @property
    def update_count(self) -> int:
        return sum(self.updates_by_sku.values())

    def write(self, sku: str, available: int, warehouse: str | None) -> StockLevel:
        level = self.items.get(sku)
        if level is None:
            level = StockLevel(sku, available, warehouse or "eu-west-1", self.clock.now())
            self.items[sku] = level
        level.available = available
        if warehouse:
            level.warehouse = warehouse
        level.updated_at = self.clock.now()
        self.updates_by_sku[sku] += 1
        return level

    def snapshot(self) -> dict[str, Any]:
        return {
            "items": {sku: level.to_dict() for sku, level in self.items.items()},
            "update_count": self.update_count,
            "updates_by_sku": dict(self.updates_by_sku),
        }


class InventoryApi:
    def __init__(self, state: InventoryState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/inventory", self.list_levels),
            web.get("/v1/inventory/{sku}", self.get_level),
            web.put("/v1/inventory/{sku}", self.set_level),
            web.post("/v1/inventory/{sku}/adjust", self.adjust_level),
        ]

    async def list_levels(self, request: web.Request) -> web.Response:
        wanted = [sku.strip() for sku in request.query.get("sku", "").split(",") if sku.strip()]
        skus = wanted or list(self.state.items)
        found = [self.state.items[sku].to_dict() for sku in skus if sku in self.state.items]
        missing = [sku for sku in skus if sku not in self.state.items]
        return json_response({"items": found, "missing": missing})

    async def get_level(self, request: web.Request) -> web.Response:
        return json_response(self._existing(request.match_info["sku"]).to_dict())

    async def set_level(self, request: web.Request) -> web.Response:
        sku = _sku(request)
        body = await read_json_object(request)
        available = _integer(body.get("available"), "available")
        if available < 0:
            raise VendorError(
                422, "'available' cannot be negative.", code="invalid-quantity", field="available"
            )
        warehouse = body.get("warehouse")
        if warehouse is not None and (not isinstance(warehouse, str) or not warehouse):
            raise VendorError(
                422,
                "'warehouse' must be a non-empty string.",
                code="invalid-field",
                field="warehouse",
            )
        await vendor_work(request)
        return json_response(self.state.write(sku, available, warehouse).to_dict())

    async def adjust_level(self, request: web.Request) -> web.Response:
        level = self._existing(_sku(request))
        body = await read_json_object(request)
        delta = _integer(body.get("delta"), "delta")
        if level.available + delta < 0:
            raise VendorError(
                409,
                f"Cannot adjust {level.sku} by {delta}: only {level.available} available.",
                code="insufficient-stock",
                details={"sku": level.sku, "available": level.available, "delta": delta},
            )
        await vendor_work(request)
        return json_response(self.state.write(level.sku, level.available + delta, None).to_dict())

    def _existing(self, sku: str) -> StockLevel:
        level = self.state.items.get(sku)
        if level is None:
            raise VendorError(
                404, f"Unknown SKU '{sku}'.", code="unknown-sku", details={"sku": sku}
            )
        return level


def build_shipbob(seed: int | None) -> Vendor:
    del seed  # the seeded stock is fixed, so every run starts identical
    state = InventoryState()
    return Vendor(
        kind="inventory",
        dialect="shipbob",
        state=state,
        routes=InventoryApi(state).routes(),
        render_error=render_problem,
    )


def _sku(request: web.Request) -> str:
    sku = request.match_info["sku"]
    if not sku or len(sku) > _MAX_SKU_LENGTH:
        raise VendorError(422, f"A SKU is 1 to {_MAX_SKU_LENGTH} characters.", code="invalid-sku")
    return sku


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VendorError(422, f"'{name}' must be an integer.", code="invalid-field", field=name)
    return value
