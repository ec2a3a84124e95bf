"""The admin API's alerts, silences, acknowledge links and incidents, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from aiohttp import web

from seawall.alerts import Transition
from seawall.service import Service
from seawall.web import AdminContext, TokenBook, build_admin_app
from tests.gateway.conftest import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    echo_server,
    service_head,
    write_config,
)

pytestmark = [pytest.mark.realserver]

VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
LABELS = {"alertname": "pay-errors", "severity": "critical", "integration": "pay"}


def _config(upstream: str, store: Path) -> str:
    return f"""{service_head(store)}
    integrations:
      pay:
        providers:
          - {{name: first, base_url: {upstream}}}
    alerts:
      - {{name: pay-errors, integration: pay, metric: error_rate, above: 50%, severity: critical}}
    notifications:
      channels:
        hook: {{url: "json://{upstream.removeprefix("http://")}/hook"}}
      routes:
        - {{match: {{}}, channels: [hook]}}
      group_wait: 1h
      silences:
        - {{matchers: {{integration: legacy}}, ends_at: "2100-01-01T00:00:00Z", comment: in the file}}
    """


@dataclass
class Running:
    service: Service
    admin: httpx.AsyncClient

    async def schema(self, path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        """The documented JSON body of an operation, with the components it refers to."""
        document = (await self.admin.get("/api/v1/openapi.json")).json()
        response = document["paths"][path][method]["responses"][status]
        schema = response["content"]["application/json"]["schema"]
        return {**schema, "components": document["components"]}


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """An in-process seawall with an alert rule, a channel and a temporary SQLite store."""
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, _config(upstream, tmp_path / "state.db")))
        await service.start()
        try:
            admin_url = f"http://127.0.0.1:{service.admin_port}"
            async with httpx.AsyncClient(base_url=admin_url, timeout=10) as admin:
                yield Running(service, admin)
        finally:
            await service.stop()


def _firing(at: float) -> Transition:
    return Transition(
        rule="pay-errors",
        labels=LABELS,
        state="firing",
        previous="pending",
        at=at,
        value=0.9,
        threshold=0.5,
        summary="pay error rate 90% is above 50%",
        severity="critical",
        active_since=at,
        fired_at=at,
    )


def _group_key(service: Service) -> str:
    """Make a notification group exist (a firing alert), and return its key."""
    service.oncall.notifier.submit([_firing(time.time())])
    (group,) = service.oncall.notifications().groups
    return group.key


def _token(service: Service, group_key: str) -> str:
    return service.oncall.ack_link(group_key).rpartition("/")[2]


async def test_alerts_list_every_rule_and_the_notification_groups(tmp_path: Path) -> None:
    """A viewer sees each rule's series and the groups with their alerts, as documented."""
    async with running(tmp_path) as seawall:
        assert (await seawall.admin.get("/api/v1/alerts")).status_code == 401
        key = _group_key(seawall.service)
        response = await seawall.admin.get("/api/v1/alerts", headers=VIEWER)
        assert response.status_code == 200, response.text
        listing = response.json()
        (rule,) = listing["alerts"]
        assert (rule["rule"], rule["severity"], rule["state"]) == (
            "pay-errors",
            "critical",
            "inactive",
        )
        assert rule["labels"]["integration"] == "pay"
        (group,) = listing["groups"]
        assert group["key"] == key
        assert group["state"] == "pending"
        assert group["acked_by"] is None
        (alert,) = group["alerts"]
        assert (alert["alertname"], alert["state"], alert["value"]) == ("pay-errors", "firing", 0.9)
        jsonschema_rs.validate(await seawall.schema("/api/v1/alerts"), listing)


async def test_silence_is_added_listed_and_expired(tmp_path: Path) -> None:
    """An operator adds a silence (201), everyone sees it active, and expiring it ends it."""
    async with running(tmp_path) as seawall:
        body = {"matchers": {"integration": "pay", "provider": "*"}, "duration": "2h"}
        viewer = await seawall.admin.post("/api/v1/silences", json=body, headers=VIEWER)
        assert viewer.status_code == 403
        assert "operator" in viewer.json()["detail"]
        added = await seawall.admin.post(
            "/api/v1/silences", json={**body, "comment": "vendor upgrade"}, headers=OPERATOR
        )
        assert added.status_code == 201, added.text
        silence = added.json()
        assert silence["matchers"] == body["matchers"]
        assert silence["ends_at"] - silence["starts_at"] == pytest.approx(7200)
        assert (silence["created_by"], silence["source"]) == ("oncall", "live")

        listing = (await seawall.admin.get("/api/v1/silences", headers=VIEWER)).json()
        configured, live = listing["silences"]
        assert configured["id"] == "config-1"
        assert configured["starts_at"] is None  # no start in the file: not -Infinity
        assert configured["active"] is True
        assert (live["id"], live["active"]) == (silence["id"], True)
        jsonschema_rs.validate(await seawall.schema("/api/v1/silences"), listing)

        path = f"/api/v1/silences/{silence['id']}"
        assert (await seawall.admin.delete(path, headers=VIEWER)).status_code == 403
        expired = await seawall.admin.delete(path, headers=OPERATOR)
        assert expired.status_code == 200, expired.text
        assert expired.json()["ends_at"] <= time.time()
        listing = (await seawall.admin.get("/api/v1/silences", headers=VIEWER)).json()
        assert [s["active"] for s in listing["silences"] if s["id"] == silence["id"]] == [False]

        in_file = await seawall.admin.delete("/api/v1/silences/config-1", headers=OPERATOR)
        assert in_file.status_code == 409
        assert "configuration" in in_file.json()["detail"]
        unknown = await seawall.admin.delete("/api/v1/silences/no-such-one", headers=OPERATOR)
        assert unknown.status_code == 404
        bad_id = await seawall.admin.delete("/api/v1/silences/a%20b", headers=OPERATOR)
        assert bad_id.status_code == 400


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"duration": "2h"}, "matchers and duration are required"),
        ({"matchers": {"integration": "pay"}}, "matchers and duration are required"),
        ({"matchers": {}, "duration": "2h"}, "matchers is an object of 1 to 16"),
        ({"matchers": {"integration": "*"}, "duration": "2h"}, "at least one matcher"),
        ({"matchers": {"bad-label": "x"}, "duration": "2h"}, "not a label name"),
        ({"matchers": {"integration": "pay\n"}, "duration": "2h"}, "printable"),
        ({"matchers": {"integration": "pay"}, "duration": "soon"}, "duration is"),
        ({"matchers": {"integration": "pay"}, "duration": "60d"}, "from 1s to 30d"),
        ({"matchers": {"integration": "pay"}, "duration": 10**400}, "from 1s to 30d"),
        ({"matchers": {"integration": "pay"}, "duration": 60, "starts_at": 10**400}, "starts_at"),
        ({"matchers": {"integration": "pay"}, "duration": 60, "starts_at": 0}, "starts_at"),
        ({"matchers": {"integration": "pay"}, "duration": 60, "comment": "x" * 201}, "comment"),
        ({"matchers": {"integration": "pay"}, "duration": 60, "until": 5}, "unknown field"),
        (["integration", "pay"], "send a JSON object"),
    ],
)
async def test_a_bad_silence_is_a_400_that_says_what_is_wrong(
    tmp_path: Path, body: object, says: str
) -> None:
    """Missing or malformed matchers, durations, starts or comments are refused, naming the field."""
    async with running(tmp_path) as seawall:
        response = await seawall.admin.post("/api/v1/silences", json=body, headers=OPERATOR)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert says in response.json()["detail"]
        assert [r.id for r in seawall.service.oncall.notifier.silences.records()] == ["config-1"]


