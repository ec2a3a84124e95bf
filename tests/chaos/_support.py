"""Helpers the chaos tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from seawall.chaos import RunningSimulator

StartSimulator = Callable[..., Awaitable[RunningSimulator]]

#: what httpx raises when the server drops the connection without a response
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)

CHARGE = {"amount": 2000, "currency": "usd", "customer": "cus_1", "source": "tok_visa"}
DECLINED_CARD = "4000000000000002"
