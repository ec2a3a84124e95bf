"""The root configuration model: ``seawall.Config``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from seawall.config._base import Model
from seawall.config._fields import HostPort, IpNetwork, Name, PositiveDuration, Size
from seawall.config._integration import Integration
from seawall.config._operations import (
    AdminToken,
    Alert,
    Backups,
    Governance,
    Notifications,
    Sla,
)
from seawall.config._policy import Policy, merge_policy

__all__ = ["Admin", "Config", "Defaults", "Egress", "Gateway"]


class Egress(Model):
    """SSRF guard: which provider addresses seawall may connect to."""

    allow_private_networks: bool = False
    allow: tuple[IpNetwork, ...] = ()


class Gateway(Model):
    listen: HostPort = ("127.0.0.1", 8080)
    max_body: Size = 10 * 1000 * 1000
    egress: Egress = Egress()
    #: how long SIGTERM waits for in-flight calls before closing
    drain_timeout: PositiveDuration = 30.0


class Admin(Model):
    listen: HostPort = ("127.0.0.1", 8081)
    tokens: tuple[AdminToken, ...] = ()
    #: the address people reach the admin API at, for links in notifications
    #: (acknowledge); default: http://<listen>
    public_url: str | None = Field(default=None, pattern=r"^https?://")


class Defaults(Model):
    policy: Policy = Policy()


class Config(Model):
    """A validated seawall configuration. Build it with :func:`seawall.load_config`."""

    version: Literal[1] = 1
    store: str = Field(default="sqlite:///.seawall/state.db", pattern=r"^(sqlite|postgresql)")
    shared_state: str | None = Field(default=None, pattern=r"^(memory|rediss?)://")
    gateway: Gateway = Gateway()
    admin: Admin = Admin()
    defaults: Defaults = Defaults()
    integrations: dict[Name, Integration] = Field(default_factory=dict)
    slas: dict[Name, Sla] = Field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    notifications: Notifications = Notifications()
    backups: Backups | None = None
    governance: Governance = Governance()

    _policies: dict[str, Policy] = PrivateAttr(default_factory=dict)
    #: where the configuration was read from, for reloads and relative paths
    _origin: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _resolve_policies(self) -> Config:
        self._policies = {
            name: merge_policy(self.defaults.policy, integration.policy)
            for name, integration in self.integrations.items()
        }
        return self

    def policy(self, integration: str) -> Policy:
        """The effective policy of ``integration``: its block over ``defaults``."""
        return self._policies[integration]

    def integration(self, name: str) -> Integration:
        return self.integrations[name]

    @property
    def origin(self) -> str | None:
        return self._origin
