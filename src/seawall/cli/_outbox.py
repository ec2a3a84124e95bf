"""``seawall outbox``: list, inspect, retry and drop queued writes in the configured store.

It works on the store directly, so it needs no running gateway; a running one
picks up a retried message at its next poll. Messages are shown as the admin
API shows them: header names, never header values; the body's size, never the
body.

Exit status: 0 done, 1 the store failed or the message is not there (or not
dead, for ``retry``), 2 bad input (configuration, id, option).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from seawall.cli._common import EXIT_FAILED, EXIT_USAGE, fail, load_or_exit, with_store
from seawall.config import format_duration
from seawall.store import OutboxMessage, OutboxState, Store
from seawall.web import UUID_PATTERN, message_view

__all__ = ["app"]

T = TypeVar("T")


app = typer.Typer(
    name="outbox",
    help="List, inspect, retry and drop queued writes in the configured store.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class StateChoice(StrEnum):
    pending = "pending"
    delivering = "delivering"
    delivered = "delivered"
    dead = "dead"


ConfigOption = Annotated[
    Path, typer.Option("-c", "--config", help="Configuration file naming the store.")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="table for people, json for tools.")
]
IdArgument = Annotated[str, typer.Argument(help="The message id (a UUID).", show_default=False)]


def _message_id(text: str) -> str:
    if not re.fullmatch(UUID_PATTERN, text):
        msg = f"'{text[:60]}' is not a message id; ids are UUIDs (see seawall outbox list)"
        raise fail(msg, EXIT_USAGE)
    return text.lower()


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _console() -> Console:
    """A console as wide as the terminal; 160 columns when the output is not one."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2))


def _print_message(view: dict[str, Any]) -> None:
    table = Table(title=f"outbox message {view['id']}", title_justify="left", show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for key, value in view.items():
        if key.endswith("_at") or key == "lease_until":
            shown = _when(value)
        elif key == "header_names":
            shown = ", ".join(value) or "-"
        else:
            shown = "-" if value is None else str(value)
        table.add_row(key, shown)
    _console().print(table)


@app.command("list")
def list_messages(
    config: ConfigOption,
    state: Annotated[
        StateChoice | None, typer.Option("--state", help="Only messages in this state.")
    ] = None,
    integration: Annotated[
        str | None, typer.Option("--integration", help="Only this integration's messages.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 100,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Queued writes, oldest first."""
    wanted = None if state is None else OutboxState(state.value)

    async def work(store: Store) -> list[OutboxMessage]:
        return await store.outbox.list(state=wanted, integration=integration, limit=limit)

    views = [message_view(m) for m in with_store(load_or_exit(config).store, work)]
    if output is OutputFormat.json:
        _print_json({"messages": views})
        return
    now = time.time()
    table = Table(
        title=f"{len(views)} outbox message(s)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("integration", overflow="fold")
    table.add_column("state", overflow="fold")
    table.add_column("tries", justify="right")
    table.add_column("age", justify="right", no_wrap=True)
    table.add_column("request", overflow="fold")
    table.add_column("last error", overflow="fold")
    for view in views:
        table.add_row(
            view["id"],
            view["integration"],
            view["state"],
            str(view["attempts"]),
            format_duration(max(0, round(now - view["created_at"]))),
            f"{view['method']} {view['target']}",
            view["last_error"] or "-",
        )
    _console().print(table)


@app.command("show")
def show(
    message: IdArgument, config: ConfigOption, output: FormatOption = OutputFormat.table
) -> None:
    """One queued write, without its body or header values."""
    wanted = _message_id(message)

    async def work(store: Store) -> OutboxMessage | None:
        return await store.outbox.get(wanted)

    found = with_store(load_or_exit(config).store, work)
    if found is None:
        raise fail(f"no outbox message {wanted}", EXIT_FAILED)
    view = message_view(found)
    if output is OutputFormat.json:
        _print_json(view)
    else:
        _print_message(view)


@app.command("retry")
def retry(
    message: IdArgument, config: ConfigOption, output: FormatOption = OutputFormat.table
) -> None:
    """Send a dead message back to pending, due at once."""
    wanted = _message_id(message)

    async def work(store: Store) -> tuple[bool, OutboxMessage | None]:
        retried = await store.outbox.retry(wanted, now=time.time())
        return retried, await store.outbox.get(wanted)

    retried, found = with_store(load_or_exit(config).store, work)
    if found is None:
        raise fail(f"no outbox message {wanted}", EXIT_FAILED)
    if not retried:
        msg = f"message {wanted} is {found.state.value}; only dead messages can be retried"
        raise fail(msg, EXIT_FAILED)
    if output is OutputFormat.json:
        _print_json(message_view(found))
    else:
        typer.echo(f"message {wanted} is pending again and will be delivered at the next poll")


@app.command("drop")
def drop(
    message: IdArgument, config: ConfigOption, output: FormatOption = OutputFormat.table
) -> None:
    """Delete a queued write in any state; it is never sent."""
    wanted = _message_id(message)

    async def work(store: Store) -> bool:
        return await store.outbox.drop(wanted)

    if not with_store(load_or_exit(config).store, work):
        raise fail(f"no outbox message {wanted}", EXIT_FAILED)
    if output is OutputFormat.json:
        _print_json({"dropped": wanted})
    else:
        typer.echo(f"message {wanted} dropped")
