"""The address guard: connect only to public addresses, unless the config allows more (SSRF defence).

A feed or an article link must not be able to turn the daemon against the network it runs in. The guard
sits in the connection layer: every TCP connection (redirect hops included) resolves its host once, checks
every address, and connects to the checked address, so a DNS answer that changes between the check and the
connection (rebinding) cannot slip through. TLS still verifies the original host name.
``http.allow_private_networks`` turns the check off; ``http.allow_hosts`` lets named hosts, addresses or
CIDR ranges through (a feed on the intranet). Tests on 127.0.0.1 set ``allow_private_networks``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend
from httpcore._utils import is_socket_readable

from monitor.errors import BlockedAddressError, FetchError

Resolver = Callable[[str, int], Awaitable[Iterable[str]]]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse_allow_hosts(entries: Sequence[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Host names (lowercased) and networks (addresses become /32 or /128) from ``http.allow_hosts``."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        text = entry.strip().lower()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            names.add(text.rstrip("."))
    return frozenset(names), tuple(networks)


class AddressGuard:
    def __init__(
        self,
        *,
        allow_private: bool,
        allow_hosts: Sequence[str] = (),
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow_private = allow_private
        self.allowed_names, self.allowed_networks = parse_allow_hosts(allow_hosts)
        self._resolve = resolver

    def _allowed(self, host: str, address: str) -> bool:
        if self.allow_private or host.lower().rstrip(".") in self.allowed_names:
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in network for network in self.allowed_networks):
            return True
        return is_public_address(address)

    async def resolve(self, host: str, port: int, *, url: str = "") -> str:
        """The address to connect to for ``host``: resolved once, every answer checked."""
        bare = host.strip("[]")
        try:
            addresses = [str(ipaddress.ip_address(bare))]
        except ValueError:
            try:
                addresses = list(await self._resolve(bare, port))
            except (OSError, UnicodeError, ValueError) as exc:
                raise FetchError(f"fetcher: cannot resolve {bare}: {exc}", url=url or bare) from None
            if not addresses:
                raise FetchError(f"fetcher: {bare} resolves to no address", url=url or bare) from None
        for address in addresses:
            if not self._allowed(bare, address):
                raise BlockedAddressError(
                    f"fetcher: address guard refused {bare}: it resolves to non-public address {address} "
                    "(allow it with http.allow_hosts, or http.allow_private_networks)",
                    url=url or bare,
                )
        return addresses[0]

    async def check(self, url: str, host: str, port: int) -> None:
        """Raise unless every address of ``host`` is allowed (the connection layer does this for real)."""
        await self.resolve(host, port, url=url)


class _GuardedBackend(AutoBackend):
    """httpcore's network backend, connecting only to the address the guard checked."""

    def __init__(self, guard: AddressGuard) -> None:
        super().__init__()
        self.guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.guard.resolve(host, port, url=f"{host}:{port}")
        stream = await super().connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _KeptSocketStream(stream)


class _KeptSocketStream(httpcore.AsyncNetworkStream):
    """A connection's stream that answers httpcore's keep-alive question ("is_readable": has the server
    closed this idle connection?) from the socket it keeps. The pool asks it of every idle connection each
    time a request joins or leaves the pool, and anyio answers by building all of the socket's attributes
    (a ``getpeername`` call among them) each time: a tenth of the daemon's CPU at 30 hosts (issue 14)."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
    ) -> httpcore.AsyncNetworkStream:
        return _KeptSocketStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        return self._stream.get_extra_info(info)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, with its bookkeeping in linear time.

    httpcore 1.0 runs ``_assign_requests_to_connections`` whenever a request joins or leaves the pool, and
    for every idle connection counts the pool's connections by building a list of them (``len([c.is_idle()
    for c in connections])``): quadratic in the pool's size, some 500 calls a request at 30 hosts. This is
    the same method, the same decisions in the same order, with ``len(self._connections)`` for that count
    and the first match taken instead of a list of every match (issue 14)."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        # drop closed connections; close expired ones, and idle ones beyond the keep-alive limit
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired() or (
                connection.is_idle() and len(self._connections) > self._max_keepalive_connections
            ):
                self._connections.remove(connection)
                closing.append(connection)
        # queued requests: a connection that can take it, else a new one, else one in place of an idle one
        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            available = next(
                (c for c in self._connections if c.can_handle_request(origin) and c.is_available()), None
            )
            if available is not None:
                pool_request.assign_to_connection(available)
                continue
            if len(self._connections) >= self._max_connections:
                idle = next((c for c in self._connections if c.is_idle()), None)
                if idle is None:
                    continue  # stays queued until a connection is free
                self._connections.remove(idle)
                closing.append(idle)
            connection = self.create_connection(origin)
            self._connections.append(connection)
            pool_request.assign_to_connection(connection)
        return closing


def guarded_transport(guard: AddressGuard, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through the guard.

    httpx does not take a network backend, so the transport's connection pool is rebuilt with one (the
    pool settings are httpx's own, read back from the pool it made; httpx is pinned below 0.29).
    """
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    pool = transport._pool
    transport._pool = _Pool(
        ssl_context=pool._ssl_context,
        max_connections=pool._max_connections,
        max_keepalive_connections=pool._max_keepalive_connections,
        keepalive_expiry=pool._keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=_GuardedBackend(guard),
    )
    return transport
