"""The fetcher's connection pool (issue 14): httpcore's own pool with its bookkeeping in linear time, and the
keep-alive check answered from the socket the connection keeps. Against a real keep-alive server on 127.0.0.x
that counts its connections, and can close each one after its response, as servers do when they time an idle
connection out (without saying so in a header)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
import pytest

from monitor.config import HttpSettings
from monitor.fetch import Fetcher
from monitor.fetch.guard import _KeptSocketStream, _Pool


class KeepAliveServer:
    """HTTP/1.1 with keep-alive on one port of several loopback addresses; counts connections and requests."""

    def __init__(self, *, close_after_response: bool = False) -> None:
        self.close_after_response = close_after_response
        self.connections = 0
        self.requests = 0
        self.servers: list[asyncio.Server] = []
        self.port = 0

    async def start(self, hosts: list[str]) -> None:
        first = await asyncio.start_server(self._serve, hosts[0], 0)
        self.port = first.sockets[0].getsockname()[1]
        self.servers = [first] + [await asyncio.start_server(self._serve, h, self.port) for h in hosts[1:]]

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                path = head.split(b" ", 2)[1]
                body = b"<p>page " + path + b"</p>"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
                if self.close_after_response:
                    await asyncio.sleep(0.05)  # the client has read the response and pooled the connection
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _run(server: KeepAliveServer, hosts: list[str], urls: list[str], **settings: Any) -> list[bytes]:
    async def go() -> list[bytes]:
        await server.start(hosts)
        options = {"allow_private_networks": True, "respect_robots": False, "per_host_delay": 0, **settings}
        try:
            async with Fetcher(HttpSettings(**options)) as fetcher:
                bodies = []
                for url in urls:
                    if server.close_after_response:
                        await asyncio.sleep(0.1)  # the server has closed the idle connection meanwhile
                    bodies.append((await fetcher.get(url.format(port=server.port))).content)
                return bodies
        finally:
            await server.stop()

    return asyncio.run(go())


def test_the_fetcher_uses_the_linear_pool_and_the_kept_socket_stream() -> None:
    async def go() -> tuple[object, object]:
        async with Fetcher(HttpSettings(allow_private_networks=True)) as fetcher:
            transport = fetcher._client._transport
            return type(getattr(transport, "_pool", None)), getattr(
                httpcore.AsyncConnectionPool, "_assign_requests_to_connections", None
            )

    pool_type, method = asyncio.run(go())
    assert pool_type is _Pool
    assert method is not None  # the method _Pool replaces is still the one httpcore calls
    assert issubclass(_KeptSocketStream, httpcore.AsyncNetworkStream)


def test_one_host_reuses_one_connection() -> None:
    server = KeepAliveServer()
    bodies = _run(server, ["127.0.0.1"], [f"http://127.0.0.1:{{port}}/a{i}" for i in range(30)])
    assert bodies == [f"<p>page /a{i}</p>".encode() for i in range(30)]
    assert server.requests == 30
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_reused() -> None:
    # without the keep-alive check (is_readable) the pool would send the next request down the closed
    # connection and fail with "Server disconnected without sending a response"
    server = KeepAliveServer(close_after_response=True)
    bodies = _run(server, ["127.0.0.1"], [f"http://127.0.0.1:{{port}}/b{i}" for i in range(5)])
    assert bodies == [f"<p>page /b{i}</p>".encode() for i in range(5)]
    assert server.connections == 5


def test_more_hosts_than_connections_close_idle_ones_to_make_room() -> None:
    hosts = [f"127.0.0.{i}" for i in range(2, 8)]
    urls = [f"http://{host}:{{port}}/c{round_}" for round_ in range(3) for host in hosts]
    server = KeepAliveServer()
    bodies = _run(server, hosts, urls, max_connections=3)
    assert len(bodies) == len(urls) == server.requests
    assert all(body.startswith(b"<p>page /c") for body in bodies)
    # six hosts through three connections, in turn: every request but the first three evicts an idle one
    assert server.connections == len(urls)


@pytest.mark.parametrize("max_connections", [1, 4])
def test_concurrent_requests_queue_for_a_full_pool(max_connections: int) -> None:
    hosts = [f"127.0.0.{i}" for i in range(2, 6)]
    server = KeepAliveServer()

    async def go() -> list[bytes]:
        await server.start(hosts)
        settings = HttpSettings(
            allow_private_networks=True,
            respect_robots=False,
            per_host_delay=0,
            max_connections=max_connections,
        )
        try:
            async with Fetcher(settings) as fetcher:
                urls = [f"http://{h}:{server.port}/d{i}" for i in range(5) for h in hosts]
                results = await asyncio.gather(*(fetcher.get(url) for url in urls))
                return [result.content for result in results]
        finally:
            await server.stop()

    bodies = asyncio.run(go())
    assert len(bodies) == 20 and all(body.startswith(b"<p>page /d") for body in bodies)
    assert server.requests == 20
    assert server.connections <= 20
