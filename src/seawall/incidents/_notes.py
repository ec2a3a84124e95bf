"""An incident's notes: the root cause and the prevention, written by people after the fact.

They are stored as one text (``incidents.notes``) with two headed sections::

    Root cause:
    The vendor's EU region lost its database primary.

    Prevention:
    Fail over on connect errors after 2 attempts, not 3.

A heading may be Markdown (``## Root cause``) and its text may follow on the
same line (``Prevention: add a probe``). Text before any heading is the root
cause.
"""

from __future__ import annotations

import re

__all__ = ["join_notes", "split_notes"]

#: ``Root cause:``, ``## Prevention``, ``Prevention: text`` -- a colon or nothing after the name
_HEADING = re.compile(r"^\s*(?:#+\s*)?(root cause|prevention)\s*(?::(.*))?$", re.IGNORECASE)


def split_notes(notes: str | None) -> tuple[str | None, str | None]:
    """``(root cause, prevention)`` of the notes; None for a part not written."""
    parts: dict[str, list[str]] = {"root cause": [], "prevention": []}
    current = "root cause"
    for line in (notes or "").splitlines():
        heading = _HEADING.match(line)
        if heading is not None:
            current = heading[1].lower()
            if heading[2] and heading[2].strip():
                parts[current].append(heading[2].strip())
        else:
            parts[current].append(line)
    root, prevention = ("\n".join(parts[k]).strip() or None for k in ("root cause", "prevention"))
    return root, prevention


def join_notes(*, root_cause: str | None, prevention: str | None) -> str:
    """The notes text :func:`split_notes` reads back as these two parts."""
    return (
        f"Root cause:\n{(root_cause or '').strip()}\n\nPrevention:\n{(prevention or '').strip()}\n"
    )
