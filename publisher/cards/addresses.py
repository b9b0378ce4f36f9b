"""Which network addresses a card image may be fetched from, and name lookups under a deadline.

A post's ``ogImageUrl`` is untrusted input (``publish check`` and ``publish preview`` run on
pull requests from anyone), so a fetch must not become a way to reach the machine running
the build: its loopback services, the private network of a CI runner, or a cloud metadata
endpoint at 169.254.169.254. Every address a host name resolves to is checked here before
any connection, on the first request and again on every redirect.

Refused by default: loopback, private (RFC 1918, unique-local IPv6), link-local, shared
(100.64.0.0/10), and IPv4 addresses hidden inside IPv6 ones (``::ffff:127.0.0.1``, 6to4,
Teredo, NAT64). A site may allow some of these with ``cards.remote.allow_private_networks``.
Never allowed, whatever the config says: unspecified (0.0.0.0, which Linux connects to
loopback), multicast, broadcast and reserved addresses, which no image is served from.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What ``allow_private_networks: true`` means: every network, minus the never-allowed kinds.
EVERY_NETWORK = ("0.0.0.0/0", "::/0")

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class LookupFailed(OSError):
    """The host name has no address (or the resolver said so); the message says which."""


class AddressRefused(Exception):
    """A host name or address that may not be fetched; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class AddressPolicy:
    """Networks a site has allowed on top of the public internet (empty: public only)."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_config(cls, networks: tuple[str, ...]) -> AddressPolicy:
        return cls(allowed=tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def allows(self, address: Address) -> bool:
        return any(address.version == n.version and address in n for n in self.allowed)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo client, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _never(address: Address) -> str | None:
    if address.is_loopback:  # ::1 sits inside IPv6's reserved ::/8 but is plain loopback
        return None
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address(
        "255.255.255.255"
    ):
        return "a broadcast address"
    if address.is_reserved:
        return "a reserved address"
    return None


def _kind(address: Address) -> str | None:
    """Why ``address`` is not a public internet address, or None when it is one."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata endpoints live there)"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared address (carrier-grade NAT)"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def refusal(address: Address, policy: AddressPolicy) -> str | None:
    """Why a connection to ``address`` is refused under ``policy``, or None if it is allowed."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "an IPv6 address with a zone, which only means something on this machine"
        inner = _embedded_ipv4(address)
        if inner is not None:
            # The connection reaches the IPv4 address, so that is the one judged.
            why = refusal(inner, policy)
            return None if why is None else f"{why} (as {inner} inside the IPv6 address)"
    never = _never(address)
    if never is not None:
        return never
    kind = _kind(address)
    if kind is None or policy.allows(address):
        return None
    return kind


def literal_address(host: str) -> Address | None:
    """``host`` as an IP address when it is written as one (``[::1]`` included)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int, policy: AddressPolicy, *, deadline: float) -> tuple[Address, ...]:
    """Every address ``host`` resolves to, all of them checked against ``policy``.

    One refused address refuses the host: a name that answers with both a public and a
    private address is how DNS rebinding starts. The lookup runs in a daemon thread so a
    slow resolver cannot outlive ``deadline`` (a ``time.monotonic()`` value).
    """
    literal = literal_address(host)
    if literal is not None:
        addresses: tuple[Address, ...] = (literal,)
    else:
        addresses = _lookup(host, port, deadline)
    for address in addresses:
        why = refusal(address, policy)
        if why is not None:
            shown = host if literal is not None else f"{host} ({address})"
            raise AddressRefused(f"{shown} is {why}")
    return addresses


def _lookup(host: str, port: int, deadline: float) -> tuple[Address, ...]:
    found: list[tuple[Address, ...]] = []
    failed: list[OSError] = []

    def run() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            failed.append(exc)
            return
        seen: dict[Address, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            text = str(sockaddr[0])
            seen.setdefault(ipaddress.ip_address(text.split("%", 1)[0]), None)
        found.append(tuple(seen))

    worker = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        raise TimeoutError(f"looking up {host} took too long")
    if failed:
        reason = failed[0].strerror or str(failed[0])
        raise LookupFailed(f"cannot look up {host} ({reason})")
    if not found or not found[0]:
        raise LookupFailed(f"{host} has no address")
    return found[0]
