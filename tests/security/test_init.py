"""Tests for the public surface of seawall.security."""

from __future__ import annotations

import dataclasses

import seawall.security


def test_public_names_are_pinned() -> None:
    """The package exports exactly these names, sorted; changing them is an API change."""
    assert seawall.security.__all__ == [
        "EgressPolicy",
        "EgressSettings",
        "GuardedResolver",
        "check_url_host",
    ]
    for name in seawall.security.__all__:
        assert hasattr(seawall.security, name), name


def test_policy_is_frozen_slotted_and_keyword_only() -> None:
    """EgressPolicy is an immutable, slotted, keyword-only dataclass like every policy value."""
    cls = seawall.security.EgressPolicy
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__slots__" in cls.__dict__
    assert all(f.kw_only for f in dataclasses.fields(cls))
