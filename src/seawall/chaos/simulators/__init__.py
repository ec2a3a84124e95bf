"""The vendor simulators, by kind and dialect.

A kind is what the platform integrates (``payment``); a dialect is which
vendor's API it speaks (``stripe``, ``adyen``). The first dialect of a kind is
its default.
"""

from __future__ import annotations

from collections.abc import Callable

from seawall.chaos.simulators._base import SimulatorState, Vendor
from seawall.chaos.simulators.adyen import build_adyen
from seawall.chaos.simulators.mailgun import build_mailgun
from seawall.chaos.simulators.openweather import build_openweather
from seawall.chaos.simulators.salesforce import build_salesforce
from seawall.chaos.simulators.sendgrid import build_sendgrid
from seawall.chaos.simulators.shipbob import build_shipbob
from seawall.chaos.simulators.stripe import build_stripe

__all__ = ["DIALECTS", "SIMULATOR_KINDS", "SimulatorState", "Vendor", "build_vendor"]

_BUILDERS: dict[str, dict[str, Callable[[int | None], Vendor]]] = {
    "payment": {"stripe": build_stripe, "adyen": build_adyen},
    "inventory": {"shipbob": build_shipbob},
    "email": {"sendgrid": build_sendgrid, "mailgun": build_mailgun},
    "crm": {"salesforce": build_salesforce},
    "weather": {"openweather": build_openweather},
}

SIMULATOR_KINDS: tuple[str, ...] = ("payment", "inventory", "email", "crm", "weather")
DIALECTS: dict[str, tuple[str, ...]] = {kind: tuple(_BUILDERS[kind]) for kind in SIMULATOR_KINDS}


def build_vendor(kind: str, *, dialect: str | None = None, seed: int | None = None) -> Vendor:
    """The simulator for ``kind``; :class:`ValueError` names the valid choices."""
    builders = _BUILDERS.get(kind)
    if builders is None:
        msg = f"unknown simulator kind {kind!r}; choose one of: {', '.join(SIMULATOR_KINDS)}"
        raise ValueError(msg)
    chosen = dialect if dialect is not None else next(iter(builders))
    build = builders.get(chosen)
    if build is None:
        msg = (
            f"unknown dialect {dialect!r} for the {kind} simulator; "
            f"choose one of: {', '.join(builders)}"
        )
        raise ValueError(msg)
    return build(seed)
