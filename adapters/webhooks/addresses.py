"""Where a webhook may send: only to public addresses (SSRF refusal).

A URL's host is resolved (every A and AAAA record) and refused when any address is not
globally routable: private, loopback, link-local, multicast, reserved, unspecified,
shared, documentation, an IPv4-mapped or -translated IPv6 address of such, and so on
(``ipaddress``'s ``is_global``, and the mapped address checked as IPv4). The resolver
reads decimal, octal and hex IPv4 forms (``2130706433``, ``0177.0.0.1``) as it would for
a connection, so they are judged as the address they are. The caller connects to the
address checked, never resolving again (``Target.address``): a name that resolves
differently a moment later cannot reach a private address.

``advocate`` (the known library for this) wraps ``requests`` and has not been released
since 2020; the rule is short enough to keep here, with the standard library.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import msgspec

from commands.webhooks import RegisterWebhook
from domain.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port → the addresses it resolves to (tests swap it for a DNS that changes).
Resolver = Callable[[str, int], list[str]]


class Refused(InvalidInput):
    """A URL a webhook may not send to: not http(s), or pointing at a private address."""


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """A URL checked: where to connect (the address checked) and what to ask for."""

    scheme: str
    host: str  # as the URL says it (for Host and TLS)
    port: int
    address: str  # the checked address to connect to
    path: str  # path and query


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and not is_public(embedded):
            return False
        if address.teredo is not None:
            return False
        if address in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not address.is_multicast


def check(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> Target:
    """The target ``url`` names, resolved once and checked; ``Refused`` (422) otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("a webhook URL must be an http:// or https:// URL with a host.")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the webhook URL's port is not a number from 0 to 65535.") from None
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise Refused(f"the webhook URL's host {host!r} does not resolve ({error}).") from None
    if not found:
        raise Refused(f"the webhook URL's host {host!r} does not resolve.")
    addresses: list[IPAddress] = []
    for text in found:
        # A scoped IPv6 address (fe80::1%eth0) is link-local whatever its zone.
        addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"the webhook URL's host {host!r} is or resolves to {address}, which is "
                    "not a public address; webhooks go to public addresses only."
                )
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]), path=path)


def screen(command: object, *, allow_private: bool) -> None:
    """What every transport checks before a command runs that the domain cannot ask (DNS
    is not the domain's): where a webhook being registered may send. HTTP and the Kafka
    commands worker both call it, after the caller's right to run the command."""
    if isinstance(command, RegisterWebhook):
        check(command.url, allow_private=allow_private)
