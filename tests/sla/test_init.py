"""Tests for the public surface of seawall.sla."""

from __future__ import annotations

import seawall.sla


def test_public_names_are_pinned() -> None:
    """The package exports exactly these names, sorted; changing them is an API change."""
    assert seawall.sla.__all__ == sorted(seawall.sla.__all__, key=lambda n: (not n.isupper(), n))
    assert set(seawall.sla.__all__) == {
        "BURN_WINDOWS",
        "DEFAULT_BAD_MINUTE_THRESHOLD",
        "AvailabilityResult",
        "Breach",
        "BurnRateWindow",
        "CreditOwed",
        "DailyPoint",
        "ErrorBudget",
        "LatencyResult",
        "LatencySummary",
        "ObjectiveResult",
        "PeriodInfo",
        "SlaReport",
        "Summary",
        "SummaryRequest",
        "SupportTerms",
        "Totals",
        "budget_remaining",
        "build_report",
        "build_summary_report",
        "burn_rate",
        "credit_tier",
        "daily_series",
        "latency_quantile",
        "latency_share",
        "load_json",
        "month_bounds",
        "period_bounds",
        "render_html",
        "render_json",
        "render_markdown",
        "report_to_dict",
        "resolve_period",
        "summary_daily_series",
        "summary_request",
        "summary_rows",
    }


def test_the_package_is_pure() -> None:
    """seawall.sla imports no I/O layer: no store engine, web, or CLI modules of its own."""
    import ast
    from pathlib import Path

    allowed = ("seawall.config", "seawall.store", "seawall.sla", "seawall._types")
    for path in Path(seawall.sla.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("seawall")
            ):
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"
            if isinstance(node, ast.ImportFrom) and node.module == "seawall.store":
                assert {a.name for a in node.names} <= {"RollupRow", "LATENCY_BOUNDS"}, path.name
