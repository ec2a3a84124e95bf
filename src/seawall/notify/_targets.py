"""Who a notification can reach: channels and contacts, with their URLs held as secrets.

A contact is reached by its own Apprise ``url`` when it has one. With only an
``email``, seawall sends through the SMTP settings of the first ``mailto://``
or ``mailtos://`` channel in the configuration (server, port, account, sender
and security mode), with the recipient replaced by the contact's address and
any copies dropped. With neither, the contact is unreachable: the notifier
records that and asks the people already notified to call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from seawall._errors import ConfigError
from seawall._secrets import guard_logs, scheme_of
from seawall.config import Channel, Contact, Notifications

__all__ = ["ChannelTarget", "ContactTarget", "Targets", "check_references", "email_url"]

_EMAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelTarget:
    name: str
    url: SecretStr
    send_resolved: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactTarget:
    name: str
    #: the person or desk, e.g. "Stripe support"
    display: str
    phone: str | None
    url: SecretStr | None
    #: how the contact is reached: its own url, or its email through a mailto channel
    via: str | None
    #: why it cannot be reached, when ``url`` is None
    unreachable: str | None


def email_url(channel_url: str, address: str) -> str | None:
    """``channel_url`` (a mailto:// URL) sending to ``address`` only, or None."""
    import apprise

    guard_logs(channel_url)
    plugin: Any = apprise.Apprise.instantiate(channel_url, suppress_exceptions=True)
    if plugin is None or not hasattr(plugin, "targets"):
        return None
    plugin.targets = [(False, address)]
    for copies in ("cc", "bcc"):
        if hasattr(plugin, copies):
            setattr(plugin, copies, set())
    url = plugin.url()
    if not isinstance(url, str):
        return None
    guard_logs(url)
    return url


def _contact(name: str, contact: Contact, channels: Mapping[str, Channel]) -> ContactTarget:
    def target(url: SecretStr | None, via: str | None, why: str | None) -> ContactTarget:
        return ContactTarget(
            name=name,
            display=contact.name,
            phone=contact.phone,
            url=url,
            via=via,
            unreachable=why,
        )

    if contact.url is not None:
        return target(contact.url, "url", None)
    if contact.email is None:
        return target(None, None, f"{contact.name} has no url and no email address")
    for channel_name, channel in channels.items():
        raw = channel.url.get_secret_value()
        if scheme_of(raw) in _EMAIL_SCHEMES:
            url = email_url(raw, contact.email)
            if url is not None:
                return target(SecretStr(url), f"email through channel {channel_name}", None)
    return target(
        None,
        None,
        f"{contact.name} has only an email address and no mailto:// channel to send it through",
    )


class Targets:
    """Every channel and contact of ``notifications``, resolved once."""

    def __init__(self, config: Notifications) -> None:
        self.channels: dict[str, ChannelTarget] = {
            name: ChannelTarget(name=name, url=c.url, send_resolved=c.send_resolved)
            for name, c in config.channels.items()
        }
        self.contacts: dict[str, ContactTarget] = {
            name: _contact(name, c, config.channels) for name, c in config.contacts.items()
        }

    def __repr__(self) -> str:
        return f"Targets(channels={sorted(self.channels)}, contacts={sorted(self.contacts)})"

    def url(self, kind: str, name: str) -> SecretStr | None:
        if kind == "channel":
            channel = self.channels.get(name)
            return channel.url if channel else None
        contact = self.contacts.get(name)
        return contact.url if contact else None


def check_references(config: Notifications) -> None:
    """Every channel, contact and escalation a route or step names exists (ConfigError)."""
    problems: list[str] = []
    for i, route in enumerate(config.routes):
        problems.extend(
            f"notifications.routes[{i}].channels: there is no channel '{name}'"
            for name in route.channels
            if name not in config.channels
        )
        if route.escalation is not None and route.escalation not in config.escalations:
            problems.append(
                f"notifications.routes[{i}].escalation: there is no escalation '{route.escalation}'"
            )
    for chain, steps in config.escalations.items():
        for j, step in enumerate(steps):
            problems.extend(
                f"notifications.escalations.{chain}[{j}].notify: "
                f"there is no channel or contact '{name}'"
                for name in step.notify
                if name not in config.channels and name not in config.contacts
            )
    if problems:
        raise ConfigError("; ".join(problems))
