"""Which vendor addresses seawall may connect to: the SSRF guard's pure half.

A provider's ``base_url`` comes from configuration, and a hostname in it can
resolve anywhere -- including to a cloud metadata service that hands out
credentials, or to an admin port on localhost. Following the OWASP Server-Side
Request Forgery Prevention Cheat Sheet ("Case 2 - application can send requests
to ANY external IP address or domain name"), the guard judges the *address*, not
the name: :class:`EgressPolicy` refuses every range IANA lists as not globally
reachable, plus the cloud metadata endpoints, unless ``gateway.egress.allow``
names it.

Sources for the ranges, cited beside each table entry:

- IANA IPv4 Special-Purpose Address Registry (RFC 6890, updated by RFC 8190)
  https://www.iana.org/assignments/iana-ipv4-special-registry/
- IANA IPv6 Special-Purpose Address Registry
  https://www.iana.org/assignments/iana-ipv6-special-registry/
- OWASP SSRF Prevention Cheat Sheet
  https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html
- the cloud vendors' metadata documentation, named beside each address.

IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, the
deprecated IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``) reach that
IPv4 host, so they are judged as it; 6to4 and Teredo addresses are refused when
the IPv4 address they embed is.

Redirects need no check here: seawall never follows one (neither upstream
client does), so a vendor's 3xx goes back to the caller
as a response and no connection is made to the ``Location`` host.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from seawall._errors import EgressDenied

__all__ = ["EgressPolicy", "EgressSettings", "IpAddress", "IpNetwork", "check_url_host"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class EgressSettings(Protocol):
    """The shape of ``seawall.config.Egress``, read structurally.

    ``seawall.security`` and ``seawall.config`` are independent layers in the
    import-linter contract, so the policy reads the model by its attributes.
    """

    @property
    def allow_private_networks(self) -> bool: ...

    @property
    def allow(self) -> Iterable[IpNetwork]: ...


@dataclass(frozen=True, slots=True)
class _Range:
    network: IpNetwork
    reason: str
    #: True when ``allow_private_networks`` admits it (a network one runs oneself)
    private: bool = False


def _v4(cidr: str, reason: str, *, private: bool = False) -> _Range:
    return _Range(ipaddress.IPv4Network(cidr), reason, private)


def _v6(cidr: str, reason: str, *, private: bool = False) -> _Range:
    return _Range(ipaddress.IPv6Network(cidr), reason, private)


#: Instance-metadata endpoints: they hand out cloud credentials to whoever asks,
#: the classic SSRF prize (OWASP cheat sheet; Capital One 2019). Never admitted by
#: ``allow_private_networks``, only by an ``allow`` entry that contains them.
_METADATA: frozenset[IpAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner IMDS
        "169.254.169.254",
        # AWS IMDS over IPv6 (AWS EC2 User Guide, "Instance metadata service")
        "fd00:ec2::254",
        # AWS ECS task metadata and credentials endpoint (Amazon ECS Developer Guide)
        "169.254.170.2",
        # AWS EKS Pod Identity agent (Amazon EKS User Guide)
        "169.254.170.23",
        "fd00:ec2::23",
        # Alibaba Cloud ECS metadata (Alibaba Cloud ECS docs, "Instance metadata")
        "100.100.100.200",
        # Oracle Cloud legacy metadata (OCI docs, "Getting Instance Metadata")
        "192.0.0.192",
    )
)

#: First match wins, so a narrower range sits before the one containing it.
_IPV4_RANGES: tuple[_Range, ...] = (
    _v4("0.0.0.0/8", "unspecified"),  # "this network", RFC 791; Linux connects it to localhost
    _v4("10.0.0.0/8", "private", private=True),  # RFC 1918
    _v4("100.64.0.0/10", "carrier-grade-nat", private=True),  # shared address space, RFC 6598
    _v4("127.0.0.0/8", "loopback", private=True),  # RFC 1122 section 3.2.1.3
    _v4("169.254.0.0/16", "link-local", private=True),  # RFC 3927
    _v4("172.16.0.0/12", "private", private=True),  # RFC 1918
    _v4("192.0.0.0/24", "reserved"),  # IETF protocol assignments, RFC 6890
    _v4("192.0.2.0/24", "documentation"),  # TEST-NET-1, RFC 5737
    _v4("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast, RFC 7526
    _v4("192.168.0.0/16", "private", private=True),  # RFC 1918
    _v4("198.18.0.0/15", "reserved"),  # benchmarking, RFC 2544
    _v4("198.51.100.0/24", "documentation"),  # TEST-NET-2, RFC 5737
    _v4("203.0.113.0/24", "documentation"),  # TEST-NET-3, RFC 5737
    _v4("224.0.0.0/4", "multicast"),  # RFC 5771
    _v4("255.255.255.255/32", "broadcast"),  # limited broadcast, RFC 919 / RFC 8190
    _v4("240.0.0.0/4", "reserved"),  # reserved for future use, RFC 1112
)

_IPV6_RANGES: tuple[_Range, ...] = (
    _v6("::/128", "unspecified"),  # RFC 4291; Linux connects it to localhost
    _v6("::1/128", "loopback", private=True),  # RFC 4291
    # Local-use NAT64 (RFC 8215): the operator picks where the IPv4 address sits,
    # so it cannot be unwrapped and judged; only an allow entry admits it.
    _v6("64:ff9b:1::/48", "local-nat64"),
    _v6("100::/64", "reserved"),  # discard-only, RFC 6666
    _v6("2001:2::/48", "reserved"),  # benchmarking, RFC 5180
    _v6("2001:10::/28", "reserved"),  # deprecated ORCHID, RFC 4843
    _v6("2001:db8::/32", "documentation"),  # RFC 3849
    _v6("3fff::/20", "documentation"),  # RFC 9637
    _v6("fc00::/7", "unique-local", private=True),  # RFC 4193
    _v6("fe80::/10", "link-local", private=True),  # RFC 4291
    _v6("fec0::/10", "site-local", private=True),  # deprecated site-local, RFC 3879
    _v6("ff00::/8", "multicast"),  # RFC 4291
)

#: Global unicast, RFC 4291 section 2.4; IANA has allocated nothing outside it.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix, RFC 6052
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated, RFC 4291 section 2.5.5.1
_V4_MASK = 0xFFFFFFFF

#: what each reason means, for the error message
_EXPLAINED = {
    "unspecified": "an unspecified address (0.0.0.0/8 or ::), which reaches this host",
    "private": "a private address (RFC 1918)",
    "carrier-grade-nat": "a shared carrier-grade NAT address (100.64.0.0/10, RFC 6598)",
    "loopback": "a loopback address",
    "link-local": "a link-local address",
    "unique-local": "a unique-local IPv6 address (fc00::/7, RFC 4193)",
    "site-local": "a deprecated site-local IPv6 address (fec0::/10)",
    "local-nat64": "a local-use NAT64 address (64:ff9b:1::/48) whose IPv4 host is unknown",
    "cloud-metadata": "a cloud metadata endpoint, which hands out credentials",
    "documentation": "a documentation-only address",
    "multicast": "a multicast address",
    "broadcast": "the broadcast address",
    "reserved": "a reserved address that is not globally reachable",
}

#: the reasons ``allow_private_networks`` can lift
_PRIVATE_REASONS = frozenset(r.reason for r in (*_IPV4_RANGES, *_IPV6_RANGES) if r.private)

#: IPv4 in the legacy numeric forms inet_aton accepts: 2130706433, 127.1, 0x7f.0.0.1
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.I)


def _unwrapped(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 host an IPv6 address stands for, with the form's name, if it carries one."""
    if (mapped := address.ipv4_mapped) is not None:
        return "ipv4-mapped", mapped
    if address in _NAT64:
        return "nat64", ipaddress.IPv4Address(int(address) & _V4_MASK)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves
        return "ipv4-compatible", ipaddress.IPv4Address(int(address))
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class EgressPolicy:
    """Decides whether seawall may connect to an address; pure, no I/O.

    Refused by default: everything IANA's special-purpose registries mark as not
    globally reachable (loopback, RFC 1918, CGNAT, link-local, unique-local,
    unspecified, multicast, broadcast, documentation, reserved) and the cloud
    metadata endpoints. ``allow_private_networks`` admits the ranges one runs
    oneself (private, CGNAT, loopback, link-local, unique-local, site-local) but
    never a metadata endpoint. An address inside an ``allow`` network is always
    admitted -- a metadata endpoint too, since naming it there is explicit.
    """

    allow_private_networks: bool = False
    allow: tuple[IpNetwork, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow", tuple(self.allow))  # a list would break hashing

    @classmethod
    def from_config(cls, egress: EgressSettings) -> EgressPolicy:
        """The policy ``gateway.egress`` (a ``seawall.config.Egress``) describes."""
        return cls(allow_private_networks=egress.allow_private_networks, allow=tuple(egress.allow))

    def check(self, address: IpAddress) -> str | None:
        """None when seawall may connect to ``address``, else why not.

        The reason is a slug (``loopback``, ``private``, ``cloud-metadata`` ...);
        for an IPv6 address judged by the IPv4 address inside it, the form is
        appended: ``loopback via ipv4-mapped``.
        """
        if any(address in network for network in self.allow):
            return None
        if isinstance(address, ipaddress.IPv6Address):
            if (inner := _unwrapped(address)) is not None:
                form, v4 = inner
                reason = self.check(v4)
                return None if reason is None else f"{reason} via {form}"
            ranges = _IPV6_RANGES
        else:
            ranges = _IPV4_RANGES
        if _bare(address) in _METADATA:  # the set holds addresses without a zone index
            return "cloud-metadata"
        for entry in ranges:
            if address in entry.network:
                return None if entry.private and self.allow_private_networks else entry.reason
        if isinstance(address, ipaddress.IPv6Address):
            return self._check_tunnelled(address)
        return None

    def _check_tunnelled(self, address: ipaddress.IPv6Address) -> str | None:
        if address not in _IPV6_GLOBAL_UNICAST:
            return "reserved"
        if (v4 := address.sixtofour) is not None:  # 2002::/16, RFC 3056
            reason = self.check(v4)
            return None if reason is None else f"{reason} via 6to4"
        if (teredo := address.teredo) is not None:  # 2001::/32, RFC 4380
            for v4 in teredo:  # (server, client); the client is the real destination
                if (reason := self.check(v4)) is not None:
                    return f"{reason} via teredo"
        return None


def _literal(host: str) -> IpAddress | None:
    """The address an IP-literal URL host names, or None for a hostname."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Legacy forms (2130706433, 127.1, 0x7f.1) reach an IPv4 host through libc
    # without a resolver; aiohttp >= 3.14 rejects them, older versions do not.
    numeric = host.rstrip(".")
    if _LEGACY_IPV4.fullmatch(numeric):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(numeric))
        except OSError:
            return None
    return None


def _bare(address: IpAddress) -> IpAddress:
    """``address`` without an IPv6 zone index (fe80::1%eth0 -> fe80::1)."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        return ipaddress.IPv6Address(int(address))
    return address


def _judged_as(address: IpAddress) -> IpAddress:
    """The address the policy judged: the IPv4 inside a mapped/NAT64 form, no zone index."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _unwrapped(address)):
        return inner[1]
    return _bare(address)


def describe_refusal(host: str, refused: Iterable[tuple[IpAddress, str]]) -> str:
    """A user-facing message: which host and addresses, why, and how to admit them."""
    refused = list(refused)
    reasons = []
    for address, reason in refused:
        what = _EXPLAINED.get(reason.split(" via ", 1)[0], "not globally reachable")
        judged = _judged_as(address)
        shown = f"{address} ({judged})" if judged != _bare(address) else str(address)
        reasons.append(f"{shown} is {what} [{reason}]")
    suggested = dict.fromkeys(_judged_as(a) for a, _ in refused)
    entries = ", ".join(f'"{a}/{a.max_prefixlen}"' for a in suggested)
    remedy = f"add {entries} to gateway.egress.allow"
    if all(reason.split(" via ", 1)[0] in _PRIVATE_REASONS for _, reason in refused):
        remedy += " (or set gateway.egress.allow_private_networks: true)"
    return (
        f"egress to {host} refused: {'; '.join(reasons)}. "
        f"If this provider really lives there, {remedy}"
    )


def check_url_host(policy: EgressPolicy, host: str) -> None:
    """Raise :class:`EgressDenied` when ``host`` is an IP literal the policy refuses.

    aiohttp connects to an IP-literal host without asking its resolver, so
    :class:`~seawall.security.GuardedResolver` never sees it; the upstream calls
    this before each connection instead. Hostnames pass here untouched: their
    addresses are judged at resolve time.
    """
    address = _literal(host)
    if address is None:
        return
    reason = policy.check(address)
    if reason is not None:
        raise EgressDenied(describe_refusal(host, [(address, reason)]))
