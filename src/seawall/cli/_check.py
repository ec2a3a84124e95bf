"""``seawall check``: validate a configuration and say exactly what is wrong."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from seawall.config import Config, check_config, format_duration

__all__ = ["check"]

#: exit status for an invalid configuration (same as a usage error)
EXIT_INVALID = 2


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def check(
    config: Annotated[Path, typer.Option("-c", "--config", help="Configuration file to check.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table for people, json for tools.")
    ] = OutputFormat.table,
    no_import: Annotated[
        bool, typer.Option("--no-import", help="Do not import adapter classes.")
    ] = False,
) -> None:
    """Validate a configuration: exit 0 with a summary, or 2 with every problem."""
    loaded, findings = check_config(config, check_imports=not no_import)
    if output is OutputFormat.json:
        payload = {
            "file": str(config),
            "valid": not findings,
            "findings": [f.as_dict() for f in findings],
            "integrations": _summary_rows(loaded) if loaded is not None else [],
        }
        typer.echo(json.dumps(payload, indent=2))
        raise typer.Exit(EXIT_INVALID if findings else 0)
    if findings:
        for finding in findings:
            typer.echo(str(finding))
        count = len(findings)
        typer.echo(f"{count} problem{'s' if count != 1 else ''} found in {config}", err=True)
        raise typer.Exit(EXIT_INVALID)
    assert loaded is not None
    console = Console(soft_wrap=True)
    table = Table(title=f"{config}: valid", title_justify="left")
    for column in ("integration", "providers", "criticality", "RTO", "RPO", "fallback"):
        table.add_column(column, no_wrap=True)
    for row in _summary_rows(loaded):
        table.add_row(
            row["integration"],
            "\n".join(f"{p['name']} ({p['role']})" for p in row["providers"]),
            row["criticality"],
            row["rto"] or "-",
            row["rpo"] or "-",
            row["fallback"],
        )
    console.print(table)


def _summary_rows(config: Config) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, integration in config.integrations.items():
        rows.append(
            {
                "integration": name,
                "providers": [{"name": p.name, "role": p.role} for p in integration.providers],
                "routing": integration.routing,
                "criticality": integration.criticality,
                "rto": format_duration(integration.rto) if integration.rto is not None else None,
                "rpo": format_duration(integration.rpo) if integration.rpo is not None else None,
                "fallback": integration.fallback.type,
            }
        )
    return rows
