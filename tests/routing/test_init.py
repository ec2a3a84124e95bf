"""Tests for the public surface of seawall.routing."""

from __future__ import annotations

import dataclasses

import seawall.routing


def test_public_names_are_pinned() -> None:
    """The package exports exactly these names, sorted; changing them is an API change."""
    assert seawall.routing.__all__ == [
        "ActiveWindow",
        "FailoverStrategy",
        "HealthBoard",
        "HealthTransition",
        "LeastLatencyStrategy",
        "MaintenanceCalendar",
        "OutlierSettings",
        "Phase",
        "ProviderHealth",
        "ProviderStatus",
        "RoutingKind",
        "RoutingStrategy",
        "WeightedStrategy",
        "Window",
        "build_strategy",
    ]
    assert seawall.routing.__all__ == sorted(seawall.routing.__all__)
    for name in seawall.routing.__all__:
        assert hasattr(seawall.routing, name), name


def test_values_are_frozen_slotted_and_keyword_only() -> None:
    """Settings and reported values are immutable, slotted, keyword-only dataclasses."""
    for cls in (
        seawall.routing.OutlierSettings,
        seawall.routing.ProviderHealth,
        seawall.routing.Window,
        seawall.routing.ActiveWindow,
    ):
        params = cls.__dataclass_params__  # type: ignore[union-attr]
        assert params.frozen, cls
        assert "__slots__" in cls.__dict__, cls
        assert all(f.kw_only for f in dataclasses.fields(cls)), cls
