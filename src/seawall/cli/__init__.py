"""The ``seawall`` command."""

from __future__ import annotations

from seawall.cli._app import app, main

__all__ = ["app", "main"]
