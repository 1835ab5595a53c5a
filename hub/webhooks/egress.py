"""Where outbound webhooks may go: public addresses only, unless config allows private ones.

A tenant types the URL, so it must not reach the hub's database, a cloud metadata service
(169.254.169.254) or anything else on the hub's own network. Every address a name resolves
to is checked at connection time by the client's resolver (so a name that resolves to a
public address when registered and a private one later is still refused), and an IP
literal, which aiohttp connects to without resolving, is checked before the request.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(OSError):
    """The destination is a private, loopback, link-local or otherwise non-public address."""


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address.is_global and not address.is_multicast


def check_address(text: str, allow_private: bool) -> None:
    """Raise ``BlockedAddress`` when ``text`` (an IP) may not be reached."""
    if allow_private:
        return
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if not is_public(address):
        raise BlockedAddress(f"{address} is not a public address")


def literal_host(url: str) -> str | None:
    """The URL's host when it is an IP literal (``[::1]`` gives ``::1``), else None."""
    host = URL(url).host or ""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


class PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp's threaded resolver, then refuses if any address is blocked."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        # Made on first use: aiohttp's resolver binds the running loop, and the app (with
        # this resolver) is built before ``chorus serve`` starts its loop.
        self._inner: ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        found = await self._inner.resolve(host, port, family)
        for result in found:
            check_address(result["host"], self.allow_private)
        return found

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


async def check_url(url: str, resolver: PublicOnlyResolver) -> None:
    """Raise ``BlockedAddress`` if ``url`` leads to an address the resolver refuses.

    A name that does not resolve now is let through: it is checked again on every delivery.
    """
    host = literal_host(url)
    if host is not None:
        check_address(host, resolver.allow_private)
        return
    try:
        await resolver.resolve(URL(url).host or "", 0, socket.AF_UNSPEC)
    except BlockedAddress:
        raise
    except OSError:
        return
