"""A Salesforce-REST-like CRM: the ``Contact`` sObject.

Follows the REST API developer guide
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_retrieve.htm):
``GET /services/data/vNN.N/sobjects/Contact/{Id}``, ``POST .../sobjects/Contact``
-> 201 ``{"id", "success": true, "errors": []}``, ``PATCH .../Contact/{Id}`` ->
204. Any ``vNN.N`` version is accepted. Errors are Salesforce's list of
``{"message", "errorCode", "fields"}`` objects.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError, json_response, make_id, read_json_object, vendor_work
from seawall.chaos.simulators._base import Vendor

__all__ = ["ContactStore", "SalesforceApi", "build_salesforce", "render_salesforce_error"]

_VERSION = re.compile(r"^v\d{1,3}\.\d$")
_FIELDS = ("FirstName", "LastName", "Email", "AccountId", "Phone", "Title")
SEED_CONTACTS: tuple[dict[str, str], ...] = (
    {
        "Id": "003000000000001AAA",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "ada@example.com",
        "AccountId": "001000000000001AAA",
    },
    {
        "Id": "003000000000002AAA",
        "FirstName": "Grace",
        "LastName": "Hopper",
        "Email": "grace@example.com",
        "AccountId": "001000000000001AAA",
    },
    {
        "Id": "003000000000003AAA",
        "FirstName": "Alan",
        "LastName": "Turing",
        "Email": "alan@example.com",
        "AccountId": "001000000000002AAA",
    },
)
_ERROR_CODES = {
    400: "MALFORMED_QUERY",
    401: "INVALID_SESSION_ID",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "UNKNOWN_EXCEPTION",
    503: "SERVER_UNAVAILABLE",
}


def render_salesforce_error(error: VendorError) -> web.Response:
    code = error.code or _ERROR_CODES.get(error.status, "UNKNOWN_EXCEPTION")
    errors = [
        {"message": message, "errorCode": code, "fields": [field] if field else []}
        for field, message in error.problems
    ]
    return json_response(errors, status=error.status, headers=error.headers)


class ContactStore:
    """Contacts by Id, and how many creates and updates arrived."""

    def __init__(self, *, seed: int | None) -> None:
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = random.Random(self._seed)
        self.contacts: dict[str, dict[str, str | None]] = {
            contact["Id"]: {name: contact.get(name) for name in ("Id", *_FIELDS)}
            for contact in SEED_CONTACTS
        }
        self.writes: Counter[str] = Counter()

    def snapshot(self) -> dict[str, Any]:
        return {
            "contacts": list(self.contacts.values()),
            "contact_count": len(self.contacts),
            "creates": self.writes["create"],
            "updates": self.writes["update"],
        }


class SalesforceApi:
    def __init__(self, store: ContactStore) -> None:
        self.store = store

    def routes(self) -> list[web.RouteDef]:
        base = "/services/data/{version}/sobjects/Contact"
        return [
            web.get(base + "/{contact_id}", self.get_contact),
            web.post(base, self.create_contact),
            web.patch(base + "/{contact_id}", self.update_contact),
        ]

    async def get_contact(self, request: web.Request) -> web.Response:
        version = _version(request)
        contact = self._existing(request.match_info["contact_id"])
        url = f"/services/data/{version}/sobjects/Contact/{contact['Id']}"
        return json_response({"attributes": {"type": "Contact", "url": url}, **contact})

    async def create_contact(self, request: web.Request) -> web.Response:
        _version(request)
        fields = _fields(await read_json_object(request))
        if not fields.get("LastName"):
            raise VendorError(
                400,
                "Required fields are missing: [LastName]",
                code="REQUIRED_FIELD_MISSING",
                field="LastName",
            )
        await vendor_work(request)
        contact_id = make_id(self.store.rng, "003", 15)
        self.store.contacts[contact_id] = {
            "Id": contact_id,
            **{name: fields.get(name) for name in _FIELDS},
        }
        self.store.writes["create"] += 1
        return json_response({"id": contact_id, "success": True, "errors": []}, status=201)

    async def update_contact(self, request: web.Request) -> web.Response:
        _version(request)
        contact = self._existing(request.match_info["contact_id"])
        fields = _fields(await read_json_object(request))
        if "LastName" in fields and not fields["LastName"]:
            raise VendorError(
                400,
                "Required fields are missing: [LastName]",
                code="REQUIRED_FIELD_MISSING",
                field="LastName",
            )
        await vendor_work(request)
        contact.update(fields)
        self.store.writes["update"] += 1
        return web.Response(status=204)

    def _existing(self, contact_id: str) -> dict[str, str | None]:
        contact = self.store.contacts.get(contact_id)
        if contact is None:
            raise VendorError(404, "The requested resource does not exist", code="NOT_FOUND")
        return contact


def build_salesforce(seed: int | None) -> Vendor:
    store = ContactStore(seed=seed)
    return Vendor(
        kind="crm",
        dialect="salesforce",
        state=store,
        routes=SalesforceApi(store).routes(),
        render_error=render_salesforce_error,
    )


def _version(request: web.Request) -> str:
    version = request.match_info["version"]
    if not _VERSION.match(version):
        raise VendorError(404, "The requested resource does not exist", code="NOT_FOUND")
    return version


def _fields(body: dict[str, Any]) -> dict[str, str | None]:
    problems: list[tuple[str | None, str]] = []
    fields: dict[str, str | None] = {}
    for name, value in body.items():
        if name in ("Id", "attributes"):
            continue
        if name not in _FIELDS:
            problems.append((name, f"No such column '{name}' on sobject of type Contact"))
        elif value is not None and not isinstance(value, str):
            problems.append((name, f"Cannot deserialize value for field {name}: expected a string"))
        else:
            fields[name] = value
    if problems:
        raise VendorError(400, problems[0][1], code="INVALID_FIELD", problems=problems)
    email = fields.get("Email")
    if email is not None and ("@" not in email or " " in email):
        raise VendorError(
            400,
            f"Email: invalid email address: {email}",
            code="INVALID_EMAIL_ADDRESS",
            field="Email",
        )
    return fields
