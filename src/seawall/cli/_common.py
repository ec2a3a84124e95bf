"""What several commands share: exit statuses, loading a configuration, the store file."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import typer
from sqlalchemy.exc import ArgumentError

from seawall.config import Config, check_config

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "fail", "load_or_exit", "missing_sqlite_file"]

#: the store failed, a thing asked for is missing, or the output cannot be written
EXIT_FAILED = 1
#: the input is wrong (an invalid configuration, a bad option)
EXIT_USAGE = 2


def fail(message: str, code: int) -> typer.Exit:
    """Say what went wrong on standard error; raise the returned Exit."""
    typer.echo(f"seawall: {message}", err=True)
    return typer.Exit(code)


def load_or_exit(path: Path, *, check_imports: bool = False) -> Config:
    """The configuration, or every finding on standard error and exit 2."""
    config, findings = check_config(path, check_imports=check_imports)
    if config is None or findings:
        for finding in findings:
            typer.echo(str(finding), err=True)
        raise fail(f"{path} is invalid; fix it (seawall check -c {path})", EXIT_USAGE)
    return config


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite store file that does not exist (opening would create it).

    Inspection commands refuse it rather than create an empty store that reports nothing.
    """
    try:
        parsed = sa.make_url(url)
    except (ArgumentError, ValueError):
        return None  # Store.open explains a URL that does not parse
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else str(path)
