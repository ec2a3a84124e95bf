"""What several commands share: exit statuses, loading a configuration, the store file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
import typer
from sqlalchemy.exc import ArgumentError

from seawall._errors import StoreError
from seawall.config import Config, check_config
from seawall.store import Store

__all__ = [
    "EXIT_FAILED",
    "EXIT_USAGE",
    "actor",
    "fail",
    "load_or_exit",
    "missing_sqlite_file",
    "with_store",
]

T = TypeVar("T")

#: the store failed, a thing asked for is missing, or the output cannot be written
EXIT_FAILED = 1
#: the input is wrong (an invalid configuration, a bad option)
EXIT_USAGE = 2


def fail(message: str, code: int) -> typer.Exit:
    """Say what went wrong on standard error; raise the returned Exit."""
    typer.echo(f"seawall: {message}", err=True)
    return typer.Exit(code)


#: the longest name an acknowledgement or a silence may carry
MAX_ACTOR = 128


def actor(by: str) -> str:
    """``--by``, checked: printable, 1 to MAX_ACTOR characters; exit 2 otherwise."""
    if not 1 <= len(by) <= MAX_ACTOR or not by.isprintable():
        raise fail(f"--by is a printable name of 1 to {MAX_ACTOR} characters", EXIT_USAGE)
    return by


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


def with_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store at ``url`` (without migrating it), run ``work``, close it.

    A missing SQLite file, an empty or unreachable store end the command with
    a one-line reason and exit status 1.
    """
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise fail(f"no store at {missing} (seawall run creates it)", EXIT_FAILED)

    async def run() -> T:
        store = await Store.open(url, migrate=False)
        try:
            if await store.revision() is None:
                msg = f"store {store.url} holds no seawall data yet (seawall run creates it)"
                raise StoreError(msg)
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise fail(exc.message, EXIT_FAILED) from None
