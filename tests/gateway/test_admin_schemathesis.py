"""Schemathesis, run against the admin API's own OpenAPI document, finds no failure."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from seawall.service import Service
from tests.gateway.conftest import ADMIN_TOKEN, echo_server, write_config
from tests.gateway.test_gateway_blackbox import gateway_config

pytestmark = [pytest.mark.realserver, pytest.mark.slow]

#: Operations whose documented method and path need a bearer token (all of them).
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
    ("POST", re.compile(r"/api/v1/reload")),
}
_CONFORMANCE = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
_WITH_TOKEN = (*_CONFORMANCE, "negative_data_rejection", "unsupported_method", "ignored_auth")


@asynccontextmanager
async def admin_api(tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of the OpenAPI document of an in-process seawall on loopback."""
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, gateway_config(upstream)))
        await service.start()
        try:
            yield f"http://127.0.0.1:{service.admin_port}/api/v1/openapi.json"
        finally:
            await service.stop()


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


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param("", id="generated-names"),
        pytest.param(
            '[parameters]\n"path.name" = "echo"\n"path.provider" = "local"\n', id="known-names"
        ),
    ],
)
async def test_schemathesis_with_admin_token_finds_no_failure(
    tmp_path: Path, parameters: str
) -> None:
    """With the admin token, every operation answers as documented and never with a 5xx."""
    async with admin_api(tmp_path) as url:
        entries = await schemathesis_run(
            tmp_path,
            url,
            f"--header=Authorization: Bearer {ADMIN_TOKEN}",
            f"--checks={','.join(_WITH_TOKEN)}",
            parameters=parameters,
        )
    statuses = _statuses(entries)
    assert not [key for key in statuses if key[2] >= 500], statuses
    if parameters:
        # The fixed names reach the handlers: breakers really change, one integration is read.
        path = "/api/v1/integrations/echo/providers/local/breaker"
        assert statuses[("PUT", path, 200)], statuses
        assert statuses[("GET", "/api/v1/integrations/echo", 200)], statuses


async def test_schemathesis_without_token_gets_only_401(tmp_path: Path) -> None:
    """Without a valid token every protected operation answers a documented 401, nothing else."""
    async with admin_api(tmp_path) as url:
        entries = await schemathesis_run(
            tmp_path, url, "--mode=positive", f"--checks={','.join(_CONFORMANCE)}"
        )
    statuses = _statuses(entries)
    unprotected = [
        key
        for key in statuses
        if not any(key[0] == method and path.fullmatch(key[1]) for method, path in _PROTECTED)
    ]
    assert not unprotected, statuses
    assert {status for _, _, status in statuses} == {401}, statuses
    assert {method for method, _, _ in statuses} == {"GET", "PUT", "POST", "DELETE"}, statuses
