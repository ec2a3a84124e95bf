"""Loopback servers for the notification tests: real SMTP (aiosmtpd) and real webhooks
(aiohttp) on 127.0.0.1; Apprise is never replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.controller import Controller

from ._notify_support import Hook, Mailbox, free_port, start_hook


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    receiver, runner = await start_hook()
    try:
        yield receiver
    finally:
        await runner.cleanup()
