"""Acknowledge tokens: signed, URL-safe, expiring, and rejected when tampered with."""

from __future__ import annotations

import re

import pytest

from seawall.notify import AckSigner

KEY = b"k" * 32


def test_token_round_trips_to_the_group_key() -> None:
    """A fresh token verifies to the group key it was minted for."""
    signer = AckSigner(KEY, clock=lambda: 1000.0)
    token = signer.token("route0/integration=payments")
    assert re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", token)
    assert signer.verify(token, 1000.0) == "route0/integration=payments"


def test_token_expires_after_its_lifetime() -> None:
    """A token is valid until now + ttl and not a second after."""
    signer = AckSigner(KEY, ttl=60, clock=lambda: 1000.0)
    token = signer.token("route0/integration=payments")
    assert signer.verify(token, 1060.0) == "route0/integration=payments"
    assert signer.verify(token, 1061.0) is None


def test_tampered_or_foreign_tokens_are_refused() -> None:
    """Changing the payload, the MAC or the key makes verification fail."""
    signer = AckSigner(KEY, clock=lambda: 1000.0)
    token = signer.token("route0/integration=payments")
    other = AckSigner(b"x" * 32, clock=lambda: 1000.0).token("route0/integration=payments")
    forged_payload = AckSigner(b"x" * 32).token("route0/integration=stripe").split(".")[0]
    assert signer.verify(other, 1000.0) is None
    assert signer.verify(forged_payload + "." + token.split(".")[1], 1000.0) is None
    assert signer.verify(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), 1000.0) is None
    for junk in ("", "abc", "a.b.c", "!!!.???", "x" * 10_000):
        assert signer.verify(junk, 1000.0) is None


def test_signer_refuses_weak_keys_and_hides_them() -> None:
    """A key shorter than 16 bytes is refused; the repr never shows the key."""
    with pytest.raises(ValueError, match="at least 16 bytes"):
        AckSigner(b"short")
    assert "k" * 32 not in repr(AckSigner(KEY))
