"""Schemathesis, run against the admin API's own OpenAPI document, finds no failure.

The service runs with alert rules, a notification channel and a configured
silence; before schemathesis starts, failing calls make an alert fire, which
opens an incident and a notification group, and a live silence is added, so
the on-call operations answer with real data, not only with empty lists.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from seawall.service import Service
from seawall.web._admin import ROUTES
from seawall.web._openapi import openapi_document
from tests.gateway.conftest import ADMIN_TOKEN, echo_server, write_config
from tests.gateway.test_gateway_blackbox import gateway_config

pytestmark = [pytest.mark.realserver, pytest.mark.slow]

#: Operations whose documented method and path need a bearer token (all but _OPEN).
_PROTECTED = {
    ("GET", re.compile(r"/api/v1/integrations")),
    ("GET", re.compile(r"/api/v1/integrations/[^/]+")),
    ("PUT", re.compile(r"/api/v1/integrations/[^/]+/providers/[^/]+/breaker")),
    ("POST", re.compile(r"/api/v1/integrations/[^/]+/providers/[^/]+/maintenance")),
    ("DELETE", re.compile(r"/api/v1/integrations/[^/]+/providers/[^/]+/maintenance")),
    ("GET", re.compile(r"/api/v1/outbox")),
    ("GET", re.compile(r"/api/v1/outbox/[^/]+")),
    ("DELETE", re.compile(r"/api/v1/outbox/[^/]+")),
    ("POST", re.compile(r"/api/v1/outbox/[^/]+/retry")),
    ("GET", re.compile(r"/api/v1/sla")),
    ("GET", re.compile(r"/api/v1/alerts")),
    ("POST", re.compile(r"/api/v1/alerts/[^/]+/ack")),
    ("GET", re.compile(r"/api/v1/silences")),
    ("POST", re.compile(r"/api/v1/silences")),
    ("DELETE", re.compile(r"/api/v1/silences/[^/]+")),
    ("GET", re.compile(r"/api/v1/incidents")),
    ("GET", re.compile(r"/api/v1/incidents/[^/]+")),
    ("POST", re.compile(r"/api/v1/incidents/[^/]+/ack")),
    ("POST", re.compile(r"/api/v1/incidents/[^/]+/resolve")),
    ("GET", re.compile(r"/api/v1/incidents/[^/]+/report")),
    ("POST", re.compile(r"/api/v1/reload")),
}
#: Documented operations open without a token, like /healthz: an acknowledge link's
#: signed token is its permission (the document marks them ``security: []``).
_OPEN = {
    ("GET", re.compile(r"/api/v1/ack/[^/]+")),
    ("POST", re.compile(r"/api/v1/ack/[^/]+")),
}
_CONFORMANCE = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
_WITH_TOKEN = (*_CONFORMANCE, "negative_data_rejection", "unsupported_method", "ignored_auth")


def _oncall_config(tmp_path: Path, upstream: str) -> str:
    """A store of its own, a rule on the failing integration, a channel and a configured silence."""
    hook = upstream.removeprefix("http://")
    return f"""store: "sqlite:///{tmp_path / "state.db"}"
    alerts:
      - name: down-errors
        integration: down
        metric: error_rate
        above: 50%
        window: 1m
        severity: critical
      - {{name: echo-slow, integration: echo, metric: latency_p95, above: 2s}}
    notifications:
      channels:
        hook: {{url: "json://{hook}/hook"}}
      routes:
        - {{match: {{}}, channels: [hook]}}
      group_wait: 0s
      silences:
        - {{matchers: {{integration: echo}}, ends_at: "2100-01-01T00:00:00Z", comment: kept}}
    """


@dataclass(frozen=True)
class Seeded:
    """The running admin API and the on-call things that exist in it."""

    url: str  #: the OpenAPI document
    fingerprint: str  #: a firing alert
    token: str  #: the acknowledge link of its notification group
    incident: int  #: the incident it opened
    silence: str  #: a live silence


async def _seed(service: Service) -> Seeded:
    """Fail calls until the alert on ``down`` fires; add a live silence."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.gateway_port}") as client:
        for _ in range(5):
            assert (await client.get("/down/v1/x")).status_code >= 500
    await service.oncall.tick()
    firing = [s for s in service.oncall.statuses() if s.state == "firing"]
    assert [s.rule for s in firing] == ["down-errors"], service.oncall.statuses()
    (group,) = service.oncall.notifications().groups
    link = service.oncall.ack_link(group.key)
    incidents = await service.oncall.store.incidents.list(state=None, limit=1)
    assert incidents, "the firing critical alert opened no incident"
    now = time.time()
    silence = await service.oncall.add_silence(
        {"integration": "nowhere"},
        starts_at=now,
        ends_at=now + 3600,
        comment="schemathesis",
        created_by="test",
    )
    return Seeded(
        url=f"http://127.0.0.1:{service.admin_port}/api/v1/openapi.json",
        fingerprint=firing[0].fingerprint,
        token=link.rpartition("/")[2],
        incident=incidents[0].id,
        silence=silence.id,
    )


@asynccontextmanager
async def admin_api(tmp_path: Path) -> AsyncIterator[Seeded]:
    """An in-process seawall on loopback with a firing alert, an incident and silences."""
    async with echo_server() as upstream:
        extra = _oncall_config(tmp_path, upstream)
        service = Service(write_config(tmp_path, gateway_config(upstream, extra=extra)))
        await service.start()
        try:
            yield await _seed(service)
        finally:
            await service.stop()