async def test_incidents_list_empty_and_unknown_ids_are_404(tmp_path: Path) -> None:
    """With no incident the list is empty; an unknown id is 404 everywhere, a malformed one 400."""
    async with running(tmp_path) as seawall:
        listing = await seawall.admin.get("/api/v1/incidents", headers=VIEWER)
        assert listing.status_code == 200
        assert listing.json() == {"incidents": []}
        for path in ("/api/v1/incidents/42", "/api/v1/incidents/42/report"):
            assert (await seawall.admin.get(path, headers=VIEWER)).status_code == 404
        for action in ("ack", "resolve"):
            path = f"/api/v1/incidents/42/{action}"
            assert (await seawall.admin.post(path, headers=VIEWER)).status_code == 403
            assert (await seawall.admin.post(path, headers=OPERATOR)).status_code == 404
        for query in ({"state": "closed"}, {"limit": "0"}, {"limit": "501"}):
            bad = await seawall.admin.get("/api/v1/incidents", params=query, headers=VIEWER)
            assert bad.status_code == 400, query
        bad_id = await seawall.admin.get("/api/v1/incidents/one", headers=VIEWER)
        assert bad_id.status_code == 400


async def test_an_incident_is_acknowledged_then_resolved_once(tmp_path: Path) -> None:
    """A critical alert's incident shows with its timeline; ack, resolve, then resolve again is 409."""
    async with running(tmp_path) as seawall:
        change = await seawall.service.oncall.incidents.on_transition(_firing(time.time()))
        assert change is not None
        path = f"/api/v1/incidents/{change.incident.id}"
        shown = await seawall.admin.get(path, headers=VIEWER)
        assert shown.status_code == 200, shown.text
        assert shown.json()["state"] == "open"
        assert "incident-opened" in [e["kind"] for e in shown.json()["timeline"]]
        jsonschema_rs.validate(await seawall.schema("/api/v1/incidents/{id}"), shown.json())
        acked = await seawall.admin.post(f"{path}/ack", headers=OPERATOR)
        assert acked.status_code == 200, acked.text
        assert (acked.json()["state"], acked.json()["acknowledged_by"]) == (
            "acknowledged",
            "oncall",
        )
        resolved = await seawall.admin.post(f"{path}/resolve", headers=OPERATOR)
        assert resolved.json()["state"] == "resolved"
        again = await seawall.admin.post(f"{path}/resolve", headers=OPERATOR)
        assert again.status_code == 409
        report = await seawall.admin.get(
            f"{path}/report", params={"format": "html"}, headers=VIEWER
        )
        assert report.headers["Content-Type"].startswith("text/html")
        listed = await seawall.admin.get(
            "/api/v1/incidents", params={"state": "resolved"}, headers=VIEWER
        )
        assert [i["id"] for i in listed.json()["incidents"]] == [change.incident.id]


