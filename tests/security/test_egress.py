"""Tests for seawall.security._egress and seawall.security._resolver (the SSRF guard)."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from seawall._errors import EgressDenied, UpstreamError
from seawall.config import Egress
from seawall.security import EgressPolicy, GuardedResolver, check_url_host

ip = ipaddress.ip_address
net = ipaddress.ip_network

DEFAULT = EgressPolicy()
PRIVATE_OK = EgressPolicy(allow_private_networks=True)

#: (address, reason) refused by default and admitted by allow_private_networks
PRIVATE = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.5", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade-nat"),
    ("100.127.255.254", "carrier-grade-nat"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "unique-local"),
    ("fd12:3456:789a::1", "unique-local"),
    ("fec0::1", "site-local"),
]

#: (address, reason) refused by default and still refused with allow_private_networks
ALWAYS = [
    ("169.254.169.254", "cloud-metadata"),
    ("fd00:ec2::254", "cloud-metadata"),
    ("169.254.170.2", "cloud-metadata"),
    ("169.254.170.23", "cloud-metadata"),
    ("fd00:ec2::23", "cloud-metadata"),
    ("100.100.100.200", "cloud-metadata"),
    ("192.0.0.192", "cloud-metadata"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.88.99.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("100::1", "reserved"),
    ("2001:2::1", "reserved"),
    ("4000::1", "reserved"),
    ("64:ff9b:1::a00:5", "local-nat64"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.1", "documentation"),
    ("203.0.113.1", "documentation"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    # IPv6 forms that carry an IPv4 address are judged as that address
    ("::ffff:169.254.169.254", "cloud-metadata via ipv4-mapped"),
    ("64:ff9b::a9fe:a9fe", "cloud-metadata via nat64"),
    ("::a9fe:a9fe", "cloud-metadata via ipv4-compatible"),
    ("2002:a9fe:a9fe::", "cloud-metadata via 6to4"),
    ("::ffff:0.0.0.0", "unspecified via ipv4-mapped"),
]

#: (address, reason) refused by default, judged by the IPv4 address inside
EMBEDDED = [
    ("::ffff:127.0.0.1", "loopback via ipv4-mapped"),
    ("::ffff:10.0.0.5", "private via ipv4-mapped"),
    ("64:ff9b::7f00:1", "loopback via nat64"),
    ("64:ff9b::192.168.0.1", "private via nat64"),
    ("::7f00:1", "loopback via ipv4-compatible"),
    ("2002:7f00:1::", "loopback via 6to4"),
    ("2002:c0a8:101::1", "private via 6to4"),
    # Teredo server 65.54.227.120, client 127.0.0.1 (obfuscated as ~0x7f000001)
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback via teredo"),
]

PUBLIC = [
    "93.184.215.14",
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.15.255.255",  # just below 172.16/12
    "172.32.0.0",  # just above 172.16/12
    "169.253.255.255",
    "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    "2001:4860:4860::8888",
    "::ffff:93.184.215.14",
    "64:ff9b::808:808",
    "2002:5db8:d70e::1",  # 6to4 of 93.184.215.14
    "2001:0:4136:e378:8000:63bf:a247:28f1",  # Teredo, client 93.184.215.14
]


def _exact(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    bare = ipaddress.ip_address(address.split("%", 1)[0])
    return ipaddress.ip_network(f"{bare}/{bare.max_prefixlen}")


@pytest.mark.parametrize(("address", "reason"), PRIVATE + ALWAYS + EMBEDDED)
def test_special_purpose_addresses_are_refused_by_default(address: str, reason: str) -> None:
    """Every non-public range and metadata endpoint is refused with its reason slug."""
    assert DEFAULT.check(ip(address)) == reason


@pytest.mark.parametrize(("address", "reason"), PRIVATE)
def test_allow_private_networks_admits_private_ranges(address: str, reason: str) -> None:
    """allow_private_networks admits loopback, RFC 1918, CGNAT, link-local and unique-local."""
    assert PRIVATE_OK.check(ip(address)) is None


@pytest.mark.parametrize(("address", "reason"), ALWAYS)
def test_allow_private_networks_never_admits_metadata_or_reserved(
    address: str, reason: str
) -> None:
    """Metadata endpoints, unspecified, multicast and reserved stay refused under allow_private_networks."""
    assert PRIVATE_OK.check(ip(address)) == reason


@pytest.mark.parametrize(("address", "reason"), EMBEDDED)
def test_allow_private_networks_admits_embedded_private_ipv4(address: str, reason: str) -> None:
    """An IPv6 form carrying a private IPv4 is admitted exactly when that IPv4 would be."""
    assert PRIVATE_OK.check(ip(address)) is None


@pytest.mark.parametrize(("address", "reason"), PRIVATE + ALWAYS + EMBEDDED)
def test_an_allow_entry_admits_the_address_it_contains(address: str, reason: str) -> None:
    """An address inside an allow network is admitted, metadata endpoints included."""
    assert EgressPolicy(allow=(_exact(address),)).check(ip(address)) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_admitted(address: str) -> None:
    """Globally reachable addresses, bare or carried in IPv6, are admitted."""
    assert DEFAULT.check(ip(address)) is None


def test_an_allow_entry_only_admits_what_it_contains() -> None:
    """Allowing 127.0.0.1/32 leaves 127.0.0.2 and ::1 refused."""
    policy = EgressPolicy(allow=(net("127.0.0.1/32"),))
    assert policy.check(ip("127.0.0.1")) is None
    assert policy.check(ip("127.0.0.2")) == "loopback"
    assert policy.check(ip("::1")) == "loopback"


def test_an_ipv4_allow_entry_admits_its_mapped_form() -> None:
    """::ffff:127.0.0.1 is judged as 127.0.0.1, so the IPv4 allow entry admits it."""
    policy = EgressPolicy(allow=(net("127.0.0.1/32"),))
    assert policy.check(ip("::ffff:127.0.0.1")) is None


def test_a_broad_allow_entry_admits_metadata_inside_it() -> None:
    """allow: [169.254.0.0/16] is an explicit choice that admits 169.254.169.254 too."""
    policy = EgressPolicy(allow=(net("169.254.0.0/16"),))
    assert policy.check(ip("169.254.169.254")) is None


def test_from_config_reads_the_egress_model() -> None:
    """EgressPolicy.from_config copies gateway.egress from the validated config model."""
    egress = Egress.model_validate({"allow_private_networks": True, "allow": ["127.0.0.1/32"]})
    policy = EgressPolicy.from_config(egress)
    assert policy == EgressPolicy(allow_private_networks=True, allow=(net("127.0.0.1/32"),))
    assert EgressPolicy.from_config(Egress()) == EgressPolicy()


def test_policy_is_a_frozen_hashable_value() -> None:
    """The policy is immutable and hashable even when built from a list."""
    policy = EgressPolicy(allow=[net("10.0.0.0/8")])  # type: ignore[arg-type]
    assert policy.allow == (net("10.0.0.0/8"),)
    assert hash(policy) == hash(EgressPolicy(allow=(net("10.0.0.0/8"),)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.allow_private_networks = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("169.254.169.254", "cloud-metadata"),
        ("[fd00:ec2::254]", "cloud-metadata"),
        ("[::ffff:127.0.0.1]", "loopback via ipv4-mapped"),
        ("[fe80::1%eth0]", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("2130706433", "loopback"),  # legacy decimal form of 127.0.0.1
        ("127.1", "loopback"),
        ("0x7f.0.0.1", "loopback"),
        ("0xa9fea9fe", "cloud-metadata"),
    ],
)
def test_check_url_host_refuses_ip_literals(host: str, reason: str) -> None:
    """An IP-literal host the policy refuses raises EgressDenied naming the reason."""
    with pytest.raises(EgressDenied) as caught:
        check_url_host(DEFAULT, host)
    assert f"[{reason}]" in str(caught.value)
    assert host in str(caught.value)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "api.stripe.com",
        "metadata.google.internal",
        "93.184.215.14",
        "[2001:4860:4860::8888]",
        "deadbeef",
        "1.2.3.4.example",
    ],
)
def test_check_url_host_passes_hostnames_and_public_literals(host: str) -> None:
    """Hostnames are left to the resolver; public literals pass."""
    check_url_host(DEFAULT, host)


def test_check_url_host_message_says_what_to_add() -> None:
    """The refusal names the host, why, and the allow entry or flag that admits it."""
    with pytest.raises(EgressDenied) as caught:
        check_url_host(DEFAULT, "10.0.0.5")
    error = caught.value
    assert isinstance(error, UpstreamError)
    assert error.reason == "egress-denied"
    assert "egress to 10.0.0.5 refused" in error.message
    assert "private address" in error.message
    assert 'add "10.0.0.5/32" to gateway.egress.allow' in error.message
    assert "allow_private_networks: true" in error.message


def test_metadata_refusal_does_not_suggest_allow_private_networks() -> None:
    """The flag cannot admit a metadata endpoint, so the message does not offer it."""
    with pytest.raises(EgressDenied) as caught:
        check_url_host(PRIVATE_OK, "169.254.169.254")
    assert 'add "169.254.169.254/32" to gateway.egress.allow' in caught.value.message
    assert "allow_private_networks" not in caught.value.message


def test_refusal_of_a_mapped_address_suggests_its_ipv4() -> None:
    """For ::ffff:169.254.169.254 the message shows and suggests the IPv4 it was judged as."""
    with pytest.raises(EgressDenied) as caught:
        check_url_host(DEFAULT, "[::ffff:169.254.169.254]")
    assert "(169.254.169.254) is a cloud metadata endpoint" in caught.value.message
    assert 'add "169.254.169.254/32" to gateway.egress.allow' in caught.value.message


def test_check_url_host_admits_allowed_literals() -> None:
    """A literal inside an allow network passes, bracketed IPv6 included."""
    policy = EgressPolicy(allow=(net("127.0.0.1/32"), net("::1/128")))
    check_url_host(policy, "127.0.0.1")
    check_url_host(policy, "[::1]")


class StubResolver(AbstractResolver):
    """Answers every lookup with fixed addresses and records the calls."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.calls: list[tuple[str, int, socket.AddressFamily]] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append((host, port, family))
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_resolver_drops_refused_addresses() -> None:
    """Of a refused and an allowed answer, only the allowed one reaches the connector."""
    inner = StubResolver("127.0.0.1", "93.184.215.14", "169.254.169.254")
    guard = GuardedResolver(policy=DEFAULT, resolver=inner)
    results = await guard.resolve("vendor.example", 443, family=socket.AF_UNSPEC)
    assert [r["host"] for r in results] == ["93.184.215.14"]
    assert inner.calls == [("vendor.example", 443, socket.AF_UNSPEC)]


