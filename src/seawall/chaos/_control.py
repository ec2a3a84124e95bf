"""The control API under ``/_sim/``, on the simulator's own port.

Routes as data (see STYLE.md), never touched by faults:

=======  ======================  ==============================================
POST     /_sim/faults            add a fault (JSON spec) -> 201 ``{"id", ...}``
GET      /_sim/faults            ``{"faults": [...]}`` with ``matched``/``fired``
DELETE   /_sim/faults            remove every fault -> ``{"removed": n}``
DELETE   /_sim/faults/{id}       remove one fault -> 204, or 404
GET      /_sim/state             the vendor's state and request counts
POST     /_sim/reset             seeded initial state, no faults, no traffic
=======  ======================  ==============================================

Errors are ``{"error": "..."}`` saying what is wrong and where.
"""

from __future__ import annotations

import json

from aiohttp import web

from seawall.chaos._faults import FaultSpecError, parse_fault_spec
from seawall.chaos._http import json_response, read_body
from seawall.chaos._simulation import SIMULATION_KEY

__all__ = ["control_routes"]


async def add_fault(request: web.Request) -> web.Response:
    body = await read_body(request)
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError) as exc:
        return json_response({"error": f"the fault spec is not valid JSON: {exc}"}, status=400)
    try:
        spec = parse_fault_spec(data)
    except FaultSpecError as exc:
        return json_response({"error": str(exc)}, status=400)
    fault = request.app[SIMULATION_KEY].faults.add(spec)
    return json_response(fault.to_dict(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    faults = request.app[SIMULATION_KEY].faults.faults()
    return json_response({"faults": [fault.to_dict() for fault in faults]})


async def clear_faults(request: web.Request) -> web.Response:
    removed = request.app[SIMULATION_KEY].faults.clear()
    return json_response({"removed": removed})


async def remove_fault(request: web.Request) -> web.Response:
    fault_id = request.match_info["fault_id"]
    if not request.app[SIMULATION_KEY].faults.remove(fault_id):
        return json_response({"error": f"no fault with id {fault_id!r}"}, status=404)
    return web.Response(status=204)


async def get_state(request: web.Request) -> web.Response:
    return json_response(request.app[SIMULATION_KEY].snapshot())


async def reset(request: web.Request) -> web.Response:
    request.app[SIMULATION_KEY].reset()
    return json_response({"reset": True})


def control_routes() -> list[web.RouteDef]:
    return [
        web.post("/_sim/faults", add_fault),
        web.get("/_sim/faults", list_faults),
        web.delete("/_sim/faults", clear_faults),
        web.delete("/_sim/faults/{fault_id}", remove_fault),
        web.get("/_sim/state", get_state),
        web.post("/_sim/reset", reset),
    ]