async def test_a_forged_acknowledge_link_is_404(tmp_path: Path) -> None:
    """A token the service did not sign, or a mangled one, finds nothing and acknowledges nothing."""
    async with running(tmp_path) as seawall:
        key = _group_key(seawall.service)
        real = _token(seawall.service, key)
        payload, _, mac = real.partition(".")
        forged = f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
        for token in (forged, "not-a-token", f"{real}x.y"):
            for method in ("GET", "POST"):
                response = await seawall.admin.request(method, f"/api/v1/ack/{token}")
                assert response.status_code == 404, (method, token)
                assert response.headers["Content-Type"].startswith("application/problem+json")
        (group,) = seawall.service.oncall.notifications().groups
        assert group.acked_by is None


async def test_an_acknowledge_link_confirms_first_and_its_post_acknowledges(
    tmp_path: Path,
) -> None:
    """Opening the link shows a form and acknowledges nothing; its POST acknowledges the group."""
    async with running(tmp_path) as seawall:
        key = _group_key(seawall.service)
        path = f"/api/v1/ack/{_token(seawall.service, key)}"

        page = await seawall.admin.get(path)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert '<form method="post">' in page.text
        assert "route0/integration=pay" in page.text
        (group,) = seawall.service.oncall.notifications().groups
        assert group.acked_by is None

        too_long = await seawall.admin.post(path, data={"by": "x" * 122})
        assert too_long.status_code == 400
        assert "at most 121" in too_long.json()["detail"]
        extra = await seawall.admin.post(path, data={"by": "Ada", "as": "admin"})
        assert extra.status_code == 400
        (group,) = seawall.service.oncall.notifications().groups
        assert group.acked_by is None

        done = await seawall.admin.post(path, data={"by": "Ada"})
        assert done.status_code == 200, done.text
        assert done.json() == {"acknowledged": True, "group": key, "by": "Ada (link)"}
        (group,) = seawall.service.oncall.notifications().groups
        assert group.acked_by == "Ada (link)"

        shown = await seawall.admin.post(path, headers={"Accept": "text/html"})
        assert shown.status_code == 200
        assert shown.headers["Content-Type"].startswith("text/html")
        assert "acknowledged by acknowledge link" in shown.text


async def test_before_alerting_has_started_its_operations_are_503(tmp_path: Path) -> None:
    """Before the service has started on-call (no store yet) its operations answer a 503 problem."""
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, _config(upstream, tmp_path / "state.db")))
        context = AdminContext(
            engine=lambda: service.engine,
            tokens=lambda: TokenBook(service.config.admin.tokens),
            recent=service.recent,
            metrics=service.metrics.render,
            reload=service.reload,
            version="test",
            oncall=lambda: service.oncall,
        )
        runner = web.AppRunner(build_admin_app(context), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            admin_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            async with httpx.AsyncClient(base_url=admin_url, headers=OPERATOR) as admin:
                for method, path in (
                    ("GET", "/api/v1/alerts"),
                    ("GET", "/api/v1/silences"),
                    ("POST", "/api/v1/alerts/0123456789abcdef/ack"),
                    ("GET", "/api/v1/incidents/1"),
                    ("GET", "/api/v1/ack/abc.def"),
                ):
                    response = await admin.request(method, path)
                    assert response.status_code == 503, (method, path, response.text)
                    assert "not running yet" in response.json()["detail"]
        finally:
            await runner.cleanup()
            await service.stop()
