"""``seawall export``: files other tools read, generated from a configuration.

Each command prints to standard output, so it pipes into ``promtool`` or a
file, unless ``-o FILE`` names where to write. An invalid configuration
prints its findings on standard error and exits 2, as ``seawall check`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from seawall.config import Config, check_config
from seawall.exports import render_grafana_dashboard, render_prometheus_rules

__all__ = ["export_app"]

#: exit status for an invalid configuration (same as ``seawall check``)
EXIT_INVALID = 2
#: exit status when the output file cannot be written
EXIT_WRITE = 1

export_app = typer.Typer(
    name="export",
    help="Generate Prometheus rules and a Grafana dashboard from a configuration.",
    no_args_is_help=True,
)

ConfigOption = Annotated[Path, typer.Option("-c", "--config", help="Configuration file to read.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Write here instead of standard output ('-' for it)."),
]
NoImportOption = Annotated[bool, typer.Option("--no-import", help="Do not import adapter classes.")]


@export_app.command("prometheus-rules")
def prometheus_rules(
    config: ConfigOption,
    output: OutputOption = None,
    no_import: NoImportOption = False,
) -> None:
    """Recording rules and multi-window multi-burn-rate alerts for every SLA."""
    _export(config, output, no_import=no_import, render=render_prometheus_rules)


@export_app.command("grafana-dashboard")
def grafana_dashboard(
    config: ConfigOption,
    output: OutputOption = None,
    no_import: NoImportOption = False,
) -> None:
    """A Grafana dashboard (JSON) over seawall's metrics and SLA burn rates."""
    _export(config, output, no_import=no_import, render=render_grafana_dashboard)


def _export(
    path: Path, output: Path | None, *, no_import: bool, render: Callable[[Config], str]
) -> None:
    loaded, findings = check_config(path, check_imports=not no_import)
    if loaded is None or findings:
        for finding in findings:
            typer.echo(str(finding), err=True)
        count = len(findings)
        typer.echo(f"{count} problem{'s' if count != 1 else ''} found in {path}", err=True)
        raise typer.Exit(EXIT_INVALID)
    text = render(loaded)
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"seawall: cannot write {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_WRITE) from None
    typer.echo(f"wrote {output}", err=True)
