"""``seawall simulate-vendor``: run a local stand-in for a vendor API."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["simulate_vendor"]


def simulate_vendor(
    kind: Annotated[str, typer.Argument(help="payment, inventory, email, crm or weather.")],
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")
    ] = 9000,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    dialect: Annotated[
        str | None,
        typer.Option("--dialect", help="Vendor dialect: stripe/adyen, sendgrid/mailgun."),
    ] = None,
) -> None:
    """Serve a vendor simulator with a live fault-injection API under /_sim/."""
    from seawall.chaos import SIMULATOR_KINDS, run_simulator_forever

    if kind not in SIMULATOR_KINDS:
        typer.echo(
            f"seawall: unknown vendor kind '{kind}'; choose one of {', '.join(SIMULATOR_KINDS)}",
            err=True,
        )
        raise typer.Exit(2)
    try:
        run_simulator_forever(kind, host=host, port=port, dialect=dialect)
    except ValueError as exc:
        typer.echo(f"seawall: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"seawall: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
