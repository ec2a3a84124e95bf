"""``GET /api/v1/sla``: the JSON report for viewers, as documented, with bad parameters refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from seawall.service import Service
from seawall.sla import build_report, load_json, month_bounds, render_json
from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from seawall.web import current_month
from tests.gateway.conftest import VIEWER_TOKEN, echo_server, service_head, write_config

pytestmark = [pytest.mark.realserver]

VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
MONTH = "2026-10"
START, END = month_bounds(MONTH)


def _config(upstream: str, store: Path) -> str:
    return f"""{service_head(store)}
    integrations:
      pay:
        providers:
          - {{name: first, base_url: {upstream}}}
          - {{name: second, role: backup, base_url: {upstream}}}
    slas:
      first-gold:
        provider: pay/first
        objectives:
          - {{metric: availability, target: 99.99%}}
          - {{metric: latency, percentile: 99, threshold: 1s, target: 99%}}
        credits: [{{below: 99.99%, credit: 10%}}]
        monthly_fee: 500
      second-calls:
        provider: pay/second
        objectives: [{{metric: availability, target: 99%, measure: calls}}]
    """


@dataclass
class Running:
    service: Service
    admin: httpx.AsyncClient

    @property
    def store(self) -> Store:
        assert self.service.store is not None
        return self.service.store


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """An in-process seawall with SLAs and a temporary SQLite store."""
    async with echo_server() as upstream:
        service = Service(write_config(tmp_path, _config(upstream, tmp_path / "state.db")))
        await service.start()
        try:
            admin_url = f"http://127.0.0.1:{service.admin_port}"
            async with httpx.AsyncClient(base_url=admin_url, timeout=10) as admin:
                yield Running(service, admin)
        finally:
            await service.stop()


def _minute(provider: str, minute: int, *, good: int, bad: int = 0) -> RollupRow:
    latency = [0] * (len(LATENCY_BOUNDS) + 1)
    latency[LATENCY_BOUNDS.index(0.1)] = good
    latency[LATENCY_BOUNDS.index(5.0)] = bad
    return RollupRow(
        integration="pay",
        provider=provider,
        start=int(START) + 60 * minute,
        width=60,
        attempts=good + bad,
        success=good,
        failure=bad,
        latency_sum=(good + 32 * bad) / 16,  # sixteenths of a second: float sums are exact
        latency=tuple(latency),
    )


async def _fill(store: Store) -> None:
    rows = [_minute(p, m, good=5) for p in ("first", "second") for m in range(0, 44640, 11)]
    rows += [_minute("first", m, good=1, bad=4) for m in range(3000, 3030)]
    rows += [_minute("second", m, good=1, bad=9) for m in range(100, 110)]
    await store.rollups.add(rows)
    await store.rollups.open_window("pay", "first", start=START + 3020 * 60, reason="upgrade")
    await store.rollups.close_window("pay", "first", end=START + 3040 * 60)


def _response_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The documented 200 body of getSlaReports, with the components its references need."""
    operation = document["paths"]["/api/v1/sla"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


async def test_the_report_is_the_json_report_as_documented(tmp_path: Path) -> None:
    """A viewer gets render_json's document of the month, equal to the reports of every row, valid against the OpenAPI schema."""
    async with running(tmp_path) as seawall:
        await _fill(seawall.store)
        response = await seawall.admin.get("/api/v1/sla", params={"month": MONTH}, headers=VIEWER)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        reports = load_json(response.text)
        slas = seawall.service.config.slas
        expected = []
        for report in reports:
            integration, provider = slas[report.name].provider.split("/")
            rows = await seawall.store.rollups.query(
                start=START, end=END, integration=integration, provider=provider
            )
            found = await seawall.store.rollups.windows(
                start=START, end=END, integration=integration, provider=provider, planned=True
            )
            windows = [(w.start, w.end or END) for w in found]
            expected.append(
                build_report(
                    report.name,
                    slas[report.name],
                    rows,
                    windows,
                    period_start=START,
                    period_end=END,
                    now=report.as_of,
                )
            )
        assert response.text == render_json(expected)
        first, second = reports
        assert (first.name, second.name) == ("first-gold", "second-calls")
        assert [(b.start, b.minutes) for b in first.breaches] == [(START + 3000 * 60, 20)]
        assert first.availability is not None
        assert first.availability.excluded == 20
        assert first.credit.amount == 50.0
        assert second.availability is not None
        assert second.availability.bad == 90
        document = (await seawall.admin.get("/api/v1/openapi.json")).json()
        jsonschema_rs.validate(_response_schema(document), response.json())


async def test_one_sla_and_the_current_month_by_default(tmp_path: Path) -> None:
    """?sla= picks one report; without ?month= the report is of the current month, with no traffic yet."""
    async with running(tmp_path) as seawall:
        response = await seawall.admin.get(
            "/api/v1/sla", params={"sla": "second-calls"}, headers=VIEWER
        )
        assert response.status_code == 200, response.text
        (report,) = load_json(response.text)
        assert report.name == "second-calls"
        assert report.period.label == current_month(report.as_of)
        assert report.availability is not None
        assert report.availability.no_traffic


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "month=26-10",
        "month=1969-12",
        "month=%D9%A2%D9%A0%D9%A2%D9%A6-10",  # Arabic-Indic digits
        "sla=first-platinum",
        "sla=Not%20A%20Name",
        "month=2026-10&month=2026-11",
        "sla=first-gold&sla=second-calls",
    ],
)
async def test_bad_parameters_are_400_problems(tmp_path: Path, query: str) -> None:
    """A month that is not YYYY-MM, an unknown or malformed SLA, or a repeated parameter answers 400."""
    async with running(tmp_path) as seawall:
        response = await seawall.admin.get(f"/api/v1/sla?{query}", headers=VIEWER)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["reason"] == "bad-request"


async def test_a_token_is_needed(tmp_path: Path) -> None:
    """Without a bearer token the reports are refused with a 401."""
    async with running(tmp_path) as seawall:
        response = await seawall.admin.get("/api/v1/sla")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="seawall"'
