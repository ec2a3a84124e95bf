"""Bearer tokens for the admin API: roles, constant-time comparison, no logging."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from seawall.config._operations import AdminToken

__all__ = ["ROLE_RANK", "Identity", "TokenBook"]

#: a role may do everything the roles below it may
ROLE_RANK = {"viewer": 1, "operator": 2, "admin": 3}


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class TokenBook:
    """The configured tokens. Every lookup compares against *every* token with
    :func:`hmac.compare_digest`, so timing reveals neither a token nor which
    one nearly matched."""

    __slots__ = ("_tokens",)

    def __init__(self, tokens: Iterable[AdminToken]) -> None:
        self._tokens = [
            (t.token.get_secret_value().encode(), Identity(t.name, t.role)) for t in tokens
        ]

    def identify(self, authorization: str | None) -> Identity | None:
        if not authorization:
            return None
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        candidate = presented.strip().encode()
        found: Identity | None = None
        for secret, identity in self._tokens:
            if hmac.compare_digest(secret, candidate):
                found = identity
        return found
