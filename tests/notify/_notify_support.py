"""Builders and loopback receivers shared by the notification tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web

from seawall.alerts._types import Transition
from seawall.config._operations import Notifications
from seawall.notify import AppriseDeliverer, MemoryNotificationLog, Notice, Notifier
from seawall.policies import BackoffSettings

T0 = 1_800_000_000.0  # a fixed wall time: 2027-01-15 08:00:00 UTC


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Mailbox:
    port: int
    mails: list[Mail] = field(default_factory=list)

    def url(self, to: str = "oncall@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=seawall@example.com&to={to}&mode=insecure"

    async def handle_DATA(self, server: Any, state: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class Hook:
    port: int
    status: int = 200
    payloads: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.status < 300:
            self.payloads.append(await request.json())
        return web.Response(status=self.status, text="ok" if self.status < 300 else "broken")


async def start_hook(status: int = 200) -> tuple[Hook, web.AppRunner]:
    """A webhook receiver on a free loopback port; clean up the runner when done."""
    receiver = Hook(port=free_port(), status=status)
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    return receiver, runner


def transition(
    rule: str = "payments-errors",
    *,
    at: float = T0,
    state: str = "firing",
    previous: str | None = None,
    integration: str | None = "payments",
    severity: str = "critical",
    value: float | None = 0.12,
    threshold: float | None = 0.05,
    summary: str = "",
    **labels: str,
) -> Transition:
    """A transition of rule ``rule`` for ``integration`` with extra ``labels``."""
    all_labels = {"alertname": rule, "severity": severity, **labels}
    if integration is not None:
        all_labels["integration"] = integration
    return Transition(
        rule=rule,
        labels=all_labels,
        state=state,  # type: ignore[arg-type]
        previous=previous or ("pending" if state == "firing" else "firing"),  # type: ignore[arg-type]
        at=at,
        value=value,
        threshold=threshold,
        summary=summary or f"{rule} above threshold",
        severity=severity,
        active_since=at - 120 if state == "firing" else None,
        fired_at=at if state == "firing" else None,
    )


def resolved(rule: str = "payments-errors", *, at: float, **kwargs: Any) -> Transition:
    return transition(rule, at=at, state="resolved", **kwargs)


def notifications(**data: Any) -> Notifications:
    """A ``notifications`` section; durations in plain seconds."""
    base: dict[str, Any] = {"group_wait": 30, "group_interval": 60, "repeat_every": 3600}
    base.update(data)
    return Notifications.model_validate(base)


def make_notifier(config: Notifications, **kwargs: Any) -> tuple[Notifier, MemoryNotificationLog]:
    """A notifier with real Apprise delivery, no throttle, and quick retries."""
    log = MemoryNotificationLog()
    options: dict[str, Any] = {
        "deliverer": AppriseDeliverer(timeout=5.0, throttle=0.0),
        "log": log,
        "attempts": 3,
        "backoff": BackoffSettings(initial=0.01, max=0.02, jitter="none"),
        "drain_timeout": 10.0,
    }
    options.update(kwargs)
    return Notifier(config, **options), log


def sent(notices: list[Notice]) -> list[tuple[str, str, int | None]]:
    """(target, kind, step) of each notice, in order."""
    return [(n.target, n.kind, n.step) for n in notices]


async def settle(notifier: Notifier) -> None:
    """Wait for queued deliveries; fail the test if they hang."""
    assert await notifier.drain(10.0), "deliveries did not finish"
    await asyncio.sleep(0)
