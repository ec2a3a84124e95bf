"""``seawall alerts``: review thresholds from evidence, silence and acknowledge alerts.

Like ``seawall outbox`` it works on the configured store directly, so it needs
no running gateway: a running one picks up silences and acknowledgements at
its next evaluation.

Exit status: 0 done, 1 the store failed or the thing is not there, 2 bad input.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from seawall.alerts import Band, Baselines, Evaluator, LiveMetrics, render_review, review
from seawall.cli._common import EXIT_FAILED, EXIT_USAGE, actor, fail, load_or_exit, with_store
from seawall.config import UnitError, format_duration, parse_duration
from seawall.notify import SilenceBook, SilenceRecord
from seawall.oncall import StoreSilences
from seawall.store import Store

__all__ = ["app"]

app = typer.Typer(
    name="alerts",
    help="Review alert thresholds, silence alerts and acknowledge them.",
    no_args_is_help=True,
)
silence_app = typer.Typer(
    name="silence", help="Add, list and expire silences.", no_args_is_help=True
)
app.add_typer(silence_app, name="silence")

ConfigOption = Annotated[
    Path, typer.Option("-c", "--config", help="Configuration file naming the store and the rules.")
]


class ReviewFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


#: the longest silence and review period, as the admin API allows
_LONGEST = 30 * 86400.0
_REVIEW_LONGEST = 400 * 86400.0


def _duration(text: str, option: str, longest: float = _LONGEST) -> float:
    try:
        seconds = parse_duration(text)
    except UnitError as exc:
        raise fail(f"{option}: {exc}", EXIT_USAGE) from None
    if seconds <= 0:
        raise fail(f"{option} must be longer than zero", EXIT_USAGE)
    if seconds > longest:
        raise fail(f"{option} is at most {format_duration(longest)}", EXIT_USAGE)
    return seconds


@app.command("review")
def review_command(
    config: ConfigOption,
    since: Annotated[
        str, typer.Option("--since", help="The period to review, back from now.")
    ] = "30d",
    output: Annotated[
        ReviewFormat, typer.Option("--format", help="text, markdown or json.")
    ] = ReviewFormat.text,
) -> None:
    """How each rule behaved: how often it fired, how fast it resolved, how far its
    baseline moved, and the rules that never fired or fire all the time."""
    loaded = load_or_exit(config)
    period = _duration(since, "--since", _REVIEW_LONGEST)
    until = time.time()
    start = until - period

    async def work(store: Store) -> str:
        episodes = await store.alerts.query(since=start, until=until)
        baselines = Baselines()
        Evaluator(loaded, LiveMetrics(), baselines=baselines)  # configures the baseline rules
        bands_then: dict[str, Band | None] = {}
        bands_now: dict[str, Band | None] = {}
        if baselines.rules:
            await baselines.refresh(store.rollups, start, force=True)
            bands_then = {rule: baselines.band(rule, start) for rule in baselines.rules}
            await baselines.refresh(store.rollups, until, force=True)
            bands_now = {rule: baselines.band(rule, until) for rule in baselines.rules}
        reviews = review(
            loaded.alerts,
            episodes,
            since=start,
            until=until,
            bands_then=bands_then,
            bands_now=bands_now,
        )
        return render_review(reviews, output.value)

    text = with_store(loaded.store, work)
    if output is ReviewFormat.text:
        typer.echo(f"alert review of the last {format_duration(period)}:")
    typer.echo(text.rstrip("\n"))


def _matchers(pairs: list[str]) -> dict[str, str]:
    matchers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]{0,63}", name) or not value:
            msg = f"--match takes label=value (e.g. integration=payments), not '{pair[:80]}'"
            raise fail(msg, EXIT_USAGE)
        matchers[name] = value
    if not matchers:
        raise fail("give at least one --match label=value", EXIT_USAGE)
    return matchers


def _view(record: SilenceRecord, now: float) -> dict[str, object]:
    return {
        "id": record.id,
        "matchers": dict(record.matchers),
        "starts_at": record.starts_at,
        "ends_at": record.ends_at,
        "comment": record.comment,
        "created_by": record.created_by,
        "source": record.source,
        "active": record.active(now),
    }


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@silence_app.command("add")
def silence_add(
    config: ConfigOption,
    match: Annotated[
        list[str], typer.Option("--match", "-m", help="label=value; repeat for several.")
    ],
    duration: Annotated[str, typer.Option("--for", help="How long it holds, e.g. 2h.")] = "2h",
    comment: Annotated[str, typer.Option("--comment", help="Why (shown with the silence).")] = "",
    by: Annotated[str, typer.Option("--by", help="Who silences.")] = "cli",
) -> None:
    """Silence matching alerts from now for --for."""
    loaded = load_or_exit(config)
    matchers = _matchers(match)
    seconds = _duration(duration, "--for")
    by = actor(by)
    if len(comment) > 1024 or not comment.isprintable():
        raise fail("--comment is printable text of at most 1,024 characters", EXIT_USAGE)
    now = time.time()

    async def work(store: Store) -> SilenceRecord:
        book = SilenceBook(loaded.notifications.silences)
        await book.load(StoreSilences(store), at=now)
        return await book.add(
            matchers, starts_at=now, ends_at=now + seconds, comment=comment, created_by=by
        )

    try:
        record = with_store(loaded.store, work)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    typer.echo(f"silence {record.id} holds until {_when(record.ends_at)}")


@silence_app.command("list")
def silence_list(
    config: ConfigOption,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
) -> None:
    """Silences from the configuration and those added live."""
    loaded = load_or_exit(config)
    now = time.time()

    async def work(store: Store) -> list[SilenceRecord]:
        book = SilenceBook(loaded.notifications.silences)
        await book.load(StoreSilences(store), at=now)
        return book.records()

    records = with_store(loaded.store, work)
    if as_json:
        typer.echo(json.dumps({"silences": [_view(r, now) for r in records]}, indent=2))
        return
    if not records:
        typer.echo("no silences")
    for r in records:
        state = "active" if r.active(now) else "ended"
        labels = ", ".join(f"{k}={v}" for k, v in r.matchers.items())
        typer.echo(f"{r.id}  {state}  until {_when(r.ends_at)}  {labels}  {r.comment}".rstrip())


@silence_app.command("expire")
def silence_expire(
    silence: Annotated[str, typer.Argument(help="The silence's id.", show_default=False)],
    config: ConfigOption,
) -> None:
    """End a live silence now."""
    loaded = load_or_exit(config)
    now = time.time()

    async def work(store: Store) -> SilenceRecord | None:
        book = SilenceBook(loaded.notifications.silences)
        await book.load(StoreSilences(store), at=now)
        return await book.expire(silence, now)

    try:
        record = with_store(loaded.store, work)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if record is None:
        raise fail(f"no live silence {silence[:80]} (see seawall alerts silence list)", EXIT_FAILED)
    typer.echo(f"silence {record.id} ended")


@app.command("ack")
def ack(
    fingerprint: Annotated[
        str, typer.Argument(help="The firing alert's fingerprint (16 hex digits).")
    ],
    config: ConfigOption,
    by: Annotated[str, typer.Option("--by", help="Who acknowledges.")] = "cli",
) -> None:
    """Acknowledge a firing alert: its escalation stops at the next evaluation."""
    if not re.fullmatch(r"[0-9a-f]{16}", fingerprint):
        raise fail("a fingerprint is 16 hex digits (GET /api/v1/alerts shows them)", EXIT_USAGE)
    by = actor(by)
    loaded = load_or_exit(config)

    async def work(store: Store) -> bool:
        return await store.alerts.ack(fingerprint, at=time.time(), by=by)

    if not with_store(loaded.store, work):
        raise fail(f"no firing alert {fingerprint}", EXIT_FAILED)
    typer.echo(f"alert {fingerprint} acknowledged by {by}")
