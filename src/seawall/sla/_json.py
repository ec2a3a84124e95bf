"""Reports as JSON: stable (sorted keys, a version), and read back exactly.

Floats are written with ``repr`` precision, so :func:`load_json` of
:func:`render_json` gives equal reports -- an archived month's report is
evidence that can be re-read later.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from seawall.sla._report import (
    AvailabilityResult,
    Breach,
    BurnRateWindow,
    CreditOwed,
    ErrorBudget,
    LatencyResult,
    LatencySummary,
    ObjectiveResult,
    PeriodInfo,
    SlaReport,
    SupportTerms,
    Totals,
)

__all__ = ["VERSION", "load_json", "render_json", "report_from_dict", "report_to_dict"]

#: bumped when a key changes meaning or disappears
VERSION = 1


def report_to_dict(report: SlaReport) -> dict[str, Any]:
    """The report as plain JSON values (tuples become lists)."""
    data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(report)))
    return data


def render_json(reports: Sequence[SlaReport]) -> str:
    """``{"version": 1, "reports": [...]}`` with sorted keys, two-space indent."""
    document = {"version": VERSION, "reports": [dataclasses.asdict(r) for r in reports]}
    return json.dumps(document, sort_keys=True, indent=2, allow_nan=False) + "\n"


def _objective(data: Mapping[str, Any]) -> ObjectiveResult:
    if data["metric"] == "availability":
        return AvailabilityResult(**data)
    return LatencyResult(**data)


def report_from_dict(data: Mapping[str, Any]) -> SlaReport:
    """The inverse of :func:`report_to_dict`."""
    availability = data["availability"]
    budget = data["error_budget"]
    return SlaReport(
        **{
            **data,
            "period": PeriodInfo(**data["period"]),
            "objectives": tuple(_objective(o) for o in data["objectives"]),
            "availability": AvailabilityResult(**availability) if availability else None,
            "latency": LatencySummary(**data["latency"]),
            "breaches": tuple(Breach(**b) for b in data["breaches"]),
            "credit": CreditOwed(**data["credit"]),
            "error_budget": ErrorBudget(**budget) if budget else None,
            "burn_rates": tuple(BurnRateWindow(**b) for b in data["burn_rates"]),
            "support": SupportTerms(**data["support"]),
            "totals": Totals(**data["totals"]),
            "maintenance": tuple((start, end) for start, end in data["maintenance"]),
        }
    )


def load_json(text: str) -> list[SlaReport]:
    """Reports from :func:`render_json`'s output."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("version") != VERSION:
        msg = f"not a seawall SLA report (expected an object with version {VERSION})"
        raise ValueError(msg)
    return [report_from_dict(r) for r in document["reports"]]
