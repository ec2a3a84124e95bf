"""Transports: the in-process httpx client and the upstream clients under it."""

from __future__ import annotations

from seawall.transports._aiohttp import AiohttpUpstream
from seawall.transports._client import CallInfo, SyncTransport, Transport, build_engine
from seawall.transports._headers import HOP_BY_HOP, octets, outbound_headers, outbound_url
from seawall.transports._httpx import HttpxUpstream
from seawall.transports._wire import WireUpstream

__all__ = [
    "HOP_BY_HOP",
    "AiohttpUpstream",
    "CallInfo",
    "HttpxUpstream",
    "SyncTransport",
    "Transport",
    "WireUpstream",
    "build_engine",
    "octets",
    "outbound_headers",
    "outbound_url",
]
