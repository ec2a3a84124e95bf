"""Which routes an alert takes, and which group it joins on each.

Routes are tried in order and the first whose ``match`` holds wins (every key
equal; ``{}`` matches all); a matching route with ``continue: true`` lets the
search go on, so one alert can reach several routes. On each route the alert
joins the group named by the route and the values of its ``group_by`` labels,
so related alerts go out as one message (Alertmanager's grouping).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from seawall.config import Route

__all__ = ["group_key", "group_labels", "matching_routes"]


def matching_routes(routes: Sequence[Route], labels: Mapping[str, str]) -> list[int]:
    """Indexes of the routes ``labels`` take, in order."""
    taken: list[int] = []
    for index, route in enumerate(routes):
        if all(labels.get(key) == value for key, value in route.match.items()):
            taken.append(index)
            if not route.continue_:
                break
    return taken


def group_labels(route: Route, labels: Mapping[str, str]) -> dict[str, str]:
    """The ``group_by`` labels of ``labels`` (an absent label groups as empty)."""
    return {key: labels.get(key, "") for key in route.group_by}


def group_key(route_index: int, grouped: Mapping[str, str]) -> str:
    """A readable, stable key: ``route0/integration=payments``."""
    parts = ",".join(f"{key}={value}" for key, value in grouped.items())
    return f"route{route_index}/{parts}"
