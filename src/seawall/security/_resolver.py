"""The SSRF guard's connect-time half: a resolver that hands aiohttp only allowed addresses.

Checking a hostname's addresses and then letting the client resolve it again
is open to DNS rebinding -- the second answer can be 127.0.0.1 (OWASP SSRF
Prevention Cheat Sheet, "DNS pinning"). :class:`GuardedResolver` sits inside
``aiohttp.TCPConnector(resolver=...)``, so the addresses it returns are the
ones the connector dials (and caches): what is checked is what is connected to.

aiohttp never asks the resolver about an IP-literal host, so the upstream calls
:func:`~seawall.security.check_url_host` for those.
"""

from __future__ import annotations

import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from seawall._errors import EgressDenied
from seawall.security._egress import EgressPolicy, IpAddress, describe_refusal

__all__ = ["GuardedResolver"]


class GuardedResolver(AbstractResolver):
    """Resolves through ``resolver``, then drops every address ``policy`` refuses.

    Raises :class:`~seawall._errors.EgressDenied` when no address is left, so the
    connector never dials a refused one. ``resolver`` defaults to
    ``aiohttp.DefaultResolver``, created on first use inside the running loop;
    the guard owns the resolver it wraps and closes it in :meth:`close`.
    """

    def __init__(self, *, policy: EgressPolicy, resolver: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of ``host`` the policy admits, in the inner resolver's order."""
        if self._inner is None:
            self._inner = aiohttp.DefaultResolver()
        results = await self._inner.resolve(host, port, family=family)
        admitted: list[ResolveResult] = []
        refused: list[tuple[IpAddress, str]] = []
        for result in results:
            try:
                address = ipaddress.ip_address(result["host"])
            except ValueError:  # not an address: fail closed rather than dial it
                continue
            reason = self.policy.check(address)
            if reason is None:
                admitted.append(result)
            else:
                refused.append((address, reason))
        if not admitted:
            if not refused:
                msg = f"egress to {host} refused: it resolved to no usable address"
                raise EgressDenied(msg)
            raise EgressDenied(describe_refusal(host, refused))
        return admitted

    async def close(self) -> None:
        """Close the wrapped resolver."""
        if self._inner is not None:
            await self._inner.close()
