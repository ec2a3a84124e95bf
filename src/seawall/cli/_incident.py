"""``seawall incident``: list incidents, acknowledge and resolve them, write their reports.

Works on the configured store directly. ``report`` writes the post-incident
report in Markdown (default) or HTML: timeline, detection and recovery times,
affected calls, business impact, SLA credits, and the root cause and
prevention people record with ``notes``.

Exit status: 0 done, 1 the store failed or the incident is not there (or the
move is not allowed), 2 bad input.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from seawall.cli._common import EXIT_FAILED, EXIT_USAGE, actor, fail, load_or_exit, with_store
from seawall.config import Config
from seawall.incidents import (
    Incident,
    IncidentBook,
    IncidentState,
    InvalidIncidentMove,
    build_incident_report,
    render_html,
    render_markdown,
)
from seawall.store import Store
from seawall.web import incident_view

__all__ = ["app"]

app = typer.Typer(
    name="incident",
    help="List incidents, acknowledge and resolve them, write post-incident reports.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path, typer.Option("-c", "--config", help="Configuration file naming the store.")
]
IdArgument = Annotated[
    int, typer.Argument(help="The incident's number.", min=1, max=2**63 - 1, show_default=False)
]


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"


class StateChoice(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("list")
def list_incidents(
    config: ConfigOption,
    state: Annotated[StateChoice | None, typer.Option("--state", help="Only this state.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
) -> None:
    """Incidents, newest first."""
    loaded = load_or_exit(config)
    wanted = None if state is None else IncidentState(state.value)

    async def work(store: Store) -> list[Incident]:
        return await store.incidents.list(state=wanted, limit=limit)

    incidents = with_store(loaded.store, work)
    if as_json:
        typer.echo(json.dumps({"incidents": [incident_view(i) for i in incidents]}, indent=2))
        return
    if not incidents:
        typer.echo("no incidents")
    for i in incidents:
        typer.echo(
            f"#{i.id}  {i.state.value:<12}  {i.severity:<8}  opened {_when(i.opened_at)}  {i.title}"
        )


def _move(config: Path, incident_id: int, action: str, by: str) -> Incident:
    actor(by)
    loaded: Config = load_or_exit(config)

    async def work(store: Store) -> Incident:
        book = IncidentBook(store, loaded)
        if action == "ack":
            return await book.ack(incident_id, by=by, at=time.time())
        return await book.resolve(incident_id, by=by, at=time.time())

    try:
        return with_store(loaded.store, work)
    except LookupError:
        raise fail(f"no incident {incident_id} (see seawall incident list)", EXIT_FAILED) from None
    except InvalidIncidentMove as exc:
        raise fail(str(exc), EXIT_FAILED) from None


@app.command("ack")
def ack(
    incident: IdArgument,
    config: ConfigOption,
    by: Annotated[str, typer.Option("--by", help="Who acknowledges.")] = "cli",
) -> None:
    """Acknowledge an open incident and its alerts; their escalations stop."""
    done = _move(config, incident, "ack", by)
    typer.echo(f"incident #{done.id} acknowledged by {by}")


@app.command("resolve")
def resolve(
    incident: IdArgument,
    config: ConfigOption,
    by: Annotated[str, typer.Option("--by", help="Who resolves.")] = "cli",
) -> None:
    """Resolve an incident by hand."""
    done = _move(config, incident, "resolve", by)
    typer.echo(f"incident #{done.id} resolved by {by}")


@app.command("notes")
def notes(
    incident: IdArgument,
    config: ConfigOption,
    root_cause: Annotated[str | None, typer.Option("--root-cause", help="What caused it.")] = None,
    prevention: Annotated[
        str | None, typer.Option("--prevention", help="What will stop it happening again.")
    ] = None,
) -> None:
    """Record the root cause and prevention; the report shows them."""
    if root_cause is None and prevention is None:
        raise fail("give --root-cause and/or --prevention", EXIT_USAGE)
    loaded = load_or_exit(config)

    async def work(store: Store) -> Incident:
        book = IncidentBook(store, loaded)
        return await book.write_notes(incident, root_cause=root_cause, prevention=prevention)

    try:
        done = with_store(loaded.store, work)
    except LookupError:
        raise fail(f"no incident {incident} (see seawall incident list)", EXIT_FAILED) from None
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    typer.echo(f"notes of incident #{done.id} saved")


@app.command("report")
def report(
    incident: IdArgument,
    config: ConfigOption,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="markdown or html.")
    ] = ReportFormat.markdown,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Write the post-incident report."""
    loaded = load_or_exit(config)

    async def work(store: Store) -> str:
        built = await build_incident_report(store, loaded, incident, now=time.time())
        return render_html(built) if output is ReportFormat.html else render_markdown(built)

    try:
        text = with_store(loaded.store, work)
    except LookupError:
        raise fail(f"no incident {incident} (see seawall incident list)", EXIT_FAILED) from None
    if out is None:
        typer.echo(text.rstrip("\n"))
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_FAILED) from None
    typer.echo(f"report of incident #{incident} written to {out}")
