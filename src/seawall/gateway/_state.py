"""What a gateway server's connections share: settings, a coarse clock, the live set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from seawall.engine import Engine
from seawall.gateway._responses import date_line

if TYPE_CHECKING:
    from seawall.gateway._conn import GatewayConnection

__all__ = ["ServerState"]


class ServerState:
    """What a server's connections share: settings, the coarse clock, the live set."""

    __slots__ = (
        "connections",
        "date_line",
        "draining",
        "engine",
        "header_timeout",
        "idle_timeout",
        "max_body",
        "max_head",
        "now",
        "on_empty",
    )

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        max_body: int,
        max_head: int,
        header_timeout: float,
        idle_timeout: float,
        now: float,
    ) -> None:
        self.engine = engine
        self.max_body = max_body
        self.max_head = max_head
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        #: when set, every answer carries ``Connection: close`` and idle connections close
        self.draining = False
        #: the loop's time, refreshed by the server's tick: per-request code never reads a clock
        self.now = now
        self.date_line = date_line(time.time())
        self.connections: set[GatewayConnection] = set()
        #: resolved when the last connection is gone while draining
        self.on_empty: asyncio.Future[None] | None = None

    def forget(self, connection: GatewayConnection) -> None:
        self.connections.discard(connection)
        if not self.connections and self.on_empty is not None and not self.on_empty.done():
            self.on_empty.set_result(None)