def _known_names(seeded: Seeded) -> str:
    """Schemathesis configuration that sends names and ids which exist."""
    return f"""
[parameters]
"path.name" = "echo"
"path.provider" = "local"
"path.fingerprint" = "{seeded.fingerprint}"
"path.token" = "{seeded.token}"

[[operations]]
include-path-regex = "^/api/v1/incidents/"
parameters = {{ "path.id" = {seeded.incident} }}

[[operations]]
include-path-regex = "^/api/v1/silences/"
parameters = {{ "path.id" = "{seeded.silence}" }}
"""


async def schemathesis_run(
    tmp_path: Path, url: str, *args: str, parameters: str = ""
) -> list[dict[str, Any]]:
    """Run the schemathesis CLI (bounded, seeded); fail with its output unless it exits 0.

    Returns the HAR entries of every request it sent.
    """
    config = tmp_path / "schemathesis.toml"
    config.write_text(parameters)
    har = tmp_path / "run.har"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(config),
        "run",
        url,
        "--max-examples=30",
        "--seed=20240601",
        "--workers=1",
        "--request-timeout=5",
        "--generation-database=none",
        "--report=har",
        f"--report-har-path={har}",
        *args,
        cwd=tmp_path,  # its crash cache and hypothesis files land there, not in the repo
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(60):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, output.decode(errors="replace")
    entries: list[dict[str, Any]] = json.loads(har.read_text())["log"]["entries"]
    assert entries, output.decode(errors="replace")
    return entries


def _statuses(entries: list[dict[str, Any]]) -> Counter[tuple[str, str, int]]:
    """Count (method, path, status) over the requests schemathesis sent."""
    return Counter(
        (e["request"]["method"], urlsplit(e["request"]["url"]).path, e["response"]["status"])
        for e in entries
    )


@pytest.mark.parametrize("known", [False, True], ids=["generated-names", "known-names"])
async def test_schemathesis_with_admin_token_finds_no_failure(tmp_path: Path, known: bool) -> None:
    """With the admin token, every operation answers as documented and never with a 5xx."""
    async with admin_api(tmp_path) as seeded:
        entries = await schemathesis_run(
            tmp_path,
            seeded.url,
            f"--header=Authorization: Bearer {ADMIN_TOKEN}",
            f"--checks={','.join(_WITH_TOKEN)}",
            parameters=_known_names(seeded) if known else "",
        )
    statuses = _statuses(entries)
    assert not [key for key in statuses if key[2] >= 500], statuses
    # The seeded alert, group, incident and silences are in the listings schemathesis checked.
    for path in ("/api/v1/alerts", "/api/v1/silences", "/api/v1/incidents"):
        assert statuses[("GET", path, 200)], statuses
    if known:
        # The fixed names reach the handlers: breakers really change, one integration is read,
        # the alert, the link, the incident and the silence are found.
        path = "/api/v1/integrations/echo/providers/local/breaker"
        assert statuses[("PUT", path, 200)], statuses
        assert statuses[("GET", "/api/v1/integrations/echo", 200)], statuses
        incident = f"/api/v1/incidents/{seeded.incident}"
        for method, reached in (
            ("POST", f"/api/v1/alerts/{seeded.fingerprint}/ack"),
            ("GET", f"/api/v1/ack/{seeded.token}"),
            ("POST", f"/api/v1/ack/{seeded.token}"),
            ("GET", incident),
            ("GET", f"{incident}/report"),
            ("DELETE", f"/api/v1/silences/{seeded.silence}"),
        ):
            assert statuses[(method, reached, 200)], (method, reached, statuses)


async def test_schemathesis_without_token_gets_only_401(tmp_path: Path) -> None:
    """Without a valid token every protected operation answers a documented 401, nothing else;
    the open acknowledge links never ask for one."""
    async with admin_api(tmp_path) as seeded:
        entries = await schemathesis_run(
            tmp_path, seeded.url, "--mode=positive", f"--checks={','.join(_CONFORMANCE)}"
        )
    statuses = _statuses(entries)

    def listed(key: tuple[str, str, int], operations: set[tuple[str, re.Pattern[str]]]) -> bool:
        return any(key[0] == method and path.fullmatch(key[1]) for method, path in operations)

    protected = {key for key in statuses if listed(key, _PROTECTED)}
    opened = {key for key in statuses if listed(key, _OPEN)}
    assert set(statuses) == protected | opened, statuses
    assert {status for _, _, status in protected} == {401}, statuses
    assert {method for method, _, _ in protected} == {"GET", "PUT", "POST", "DELETE"}, statuses
    # Generated tokens are not signed: an open link answers 404, never 401.
    assert {(method, status) for method, _, status in opened} == {("GET", 404), ("POST", 404)}


def test_every_route_but_health_metrics_and_the_document_is_documented() -> None:
    """Each admin route is an operation of the document, open ones with ``security: []``."""
    undocumented = {"/healthz", "/metrics", "/api/v1/openapi.json"}
    paths = openapi_document("test")["paths"]
    documented = {
        (method.upper(), path, operation.get("security") != [])
        for path, item in paths.items()
        for method, operation in item.items()
    }
    routes = {
        (method, path, role is not None)
        for method, path, _handler, role in ROUTES
        if path not in undocumented
    }
    assert documented == routes
    assert {(m, p) for m, p, guarded in routes if not guarded} == {
        ("GET", "/api/v1/ack/{token}"),
        ("POST", "/api/v1/ack/{token}"),
    }
