"""``seawall sla report``: each SLA's month, measured from the configured store.

Per SLA: the measured value of every objective against its target, breaches
with start and end (the minute-level outage list a vendor claim needs), the
credit owed in money, error budget and burn rates, and the support terms.
Markdown by default; ``--format json`` for tools (the same document as
``GET /api/v1/sla``), ``--format html`` for a standalone page with charts of
availability and latency percentiles per day. The report goes to standard
output unless ``-o FILE`` names where to write it.

The store is opened without migrating it, and only read. A store that holds
no seawall data yet still gives a report: every SLA at 100%, with no traffic
noted.

Exit status: 0 done, 1 the store failed or the output cannot be written,
2 bad input (configuration, SLA name, month).
"""

from __future__ import annotations

import asyncio
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from seawall._errors import StoreError
from seawall.cli._common import EXIT_FAILED, EXIT_USAGE, fail, load_or_exit, missing_sqlite_file
from seawall.config import Config
from seawall.sla import month_bounds, render_html, render_json, render_markdown
from seawall.store import Store
from seawall.web import SlaReports, current_month, measure_slas

__all__ = ["app"]


app = typer.Typer(
    name="sla",
    help="Measure vendor SLAs from the rollups in the configured store.",
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    md = "md"
    json = "json"
    html = "html"


ConfigOption = Annotated[
    Path, typer.Option("-c", "--config", help="Configuration file naming the store and SLAs.")
]
OutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Write here instead of standard output ('-' for it)."),
]


def _measure(config: Config, names: list[str] | None, month: str, *, series: bool) -> SlaReports:
    """Open the store (never migrating or creating it), build the reports, close it."""
    missing = missing_sqlite_file(config.store)
    if missing is not None:
        raise fail(f"no store at {missing} (seawall run creates it)", EXIT_FAILED)
    now = time.time()

    async def run() -> SlaReports:
        store = await Store.open(config.store, migrate=False)
        try:
            read: Store | None = store
            if await store.revision() is None:
                typer.echo(
                    f"seawall: store {store.url} holds no seawall data yet; reporting no traffic",
                    err=True,
                )
                read = None
            return await measure_slas(
                read, config.slas, month=month, now=now, names=names, series=series
            )
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise fail(exc.message, EXIT_FAILED) from None


@app.command("report")
def report(
    config: ConfigOption,
    sla: Annotated[
        str | None, typer.Option("--sla", help="Only this SLA (default: every one).")
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(
            "--month", help="Calendar month (UTC) as YYYY-MM.", show_default="the current month"
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="md for people, json for tools, html charts.")
    ] = ReportFormat.md,
    output: OutputOption = None,
) -> None:
    """Measured objectives, breaches, credits owed and support terms per SLA, for a month."""
    wanted = month if month is not None else current_month(time.time())
    try:
        month_bounds(wanted)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    loaded = load_or_exit(config)
    if sla is not None and sla not in loaded.slas:
        configured = ", ".join(loaded.slas) or "none are configured"
        raise fail(f"no SLA named '{sla}' in {config}; SLAs: {configured}", EXIT_USAGE)
    html = output_format is ReportFormat.html
    measured = _measure(loaded, None if sla is None else [sla], wanted, series=html)
    if html:
        text = render_html(measured.reports, series=measured.series)
    elif output_format is ReportFormat.json:
        text = render_json(measured.reports)
    else:
        text = render_markdown(measured.reports)
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_FAILED) from None
    typer.echo(f"wrote {output}", err=True)