async def test_resolver_refuses_when_every_address_is_refused() -> None:
    """A name that resolves only to refused addresses (DNS rebinding) raises EgressDenied."""
    guard = GuardedResolver(policy=DEFAULT, resolver=StubResolver("127.0.0.1", "::1"))
    with pytest.raises(EgressDenied) as caught:
        await guard.resolve("rebind.example", 80)
    message = caught.value.message
    assert "egress to rebind.example refused" in message
    assert "127.0.0.1 is a loopback address" in message
    assert 'add "127.0.0.1/32", "::1/128" to gateway.egress.allow' in message


async def test_resolver_keeps_addresses_the_policy_allows() -> None:
    """With an allow entry the matching address is kept and the rest still dropped."""
    policy = EgressPolicy(allow=(net("10.0.0.5/32"),))
    guard = GuardedResolver(policy=policy, resolver=StubResolver("10.0.0.5", "10.0.0.6"))
    assert [r["host"] for r in await guard.resolve("internal.example")] == ["10.0.0.5"]


async def test_resolver_fails_closed_on_an_unparsable_answer() -> None:
    """An answer that is not an IP address is dropped, never dialled."""
    guard = GuardedResolver(policy=DEFAULT, resolver=StubResolver("not-an-address"))
    with pytest.raises(EgressDenied, match="no usable address"):
        await guard.resolve("odd.example")


