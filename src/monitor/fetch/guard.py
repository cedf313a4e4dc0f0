"""The address guard: refuse URLs that resolve to private, loopback or otherwise non-public addresses.

A feed or an article link must not be able to turn the daemon against the network it runs in (SSRF).
Checked before every request, redirects included. Tests on 127.0.0.1 set ``http.allow_private_networks``.
(A resolver that answers differently between this check and the connection, DNS rebinding, is closed in
issue "Daemon operations" by pinning the checked address in the transport.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

from monitor.errors import BlockedAddressError, FetchError

Resolver = Callable[[str, int], Awaitable[Iterable[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressGuard:
    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self._resolve = resolver

    async def check(self, url: str, host: str, port: int) -> None:
        if self.allow_private:
            return
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            try:
                addresses = list(await self._resolve(host, port))
            except (OSError, UnicodeError, ValueError) as exc:
                raise FetchError(f"fetcher: cannot resolve {host}: {exc}", url=url) from None
        for address in addresses:
            if not is_public_address(address):
                raise BlockedAddressError(
                    f"fetcher: {host} resolves to non-public address {address}; refused "
                    "(set http.allow_private_networks: true to allow)",
                    url=url,
                )
