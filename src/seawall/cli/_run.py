"""``seawall run``: the gateway, the admin API and metrics, until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from seawall._errors import ConfigError

__all__ = ["event_loop_runner", "run"]


def event_loop_runner() -> asyncio.Runner:
    """An asyncio runner on uvloop where it is installed (the data plane's speed)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run(
    config: Annotated[Path, typer.Option("-c", "--config", help="Configuration file.")],
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning")] = "info",
) -> None:
    """Run the egress gateway and the admin server (SIGTERM drains, SIGHUP reloads)."""
    from seawall.service import Service

    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        service = Service(config)
    except ConfigError as exc:
        for finding in exc.findings:
            typer.echo(str(finding), err=True)
        typer.echo(f"seawall: {config} is invalid; fix it (seawall check -c {config})", err=True)
        raise typer.Exit(2) from None
    with event_loop_runner() as runner:
        try:
            runner.run(service.serve_forever())
        except OSError as exc:
            typer.echo(f"seawall: cannot listen: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