async def test_resolver_close_closes_the_wrapped_resolver() -> None:
    """Closing the guard releases the resolver it wraps."""
    inner = StubResolver()
    await GuardedResolver(policy=DEFAULT, resolver=inner).close()
    assert inner.closed


async def test_resolver_defaults_to_aiohttps_resolver() -> None:
    """Without an inner resolver the guard resolves through aiohttp's default one."""
    guard = GuardedResolver(policy=EgressPolicy(allow=(net("127.0.0.0/8"), net("::1/128"))))
    try:
        results = await guard.resolve("localhost", 80, family=socket.AF_UNSPEC)
    finally:
        await guard.close()
    assert results
    assert all(ip(r["host"]).is_loopback for r in results)


@asynccontextmanager
async def counting_server() -> AsyncIterator[tuple[int, list[str]]]:
    """A real aiohttp server on 127.0.0.1 recording the path of every request it gets."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="reached")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1], seen
    finally:
        await runner.cleanup()


async def _get_via_guard(policy: EgressPolicy, url: str) -> str:
    guard = GuardedResolver(policy=policy)
    connector = aiohttp.TCPConnector(resolver=guard, use_dns_cache=False)
    try:
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            return await response.text()
    finally:
        await guard.close()


@pytest.mark.realserver
async def test_connector_refuses_localhost_without_an_allow_entry() -> None:
    """Through a real TCPConnector, http://localhost is refused and the server sees nothing."""
    async with counting_server() as (port, seen):
        with pytest.raises(EgressDenied, match="egress to localhost refused"):
            await _get_via_guard(DEFAULT, f"http://localhost:{port}/refused")
        assert seen == []


@pytest.mark.realserver
async def test_connector_reaches_localhost_with_an_allow_entry() -> None:
    """With 127.0.0.1/32 and ::1/128 allowed, the same request reaches the server."""
    policy = EgressPolicy(allow=(net("127.0.0.1/32"), net("::1/128")))
    async with counting_server() as (port, seen):
        assert await _get_via_guard(policy, f"http://localhost:{port}/admitted") == "reached"
        assert seen == ["/admitted"]
