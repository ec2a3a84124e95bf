"""``python -m seawall`` runs the command line."""

from __future__ import annotations

from seawall.cli import main

main()
