"""The ``seawall`` command line: one typer app, one module per command group.

``main`` is the console script. It turns every seawall error into a short
message and a non-zero exit, and an unexpected exception into one line that
asks for a bug report: no traceback ever reaches the user.
"""

from __future__ import annotations

import sys

import typer

from seawall._errors import SeawallError
from seawall.cli import _alerts, _check, _demo, _incident, _outbox, _run, _simulate, _sla
from seawall.cli._export import export_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="seawall",
    help="Keep a web platform working when the vendors it depends on fail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("check")(_check.check)
app.command("run")(_run.run)
app.command("demo")(_demo.demo)
app.command("simulate-vendor")(_simulate.simulate_vendor)
app.add_typer(export_app, name="export")
app.add_typer(_outbox.app, name="outbox")
app.add_typer(_sla.app, name="sla")
app.add_typer(_alerts.app, name="alerts")
app.add_typer(_incident.app, name="incident")

#: exit status for a bug in seawall itself (BSD sysexits EX_SOFTWARE)
EXIT_INTERNAL = 70


def main() -> None:
    try:
        app()
    except SeawallError as exc:
        print(f"seawall: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last guard before the user's terminal
        print(
            f"seawall: internal error ({type(exc).__name__}: {exc}); "
            "please report it with the command you ran",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
